package httpapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestOpsRoutes checks what the operators' listener answers: the registry
// at /metrics, pprof, health, and readiness with the API's rules; nothing
// of the API.
func TestOpsRoutes(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounter(prometheus.CounterOpts{Name: "etalase_ops_test_total", Help: "A test counter."})
	reg.MustRegister(counter)
	counter.Inc()
	var down atomic.Bool
	checks := []Check{{Name: "postgres", Critical: true, Run: func(context.Context) error {
		if down.Load() {
			return errors.New("dial postgres://hunter2@db: refused")
		}
		return nil
	}}}
	h := NewOps(OpsConfig{Metrics: reg, Checks: checks, ReadyTimeout: 200 * time.Millisecond}, nil).Handler()
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/metrics", 200, "etalase_ops_test_total 1"},
		{"/debug/pprof/", 200, "goroutine"},
		{"/debug/pprof/goroutine?debug=1", 200, "goroutine profile"},
		{"/debug/pprof/cmdline", 200, ""},
		{"/healthz", 200, `{"status":"ok"}`},
		{"/readyz", 200, `{"status":"ok","checks":{"postgres":"ok"}}`},
		{"/products", 404, ""},
		{"/", 404, ""},
	}
	for _, tt := range tests {
		if status, body := get(tt.path); status != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("GET %s = %d %.120q, want %d with %q", tt.path, status, body, tt.status, tt.body)
		}
	}
	down.Store(true)
	if status, body := get("/readyz"); status != 503 || !strings.Contains(body, `"postgres":"error: unavailable"`) || strings.Contains(body, "hunter2") {
		t.Errorf("GET /readyz without PostgreSQL = %d %s, want 503 without the error's text", status, body)
	}
}

// TestOpsListen checks that a taken address fails Listen and that the
// listener serves until Shutdown.
func TestOpsListen(t *testing.T) {
	t.Parallel()
	o := NewOps(OpsConfig{Metrics: prometheus.NewRegistry()}, nil)
	if err := o.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := o.Addr().String()
	if err := NewOps(OpsConfig{Metrics: prometheus.NewRegistry()}, nil).Listen(addr); err == nil {
		t.Fatalf("a second listener on %s started", addr)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /healthz = %d", resp.StatusCode)
	}
	if err := o.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the listener still accepts after Shutdown")
	}
}
