// Package httpapi_test drives the HTTP adapter end to end over the memory
// store, and checks every live request and response against the embedded
// OpenAPI document so the document stays true.
package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

const (
	aliceSecret = "alice-secret-0123456789"
	bobSecret   = "bob-secret-0123456789"
	rootSecret  = "root-secret-0123456789"
)

var (
	docOnce   sync.Once
	docRouter routers.Router
	docErr    error
)

// openAPIRouter loads and validates the embedded document once.
func openAPIRouter(t testing.TB) routers.Router {
	t.Helper()
	docOnce.Do(func() {
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.RegisteredBodyDecoder("text/plain"))
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(httpapi.OpenAPIDocument)
		if err != nil {
			docErr = err
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			docErr = err
			return
		}
		docRouter, docErr = legacy.NewRouter(doc)
	})
	if docErr != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", docErr)
	}
	return docRouter
}

// harness is a server over a fresh memory store.
type harness struct {
	t      testing.TB
	srv    *httpapi.Server
	store  domain.Store
	router routers.Router
}

// openStore opens a fresh, empty store for one test.
type openStore func(testing.TB) domain.Store

// backends are the stores the suite runs over: the memory twin and a
// private PostgreSQL database per test (which fails, never skips, when the
// server is unreachable).
var backends = []struct {
	name string
	open openStore
}{
	{"memory", func(testing.TB) domain.Store { return memory.New() }},
	{"postgres", func(t testing.TB) domain.Store { return pgtest.NewStore(t) }},
}

// forEachBackend runs fn once per backend, in parallel subtests.
func forEachBackend(t *testing.T, fn func(t *testing.T, open openStore)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.open)
		})
	}
}

func newHarness(t testing.TB) *harness {
	return newHarnessOver(t, memory.New())
}

func newHarnessOver(t testing.TB, store domain.Store) *harness {
	t.Helper()
	srv := httpapi.New(httpapi.Config{
		APIKeys:   []httpapi.APIKey{{Name: "alice", Secret: aliceSecret}, {Name: "bob", Secret: bobSecret}},
		AdminKeys: []httpapi.APIKey{{Name: "root", Secret: rootSecret}},
	}, httpapi.Services{
		Catalog: application.NewCatalog(store),
		Reports: application.NewReports(store, 0),
		Queues:  application.NewQueueAdmin(newFakeInspector()),
	}, zap.NewNop(), []httpapi.Check{
		{Name: "postgres", Critical: true, Run: store.Ping},
	})
	return &harness{t: t, srv: srv, store: store, router: openAPIRouter(t)}
}

// req describes one request.
type req struct {
	method, path string
	body         string
	key          string // a secret; sent as a bearer token
	header       map[string]string
}

func (r req) build() *http.Request {
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		hr.Header.Set("Authorization", "Bearer "+r.key)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	return hr
}

// resp is what came back.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// problemFields returns the fields a problem response lists.
func (r resp) problemFields(t testing.TB) []string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != httpapi.MIMEProblemJSON {
		t.Fatalf("content type %q, want problem+json; body %s", ct, r.body)
	}
	var p struct {
		Status int `json:"status"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Status != r.status {
		t.Fatalf("bad problem %s (%v)", r.body, err)
	}
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// do sends the request through app.Test and validates the exchange
// against the OpenAPI document: the response always, the request whenever
// the server accepted it (a request the document forbids must not succeed).
func (h *harness) do(r req) resp {
	h.t.Helper()
	res, err := h.srv.App().Test(r.build(), 10000)
	if err != nil {
		h.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		h.t.Fatalf("read body: %v", err)
	}
	out := resp{status: res.StatusCode, header: res.Header, body: body}
	h.validate(r, out)
	return out
}

func (h *harness) validate(r req, out resp) {
	h.t.Helper()
	hr := r.build()
	route, params, err := h.router.FindRoute(hr)
	if err != nil {
		if out.status != http.StatusNotFound && out.status != http.StatusMethodNotAllowed {
			h.t.Errorf("%s %s answered %d but the document has no such operation: %v", r.method, r.path, out.status, err)
		}
		return
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request: hr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if out.status < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			h.t.Errorf("%s %s succeeded (%d) but the document forbids the request: %v", r.method, r.path, out.status, err)
		}
	}
	check := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: out.status, Header: out.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	check.SetBodyBytes(bytes.Clone(out.body))
	if err := openapi3filter.ValidateResponse(ctx, check); err != nil {
		h.t.Errorf("%s %s: the %d response breaks the document: %v\nbody: %s", r.method, r.path, out.status, err, out.body)
	}
}

// must sends r and fails unless the status is want.
func (h *harness) must(want int, r req) resp {
	h.t.Helper()
	out := h.do(r)
	if out.status != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", r.method, r.path, out.status, want, out.body)
	}
	return out
}

func (h *harness) createCategory(name string) int64 {
	h.t.Helper()
	out := h.must(http.StatusCreated, req{method: "POST", path: "/categories", key: aliceSecret,
		body: `{"name":` + quote(name) + `}`})
	return int64(out.json(h.t)["id"].(float64))
}

func (h *harness) createProduct(body string) map[string]any {
	h.t.Helper()
	return h.must(http.StatusCreated, req{method: "POST", path: "/products", key: aliceSecret, body: body}).json(h.t)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
