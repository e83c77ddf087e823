package httpapi

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/etalase/etalase/domain"
)

// access says who may call a route.
type access int

const (
	// public: anyone; reads are public.
	public access = iota
	// writer: an API key (or an admin key), as a bearer token.
	writer
	// admin: an admin key (ADMIN_KEYS).
	admin
)

// route is one line of the route table: the method and path template, who
// may call it, the query parameters it reads (any other, an empty one or a
// repeated one is a 400), whether it takes a request body (one sent to a
// route that takes none is a 400), its response cache rule (nil: not
// cached) and its handler. A mounted line (mount) hands its path to a set
// of pages with rules of their own (the operator console signs its users
// in with a session): it registers them, and nothing else applies here.
type route struct {
	method  string
	path    string
	access  access
	query   []string
	body    bool
	cache   *CacheRule
	mount   func(fiber.Router)
	handler fiber.Handler
}

// The query parameters of the lists.
var (
	productListQuery  = []string{"categoryId", "cursor", "limit", "q", "sort"}
	categoryListQuery = []string{"cursor", "limit"}
)

// routeTable is the whole outside of the API, as the OpenAPI document
// describes it. The handlers of a resource are in the file of its name.
func (s *Server) routeTable() []route {
	products, categories := cached(domain.ResourceProducts), cached(domain.ResourceCategories)
	table := []route{
		// Liveness and readiness (health.go).
		{method: fiber.MethodGet, path: "/healthz", handler: s.healthz},
		{method: fiber.MethodGet, path: "/readyz", handler: s.readyz},

		// The OpenAPI document and the page that renders it (docs.go).
		{method: fiber.MethodGet, path: "/openapi.yaml", handler: s.openAPI},
		{method: fiber.MethodGet, path: "/docs", handler: s.docs},
		{method: fiber.MethodGet, path: "/docs/" + redocAsset, handler: s.docsScript},

		// Products (products.go).
		{method: fiber.MethodGet, path: "/products", query: productListQuery, cache: products, handler: s.listProducts},
		{method: fiber.MethodPost, path: "/products", access: writer, body: true, handler: s.createProduct},
		{method: fiber.MethodGet, path: "/products/:id", cache: products, handler: s.getProduct},
		{method: fiber.MethodPatch, path: "/products/:id", access: writer, body: true, handler: s.patchProduct},
		{method: fiber.MethodDelete, path: "/products/:id", access: writer, handler: s.deleteProduct},

		// Categories (categories.go).
		{method: fiber.MethodGet, path: "/categories", query: categoryListQuery, cache: categories, handler: s.listCategories},
		{method: fiber.MethodPost, path: "/categories", access: writer, body: true, handler: s.createCategory},
		{method: fiber.MethodGet, path: "/categories/:id", cache: categories, handler: s.getCategory},
		{method: fiber.MethodPatch, path: "/categories/:id", access: writer, body: true, handler: s.patchCategory},
		{method: fiber.MethodDelete, path: "/categories/:id", access: writer, handler: s.deleteCategory},

		// Reports of products (reports.go).
		{method: fiber.MethodPost, path: "/products/:id/reports", access: writer, handler: s.requestReport},
		{method: fiber.MethodGet, path: "/products/:id/reports", handler: s.listReports},
		{method: fiber.MethodGet, path: "/reports/:id", handler: s.getReport},

		// The job queues, for operators (admin.go).
		{method: fiber.MethodGet, path: "/admin/queues", access: admin, handler: s.queueCounts},
		{method: fiber.MethodGet, path: "/admin/queues/:queue/failed", access: admin, handler: s.failedJobs},
		{method: fiber.MethodPost, path: "/admin/queues/:queue/failed/:job/retry", access: admin, handler: s.retryJob},
	}
	// The operator console's pages, beside the JSON admin API (the console
	// package).
	if s.svc.Console != nil {
		table = append(table, route{path: "/admin", mount: s.svc.Console.Routes})
	}
	return table
}

// routes installs the middleware every request passes, outermost first,
// then every route of the table with its own middleware in this order:
// access, query, body, cache, handler.
func (s *Server) routes() {
	app := s.app
	if s.cfg.Observe != nil {
		app.Use(s.cfg.Observe)
	}
	app.Use(s.requestID, s.accessLog, recoverPanics())
	for _, r := range s.routeTable() {
		s.add(r)
	}
}

// add registers one route of the table.
func (s *Server) add(r route) {
	var chain []fiber.Handler
	switch r.access {
	case public:
	case writer:
		chain = append(chain, s.requireKey)
	case admin:
		chain = append(chain, s.requireAdmin)
	}
	if r.mount != nil {
		r.mount(s.app)
		return
	}
	query := slices.Sorted(slices.Values(r.query))
	chain = append(chain, onlyQuery(query))
	if !r.body {
		chain = append(chain, noBody)
	}
	if r.cache != nil {
		chain = append(chain, s.responseCache(*r.cache, query, strings.HasSuffix(r.path, "/:id")))
	}
	chain = append(chain, r.handler)
	if r.method == fiber.MethodGet {
		s.app.Get(r.path, chain...) // and HEAD
		return
	}
	s.app.Add(r.method, r.path, chain...)
}
