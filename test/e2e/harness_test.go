package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/etalase/etalase/bootstrap"
	"github.com/etalase/etalase/test/apiclient"
	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

// The keys every e2e service accepts.
const (
	apiSecret   = "e2e-writer-secret"
	adminSecret = "e2e-admin-secret"
)

// service is one running etalase api with its database proxy.
type service struct {
	base  string
	ops   string // OPS_ADDR's URL
	proxy *proxy
}

// backends prepares a fresh database behind a proxy and a private Redis,
// and returns the environment of an etalase process using them.
func backends(t *testing.T) (map[string]string, *proxy) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse test DSN: %v", err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.Addr()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	rs := redisproc.Start(t)
	return map[string]string{
		"HTTP_ADDR":        fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t)),
		"DATABASE_URL":     testproc.CapPool(u.String()),
		"REDIS_URL":        rs.URL(),
		"API_KEYS":         "writer:" + apiSecret,
		"ADMIN_KEYS":       "ops:" + adminSecret,
		"LOG_LEVEL":        "warn",
		"SHUTDOWN_TIMEOUT": "10s",
	}, px
}

// startAPI runs the fx application of `etalase api` in this process and
// stops it when the test ends.
func startAPI(t *testing.T) *service {
	t.Helper()
	return startAPIWith(t, nil)
}

// startAPIWith is startAPI with some variables of the environment set.
func startAPIWith(t *testing.T, env map[string]string) *service {
	t.Helper()
	vars, px := backends(t)
	// The app runs in this test binary beside others: its own OPS_ADDR.
	vars["OPS_ADDR"] = fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
	for k, v := range env {
		vars[k] = v
	}
	c, err := bootstrap.LoadConfig("api", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	runApp(t, "api", c)
	s := &service{base: "http://" + vars["HTTP_ADDR"], ops: "http://" + vars["OPS_ADDR"], proxy: px}
	waitReady(t, s.base+"/readyz")
	return s
}

// runApp wires and starts the fx application of command in this process
// and stops it when the test ends.
func runApp(t *testing.T, command string, c bootstrap.Config) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app, err := bootstrap.NewApp(ctx, command, c, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		t.Fatalf("wire etalase %s: %v", command, err)
	}
	if err := app.Start(ctx); err != nil {
		t.Fatalf("start etalase %s: %v", command, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := app.Stop(ctx); err != nil {
			t.Errorf("stop etalase %s: %v", command, err)
		}
	})
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 in time", url)
}

// response is what a request returned.
type response apiclient.Response

// JSON decodes the body into a generic map.
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.Body, err)
	}
	return m
}

// header is a request header; the constructors below name the common ones.
type header struct{ name, value string }

func bearer(secret string) header { return header{"Authorization", "Bearer " + secret} }

var (
	asWriter  = bearer(apiSecret)
	asAdmin   = bearer(adminSecret)
	jsonBody  = header{"Content-Type", "application/json"}
	mergeBody = header{"Content-Type", "application/merge-patch+json"}
)

// do sends one request. A string body is sent as is.
func (s *service) do(t *testing.T, method, path, body string, headers ...header) response {
	t.Helper()
	hs := make([]apiclient.Header, len(headers))
	for i, h := range headers {
		hs[i] = apiclient.Header{Name: h.name, Value: h.value}
	}
	c := &apiclient.Client{Base: s.base, HTTP: &http.Client{Timeout: 20 * time.Second}}
	r, err := c.Do(method, path, body, hs...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return response(r)
}

// want fails the test unless r has the status.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
	return r
}

// createCategory makes a category and returns its id.
func (s *service) createCategory(t *testing.T, name string) int64 {
	t.Helper()
	r := s.do(t, "POST", "/categories", fmt.Sprintf(`{"name":%q}`, name), asWriter, jsonBody).want(t, 201)
	return id(t, r.JSON(t))
}

// createProduct makes a product from a JSON body and returns it.
func (s *service) createProduct(t *testing.T, body string) map[string]any {
	t.Helper()
	return s.do(t, "POST", "/products", body, asWriter, jsonBody).want(t, 201).JSON(t)
}

func id(t *testing.T, m map[string]any) int64 {
	t.Helper()
	f, ok := m["id"].(float64)
	if !ok || f <= 0 {
		t.Fatalf("no positive id in %v", m)
	}
	return int64(f)
}

// problem checks that r is an RFC 9457 problem of its status and returns
// the field names it lists.
func (r response) problem(t *testing.T) []string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("problem %q: %v", r.Body, err)
	}
	if p.Status != r.Status || p.Title == "" || p.Type == "" {
		t.Fatalf("problem %s does not match status %d or lacks type/title", r.Body, r.Status)
	}
	for _, leak := range []string{"SQLSTATE", "pgx", "postgres://", "goroutine "} {
		if bytes.Contains(r.Body, []byte(leak)) {
			t.Fatalf("problem leaks internals (%s): %s", leak, r.Body)
		}
	}
	fields := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		if e.Message == "" {
			t.Fatalf("field error %q without message: %s", e.Field, r.Body)
		}
		fields[i] = e.Field
	}
	return fields
}
