package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"

	"github.com/etalase/etalase/application"
)

// DefaultBodyLimit is the largest request body the API reads: 1 MiB.
const DefaultBodyLimit = 1 << 20

// APIKey is a named secret a client presents as a bearer token. The name is
// what logs and reports show; the secret never leaves the server.
type APIKey struct {
	Name   string
	Secret string
}

// Config is what the server needs to know beyond its collaborators.
type Config struct {
	// APIKeys may write (POST, PATCH, DELETE).
	APIKeys []APIKey
	// AdminKeys may write and use the /admin routes.
	AdminKeys []APIKey
	// BodyLimit caps request bodies in bytes; 0 means DefaultBodyLimit.
	BodyLimit int
	// ReadTimeout, WriteTimeout and IdleTimeout bound a connection's phases;
	// 0 means the defaults of New.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// ReadyTimeout bounds all readiness checks together; 0 means 2s.
	ReadyTimeout time.Duration
	// RetryAfter is what a 503 tells clients to wait; 0 means 5s.
	RetryAfter time.Duration
	// Observe, when set, wraps every request outermost (the metrics
	// middleware), so it sees the status the error handler chose.
	Observe fiber.Handler
	// Cache, when set, runs before the product and category routes (the
	// response cache).
	Cache fiber.Handler
}

func (c Config) withDefaults() Config {
	if c.BodyLimit <= 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 15 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = 5 * time.Second
	}
	return c
}

// Check is one readiness probe of a dependency. A failing critical check
// makes /readyz answer 503; a failing non-critical one only degrades it.
type Check struct {
	Name     string
	Critical bool
	Run      func(ctx context.Context) error
}

// Server is the HTTP API: a fiber app with etalase's routes, middleware and
// error handling.
type Server struct {
	cfg     Config
	app     *fiber.App
	catalog *application.Catalog
	log     *zap.Logger
	checks  []Check
	keys    keyring

	mu sync.Mutex
	ln net.Listener
}

// New builds the server and registers every route; it does not listen yet.
func New(cfg Config, catalog *application.Catalog, log *zap.Logger, checks []Check) *Server {
	cfg = cfg.withDefaults()
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{
		cfg:     cfg,
		catalog: catalog,
		log:     log,
		checks:  checks,
		keys:    newKeyring(cfg.APIKeys, cfg.AdminKeys),
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "etalase",
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		StrictRouting:         false,
		CaseSensitive:         true,
		UnescapePath:          false,
	})
	s.routes()
	s.answerUnknownMethods()
	return s
}

// answerUnknownMethods makes a request with a method fiber does not know
// (FOO, a lower-case get, garbage bytes) a 400 problem like every other bad
// request: fiber itself would answer it in plain text before the
// ErrorHandler runs.
func (s *Server) answerUnknownMethods() {
	known := make(map[string]bool)
	for _, m := range s.app.Config().RequestMethods {
		known[m] = true
	}
	srv := s.app.Server()
	next := srv.Handler
	srv.Handler = func(rc *fasthttp.RequestCtx) {
		if known[string(rc.Method())] {
			next(rc)
			return
		}
		c := s.app.AcquireCtx(rc)
		defer s.app.ReleaseCtx(c)
		_ = s.handleError(c, errBadRequest("the request method is not an HTTP method"))
	}
}

// routes registers every route in one place. Reads are public; writes go
// through requireKey and the admin routes through requireAdmin.
func (s *Server) routes() {
	app := s.app
	if s.cfg.Observe != nil {
		app.Use(s.cfg.Observe)
	}
	app.Use(s.requestID, s.accessLog, recoverPanics())

	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/openapi.yaml", s.openAPI)
	app.Get("/docs", s.docs)
	app.Get("/docs/"+redocAsset, s.docsScript)

	if s.cfg.Cache != nil {
		app.Use(s.cfg.Cache)
	}
	app.Get("/products", s.listProducts)
	app.Post("/products", s.requireKey, s.createProduct)
	app.Get("/products/:id", s.getProduct)
	app.Patch("/products/:id", s.requireKey, s.patchProduct)
	app.Delete("/products/:id", s.requireKey, s.deleteProduct)

	app.Get("/categories", s.listCategories)
	app.Post("/categories", s.requireKey, s.createCategory)
	app.Get("/categories/:id", s.getCategory)
	app.Patch("/categories/:id", s.requireKey, s.patchCategory)
	app.Delete("/categories/:id", s.requireKey, s.deleteCategory)
}

// App returns the fiber app, for tests (app.Test) and for adding routes.
func (s *Server) App() *fiber.App { return s.app }

// Listen binds addr synchronously, so a taken port is an error here, and
// then serves in a goroutine until Shutdown.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	go func() {
		if err := s.app.Listener(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("http server stopped", zap.Error(err))
		}
	}()
	return nil
}

// Addr returns the address the server listens on, or nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.app.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
