package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const (
	writerSecret = "writer-secret-0123456789"
	adminSecret  = "admin-secret-0123456789"
)

// newTestServer builds a server without a catalog: every request here is
// answered before a use case would run.
func newTestServer(t *testing.T, checks ...Check) (*Server, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	s := New(Config{
		APIKeys:   []APIKey{{Name: "writer", Secret: writerSecret}},
		AdminKeys: []APIKey{{Name: "root", Secret: adminSecret}},
	}, Services{}, zap.New(core), checks)
	return s, logs
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) problem(t *testing.T) problemJSON {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != MIMEProblemJSON {
		t.Fatalf("content type %q, want %s; body %s", ct, MIMEProblemJSON, r.body)
	}
	var p problemJSON
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %s: %v", r.body, err)
	}
	if p.Status != r.status || p.Type == "" || p.Title == "" || p.Detail == "" || p.RequestID == "" {
		t.Fatalf("incomplete problem %+v for status %d", p, r.status)
	}
	return p
}

func send(t *testing.T, app *fiber.App, req *http.Request) result {
	t.Helper()
	resp, err := app.Test(req, 5000)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body}
}

func request(method, target, body string, header ...string) *http.Request {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func TestErrorsBeforeTheUseCase(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	auth := "Bearer " + writerSecret
	json := "application/json"
	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantField  string
	}{
		{"write without key", request("POST", "/products", `{}`, "Content-Type", json), 401, ""},
		{"write with unknown key", request("DELETE", "/products/1", ``, "Authorization", "Bearer nope"), 401, ""},
		{"basic instead of bearer", request("PATCH", "/categories/1", `{}`, "Authorization", "Basic "+writerSecret), 401, ""},
		{"unknown route", request("GET", "/nothing/here", ``), 404, ""},
		{"wrong method", request("PUT", "/products/1", `{}`), 405, ""},
		{"not json", request("POST", "/products", `name=x`, "Authorization", auth, "Content-Type", "application/x-www-form-urlencoded"), 415, ""},
		{"no content type", request("POST", "/categories", `{"name":"x"}`, "Authorization", auth), 415, ""},
		{"other charset", request("POST", "/categories", `{"name":"x"}`, "Authorization", auth, "Content-Type", "application/json; charset=latin1"), 415, ""},
		{"merge patch on create", request("POST", "/categories", `{"name":"x"}`, "Authorization", auth, "Content-Type", MIMEMergePatchJSON), 415, ""},
		{"malformed json", request("POST", "/products", `{"name":`, "Authorization", auth, "Content-Type", json), 400, ""},
		{"trailing data", request("POST", "/products", `{"name":"a"} {}`, "Authorization", auth, "Content-Type", json), 400, ""},
		{"array body", request("POST", "/products", `[1,2]`, "Authorization", auth, "Content-Type", json), 400, ""},
		{"null body", request("POST", "/products", `null`, "Authorization", auth, "Content-Type", json), 400, ""},
		{"empty body", request("POST", "/categories", ``, "Authorization", auth, "Content-Type", json), 400, ""},
		{"deep nesting", request("POST", "/products", strings.Repeat("[", 20000), "Authorization", auth, "Content-Type", json), 400, ""},
		{"bad path id", request("GET", "/products/abc", ``), 400, "id"},
		{"zero path id", request("GET", "/categories/0", ``), 400, "id"},
		{"negative path id", request("PATCH", "/products/-1", `{}`, "Authorization", auth, "Content-Type", json), 400, "id"},
		{"overlong path id", request("DELETE", "/products/99999999999999999999", ``, "Authorization", auth), 400, "id"},
		{"bad limit", request("GET", "/products?limit=0", ``), 400, "limit"},
		{"huge limit", request("GET", "/categories?limit=101", ``), 400, "limit"},
		{"bad cursor", request("GET", "/products?cursor=%21%21", ``), 400, "cursor"},
		{"bad categoryId", request("GET", "/products?categoryId=x", ``), 400, "categoryId"},
		{"bad sort", request("GET", "/products?sort=colour", ``), 400, "sort"},
		{"q not utf-8", request("GET", "/products?q=%ff", ``), 400, "q"},
		{"bad idempotency key", request("POST", "/products", `{}`, "Authorization", auth, "Content-Type", json, "Idempotency-Key", "has space"), 400, "Idempotency-Key"},
		{"unknown field", request("POST", "/categories", `{"name":"a","colour":1}`, "Authorization", auth, "Content-Type", json), 422, "colour"},
		{"wrong type", request("POST", "/categories", `{"name":5}`, "Authorization", auth, "Content-Type", json), 422, "name"},
		{"invalid utf-8 value", request("POST", "/categories", "{\"name\":\"\xff\"}", "Authorization", auth, "Content-Type", json), 422, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, s.App(), tt.req)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			p := r.problem(t)
			if tt.wantField != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tt.wantField) {
				t.Fatalf("errors %+v, want field %s first", p.Errors, tt.wantField)
			}
			if tt.wantStatus == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if tt.wantStatus == 405 && r.header.Get("Allow") != "DELETE, GET, HEAD, PATCH" {
				t.Fatalf("405 with Allow %q", r.header.Get("Allow"))
			}
		})
	}
}

