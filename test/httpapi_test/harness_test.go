// Package httpapi_test drives the HTTP adapter end to end over the memory
// store, and checks every live request and response against the OpenAPI
// document the server serves, with an OpenAPI 3.1 validator
// (libopenapi-validator), so the document stays true.
package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
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
	docOnce      sync.Once
	docModel     *v3.Document
	docValidator validator.Validator
	docErr       error
)

// openAPI loads the served document once and builds its validator: it
// refuses undeclared query parameters and headers' properties (strict mode)
// and bodies sent to operations that take none, as the server does.
func openAPI(t testing.TB) (*v3.Document, validator.Validator) {
	t.Helper()
	docOnce.Do(func() {
		doc, err := libopenapi.NewDocument(httpapi.OpenAPIDocument)
		if err != nil {
			docErr = err
			return
		}
		model, err := doc.BuildV3Model()
		if err != nil {
			docErr = err
			return
		}
		docModel = &model.Model
		v, errs := validator.NewValidator(doc, config.WithRejectUndeclaredRequestBody(), config.WithoutSecurityValidation())
		if len(errs) > 0 {
			docErr = errs[0]
			return
		}
		if ok, verrs := v.ValidateDocument(); !ok {
			docErr = fmt.Errorf("%d errors, first: %s", len(verrs), verrs[0].Error())
			return
		}
		docValidator = v
	})
	if docErr != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", docErr)
	}
	return docModel, docValidator
}

// harness is a server over a fresh memory store.
type harness struct {
	t     testing.TB
	srv   *httpapi.Server
	store domain.Store
	doc   *v3.Document
	check validator.Validator
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
	doc, check := openAPI(t)
	return &harness{t: t, srv: srv, store: store, doc: doc, check: check}
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
	op, ok := h.operation(hr)
	if !ok {
		if out.status != http.StatusNotFound && out.status != http.StatusMethodNotAllowed && out.status != http.StatusRequestURITooLong {
			h.t.Errorf("%s %s answered %d but the document has no such operation", r.method, r.path, out.status)
		}
		return
	}
	if out.status < 300 {
		if ok, errs := h.check.ValidateHttpRequest(r.build()); !ok {
			h.t.Errorf("%s %s succeeded (%d) but the document forbids the request: %s", r.method, r.path, out.status, describe(errs))
		}
	}
	res := &http.Response{StatusCode: out.status, Header: out.header, Request: hr,
		Body: io.NopCloser(bytes.NewReader(out.body)), ContentLength: int64(len(out.body))}
	if ok, errs := h.check.ValidateHttpResponse(r.build(), res); !ok {
		h.t.Errorf("%s %s: the %d response breaks the document: %s\nbody: %s", r.method, r.path, out.status, describe(errs), out.body)
	}
	// The validator checks a body against the declared content; a response
	// declared without content (a 204, a 304) must also carry none.
	if doc := op.Responses.Codes.GetOrZero(strconv.Itoa(out.status)); doc != nil && (doc.Content == nil || doc.Content.Len() == 0) {
		if len(out.body) > 0 || out.header.Get("Content-Type") != "" {
			h.t.Errorf("%s %s: the %d response is declared without content but has Content-Type %q and %d bytes",
				r.method, r.path, out.status, out.header.Get("Content-Type"), len(out.body))
		}
	}
}

// operation finds the document's operation of a request.
func (h *harness) operation(hr *http.Request) (*v3.Operation, bool) {
	for tmpl, item := range h.doc.Paths.PathItems.FromOldest() {
		if !templateMatches(tmpl, hr.URL.Path) {
			continue
		}
		if op := item.GetOperations().GetOrZero(strings.ToLower(hr.Method)); op != nil {
			return op, true
		}
		if hr.Method == http.MethodHead {
			if op := item.GetOperations().GetOrZero("get"); op != nil {
				return op, true
			}
		}
	}
	return nil, false
}

// templateMatches reports whether a document path such as /products/{id}
// matches path.
func templateMatches(tmpl, path string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if ts[i] != ps[i] {
			return false
		}
	}
	return true
}

type validationError = verrors.ValidationError

func describe(errs []*validationError) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n  ")
		b.WriteString(e.Message)
		if e.Reason != "" {
			b.WriteString(": " + e.Reason)
		}
		for _, se := range e.SchemaValidationErrors {
			b.WriteString("\n    " + se.FieldPath + ": " + se.Reason)
		}
	}
	return b.String()
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
