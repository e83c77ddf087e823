package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"

	"github.com/etalase/etalase/application"
)

// DefaultBodyLimit is the largest request body the API reads: 1 MiB.
const DefaultBodyLimit = 1 << 20

// MaxURILength is the longest request target (path and query) the API
// reads, in bytes; a longer one is a 414. The longest a client of this API
// needs (a list's cursor and search text at their limits) fits.
const MaxURILength = 4096

// readBufferSize bounds the request line and headers together; more is a
// 431. It is well above MaxURILength, so a long URL gets its own 414.
const readBufferSize = 16 << 10

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
	// Responses, when set, stores the responses of the routes the route
	// table caches; nil turns the cache off (they say X-Cache: BYPASS).
	Responses ResponseStore
	// CacheBypassed, if set, is called for every response a cached route
	// computed without the cache.
	CacheBypassed func()
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

// Services are the use cases the routes serve. The server is built with
// all of them: every route is in the route table.
type Services struct {
	Catalog *application.Catalog
	Reports *application.Reports
	Queues  *application.QueueAdmin
	// Console is the operator console, mounted at /admin (nil: none).
	Console Pages
}

// Pages are a set of pages with their own routes and rules, mounted by
// the route table.
type Pages interface {
	Routes(r fiber.Router)
}

// Server is the HTTP API: a fiber app with etalase's routes, middleware and
// error handling.
type Server struct {
	cfg    Config
	app    *fiber.App
	svc    Services
	log    *zap.Logger
	checks []Check
	keys   keyring

	mu sync.Mutex
	ln net.Listener
}

// New builds the server and registers every route of the route table; it
// does not listen yet.
func New(cfg Config, svc Services, log *zap.Logger, checks []Check) *Server {
	cfg = cfg.withDefaults()
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{
		cfg:    cfg,
		svc:    svc,
		log:    log,
		checks: checks,
		keys:   newKeyring(cfg.APIKeys, cfg.AdminKeys),
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "etalase",
		BodyLimit:             cfg.BodyLimit,
		ReadBufferSize:        readBufferSize,
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
	s.answerBeforeRouting()
	return s
}

// answerBeforeRouting answers two kinds of request with a problem before
// fiber routes them: a method fiber does not know (FOO, a lower-case get,
// garbage bytes), a 400 like every other bad request, which fiber itself
// would answer in plain text before the ErrorHandler runs; and a request
// target over MaxURILength, a 414.
func (s *Server) answerBeforeRouting() {
	known := make(map[string]bool)
	for _, m := range s.app.Config().RequestMethods {
		known[m] = true
	}
	srv := s.app.Server()
	next := srv.Handler
	srv.Handler = func(rc *fasthttp.RequestCtx) {
		tooLong := len(rc.RequestURI()) > MaxURILength
		if known[string(rc.Method())] && !tooLong {
			next(rc)
			return
		}
		c := s.app.AcquireCtx(rc)
		defer s.app.ReleaseCtx(c)
		if tooLong {
			_ = s.handleError(c, newHTTPError(fiber.StatusRequestURITooLong,
				"the request target is longer than "+strconv.Itoa(MaxURILength)+" bytes"))
			return
		}
		_ = s.handleError(c, errBadRequest("the request method is not an HTTP method"))
	}
}

// App returns the fiber app, for tests (app.Test).
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