func TestCreateProductListsEveryBadField(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	body := `{"sku":"bad sku!","name":"  ","description":5,"price":"1.999","stock":-1,"categoryId":0,"colour":"red"}`
	r := send(t, s.App(), request("POST", "/products", body, "Authorization", "Bearer "+writerSecret, "Content-Type", "application/json"))
	if r.status != 422 {
		t.Fatalf("status %d, want 422; body %s", r.status, r.body)
	}
	got := map[string]bool{}
	for _, f := range r.problem(t).Errors {
		got[f.Field] = true
	}
	for _, f := range []string{"sku", "name", "description", "price", "stock", "categoryId", "colour"} {
		if !got[f] {
			t.Errorf("field %s not listed in %s", f, r.body)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	// app.Test surfaces fasthttp's error instead of the response, so this
	// goes over a real connection. The body is announced and not sent: the
	// server answers from the headers, and a client still writing when it
	// closes could see a reset instead of the answer.
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	conn, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /categories HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", writerSecret, DefaultBodyLimit+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, body: body}
	if r.status != 413 {
		t.Fatalf("status %d, want 413", r.status)
	}
	r.problem(t)
}

func TestAdminGuard(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	s.App().Get("/test-admin", s.RequireAdmin(), func(c *fiber.Ctx) error { return c.SendString(KeyName(c)) })
	tests := []struct {
		auth       string
		wantStatus int
		wantBody   string
	}{
		{"", 401, ""},
		{"Bearer wrong", 401, ""},
		{"Bearer " + writerSecret, 403, ""},
		{"Bearer " + adminSecret, 200, "root"},
		{"bearer " + adminSecret, 200, "root"},
	}
	for _, tt := range tests {
		r := send(t, s.App(), request("GET", "/test-admin", "", "Authorization", tt.auth))
		if r.status != tt.wantStatus {
			t.Errorf("auth %q: status %d, want %d", tt.auth, r.status, tt.wantStatus)
		}
		if tt.wantBody != "" && string(r.body) != tt.wantBody {
			t.Errorf("auth %q: key name %q, want %q", tt.auth, r.body, tt.wantBody)
		}
	}
}

func TestPanicBecomesGeneric500(t *testing.T) {
	t.Parallel()
	s, logs := newTestServer(t)
	s.App().Get("/test-panic", func(*fiber.Ctx) error { panic("secret dsn postgres://u:pw@db") })
	s.App().Get("/test-error", func(*fiber.Ctx) error { return errors.New("select * from secret") })
	for _, path := range []string{"/test-panic", "/test-error"} {
		r := send(t, s.App(), request("GET", path, "", "X-Request-ID", "trace-"+path[6:]))
		if r.status != 500 {
			t.Fatalf("%s: status %d, want 500", path, r.status)
		}
		p := r.problem(t)
		if strings.Contains(string(r.body), "secret") || p.Detail != genericInternalDetail {
			t.Fatalf("%s: internal text leaked: %s", path, r.body)
		}
		if p.RequestID != "trace-"+path[6:] {
			t.Fatalf("%s: request id %q not honoured", path, p.RequestID)
		}
		failed := logs.FilterMessage("request failed").FilterField(zap.String("request_id", p.RequestID))
		if failed.Len() != 1 {
			t.Fatalf("%s: %d 'request failed' lines, want 1", path, failed.Len())
		}
	}
	if logs.FilterMessage("http request").Len() != 2 {
		t.Fatalf("want one access line per request, got %d", logs.FilterMessage("http request").Len())
	}
	for _, e := range logs.All() {
		for _, f := range e.Context {
			if f.Key == "authorization" {
				t.Fatal("authorization logged")
			}
		}
	}
}

func TestRequestIDs(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tests := []struct {
		incoming string
		honoured bool
	}{
		{"abc-123", true},
		{"", false},
		{"has space", false},
		{"quote\"d", false},
		{strings.Repeat("a", maxRequestID+1), false},
	}
	for _, tt := range tests {
		r := send(t, s.App(), request("GET", "/healthz", "", "X-Request-ID", tt.incoming))
		got := r.header.Get(HeaderRequestID)
		if got == "" || (got == tt.incoming) != tt.honoured {
			t.Errorf("incoming %q: response id %q", tt.incoming, got)
		}
	}
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	fail := func(context.Context) error { return errors.New("dial tcp password=hunter2") }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name       string
		checks     []Check
		wantStatus int
		want       readyJSON
	}{
		{"all ok", []Check{{"postgres", true, ok}, {"redis", false, ok}}, 200,
			readyJSON{"ok", map[string]string{"postgres": "ok", "redis": "ok"}}},
		{"redis down", []Check{{"postgres", true, ok}, {"redis", false, fail}}, 200,
			readyJSON{"degraded", map[string]string{"postgres": "ok", "redis": "error: unavailable"}}},
		{"postgres down", []Check{{"postgres", true, fail}, {"redis", false, ok}}, 503,
			readyJSON{"unavailable", map[string]string{"postgres": "error: unavailable", "redis": "ok"}}},
		{"postgres hangs", []Check{{"postgres", true, hang}}, 503,
			readyJSON{"unavailable", map[string]string{"postgres": "error: unavailable"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, tt.checks...)
			s.cfg.ReadyTimeout = 200 * time.Millisecond
			r := send(t, s.App(), request("GET", "/readyz", ""))
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d", r.status, tt.wantStatus)
			}
			var got readyJSON
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want.Status || len(got.Checks) != len(tt.want.Checks) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for k, v := range tt.want.Checks {
				if got.Checks[k] != v {
					t.Fatalf("check %s = %q, want %q", k, got.Checks[k], v)
				}
			}
			if strings.Contains(string(r.body), "hunter2") {
				t.Fatal("check error text leaked")
			}
		})
	}
}

