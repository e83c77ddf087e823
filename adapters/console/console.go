// Package console is the operator's web console at /admin: server-rendered
// pages (html/template, assets embedded, no CDN) over the application's
// Console use cases, behind a sign-in with an admin key.
//
// It owns the pages, the session cookie, CSRF tokens and the sign-in rate
// limit. It imports domain and application only, never another adapter:
// the queue, the history and the cache reach it through application ports.
package console

import (
	"embed"
	"html/template"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"go.uber.org/zap"

	"github.com/etalase/etalase/application"
)

//go:embed templates/*.html assets/*
var files embed.FS

// Config tunes the console.
type Config struct {
	// AdminKeys may sign in; WriterKeys are refused by name.
	AdminKeys  []Key
	WriterKeys []Key
	// SessionTTL is how long a session lasts; 0 means 8h.
	SessionTTL time.Duration
	// SignInLimit is how many failed sign-ins one client IP may make per
	// minute; 0 means 5.
	SignInLimit int
	// Poll is how often open pages refresh themselves; 0 means 5s.
	Poll time.Duration
}

// Console serves the console's pages.
type Console struct {
	cfg   Config
	app   *application.Console
	keys  keyring
	log   *zap.Logger
	pages map[string]*template.Template
	now   func() time.Time
}

// New returns the console over the use cases.
func New(cfg Config, app *application.Console, log *zap.Logger) *Console {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.SignInLimit <= 0 {
		cfg.SignInLimit = 5
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if log == nil {
		log = zap.NewNop()
	}
	c := &Console{cfg: cfg, app: app, keys: newKeyring(cfg.AdminKeys, cfg.WriterKeys), log: log,
		pages: map[string]*template.Template{}, now: time.Now}
	for _, p := range []string{"signin", "overview", "jobs", "job", "reports", "report", "product", "error"} {
		c.pages[p] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(files, "templates/layout.html", "templates/attempts.html", "templates/"+p+".html"))
	}
	return c
}

// Routes registers the console's pages under /admin on r. The JSON admin
// API (/admin/queues...) keeps its own paths beside them.
func (c *Console) Routes(r fiber.Router) {
	assets, _ := fs.Sub(files, "assets")
	r.Get("/admin/assets/:name", c.headers, func(ctx *fiber.Ctx) error { return c.asset(ctx, assets) })
	r.Get("/admin/signin", c.headers, c.signInPage)
	r.Post("/admin/signin", c.headers, c.sameSite, limiter.New(limiter.Config{
		Max:                    c.cfg.SignInLimit,
		Expiration:             time.Minute,
		SkipSuccessfulRequests: true,
		KeyGenerator:           func(ctx *fiber.Ctx) string { return ctx.IP() },
		LimitReached: func(ctx *fiber.Ctx) error {
			return c.render(ctx.Status(fiber.StatusTooManyRequests), "signin", page{Title: "Sign in",
				Error: "Too many failed sign-ins from your address. Wait a minute and try again."})
		},
	}), c.signIn)

	g := r.Group("/admin", c.headers)
	pages := map[string]fiber.Handler{
		"/":            c.overview,
		"/jobs":        c.jobs,
		"/job":         c.job,
		"/reports":     c.reports,
		"/reports/:id": c.report,
		"/product":     c.product,
	}
	for path, h := range pages {
		g.Get(path, c.requireSession, h)
	}
	g.Post("/signout", c.requireSession, c.requireCSRF, c.signOut)
	g.Post("/job", c.requireSession, c.requireCSRF, c.jobAction)
	g.Post("/jobs/bulk", c.requireSession, c.requireCSRF, c.bulkAction)
	g.Post("/queue", c.requireSession, c.requireCSRF, c.queueAction)
}

// headers keeps console pages out of caches and frames and limits what
// they may load to this origin.
func (c *Console) headers(ctx *fiber.Ctx) error {
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	ctx.Set(fiber.HeaderXFrameOptions, "DENY")
	ctx.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	ctx.Set(fiber.HeaderReferrerPolicy, "same-origin")
	ctx.Set(fiber.HeaderContentSecurityPolicy, "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
		"script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	return ctx.Next()
}

// sameSite refuses a sign-in posted from another site (login CSRF): the
// browser says where a request comes from.
func (c *Console) sameSite(ctx *fiber.Ctx) error {
	if s := ctx.Get("Sec-Fetch-Site"); s == "cross-site" || s == "same-site" {
		return c.fail(ctx, fiber.StatusForbidden, "This form may only be sent from the console itself.")
	}
	return ctx.Next()
}

// localSession is the fiber local holding the request's session.
const localSession = "etalase.console.session"

// requireSession lets a request through with a valid session cookie and
// sends anyone else to the sign-in page.
func (c *Console) requireSession(ctx *fiber.Ctx) error {
	s, ok := c.keys.verify(ctx.Cookies(cookieName), c.now())
	if !ok {
		if ctx.Method() != fiber.MethodGet {
			return c.fail(ctx, fiber.StatusForbidden, "Your session has ended. Sign in again.")
		}
		return ctx.Redirect("/admin/signin?next="+url.QueryEscape(string(ctx.Request().URI().RequestURI())), fiber.StatusSeeOther)
	}
	ctx.Locals(localSession, s)
	return ctx.Next()
}

// requireCSRF refuses a state-changing request without this session's
// token.
func (c *Console) requireCSRF(ctx *fiber.Ctx) error {
	s, _ := ctx.Locals(localSession).(session)
	if !s.validCSRF(ctx.FormValue("csrf")) {
		c.log.Warn("console request without a valid csrf token", zap.String("path", ctx.Path()), zap.String("user", s.name))
		return c.fail(ctx, fiber.StatusForbidden, "This form is out of date or did not come from the console. Reload the page and try again.")
	}
	return ctx.Next()
}

// page is what every template receives.
type page struct {
	Title  string
	Nav    string
	User   string
	CSRF   string
	PollMS int64
	Notice string
	Error  string
	Data   any
}

func (c *Console) page(ctx *fiber.Ctx, title, nav string, data any) page {
	s, _ := ctx.Locals(localSession).(session)
	p := page{Title: title, Nav: nav, User: s.name, Data: data, PollMS: c.cfg.Poll.Milliseconds()}
	if s.name != "" {
		p.CSRF = s.csrf()
	}
	p.Notice = notice(ctx.Query("done"), ctx.Query("n"))
	return p
}

func (c *Console) render(ctx *fiber.Ctx, name string, p page) error {
	var b strings.Builder
	if err := c.pages[name].Execute(&b, p); err != nil {
		c.log.Error("render console page", zap.String("page", name), zap.Error(err))
		ctx.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return ctx.Status(fiber.StatusInternalServerError).SendString("the page could not be rendered")
	}
	ctx.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return ctx.SendString(b.String())
}

// fail renders the error page with status and a message for the operator.
func (c *Console) fail(ctx *fiber.Ctx, status int, msg string) error {
	p := c.page(ctx, "Error", "", nil)
	p.Error, p.PollMS = msg, 0
	return c.render(ctx.Status(status), "error", p)
}

func (c *Console) asset(ctx *fiber.Ctx, assets fs.FS) error {
	name := ctx.Params("name")
	b, err := fs.ReadFile(assets, name)
	if err != nil || strings.ContainsAny(name, "/\\") {
		return c.fail(ctx, fiber.StatusNotFound, "No such file.")
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		ctx.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		ctx.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	}
	ctx.Set(fiber.HeaderCacheControl, "no-cache")
	return ctx.Send(b)
}