func TestListenServeShutdown(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	other, _ := newTestServer(t)
	if err := other.Listen(addr); err == nil {
		t.Fatal("listening on a taken port succeeded")
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz status %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("still accepting after shutdown")
	}
}

func TestDocsAreServed(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tests := []struct {
		path, contentType, contains string
	}{
		{"/openapi.yaml", "application/yaml", "openapi: 3.1.0"},
		{"/docs", fiber.MIMETextHTMLCharsetUTF8, `<redoc spec-url="/openapi.yaml">`},
		{"/docs/" + redocAsset, "text/javascript; charset=utf-8", "Redoc"},
	}
	for _, tt := range tests {
		r := send(t, s.App(), request("GET", tt.path, ""))
		if r.status != 200 || r.header.Get("Content-Type") != tt.contentType || !strings.Contains(string(r.body), tt.contains) {
			t.Errorf("%s: status %d, type %q", tt.path, r.status, r.header.Get("Content-Type"))
		}
	}
}

func TestAccessLogLine(t *testing.T) {
	t.Parallel()
	s, logs := newTestServer(t)
	tests := []struct {
		req       *http.Request
		wantRoute string
		wantCode  int64
		wantKey   string
		wantLevel zapcore.Level
	}{
		{request("GET", "/products/abc", ""), "/products/:id", 400, "", zapcore.InfoLevel},
		{request("GET", "/nowhere", ""), "unmatched", 404, "", zapcore.InfoLevel},
		{request("POST", "/categories", "{", "Authorization", "Bearer "+writerSecret, "Content-Type", "application/json"), "/categories", 400, "writer", zapcore.InfoLevel},
		// Probes every few seconds would drown the rest.
		{request("GET", "/healthz", ""), "/healthz", 200, "", zapcore.DebugLevel},
		{request("GET", "/readyz", ""), "/readyz", 200, "", zapcore.DebugLevel},
	}
	for _, tt := range tests {
		r := send(t, s.App(), tt.req)
		id := r.header.Get(HeaderRequestID)
		lines := logs.FilterMessage("http request").FilterField(zap.String("request_id", id)).All()
		if len(lines) != 1 {
			t.Fatalf("%s %s: %d access lines", tt.req.Method, tt.req.URL, len(lines))
		}
		if lines[0].Level != tt.wantLevel {
			t.Errorf("%s %s logged at %s, want %s", tt.req.Method, tt.req.URL, lines[0].Level, tt.wantLevel)
		}
		f := lines[0].ContextMap()
		if f["method"] != tt.req.Method || f["route"] != tt.wantRoute || f["status"] != tt.wantCode {
			t.Errorf("access line %v", f)
		}
		if _, ok := f["duration"]; !ok {
			t.Errorf("access line without duration: %v", f)
		}
		if got, _ := f["key"].(string); got != tt.wantKey {
			t.Errorf("key %q, want %q", got, tt.wantKey)
		}
		for _, v := range f {
			if s, ok := v.(string); ok && strings.Contains(s, writerSecret) {
				t.Fatalf("secret logged: %v", f)
			}
		}
	}
}
