package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/test/testproc"
)

// opsGet fetches url and returns its status and body.
func opsGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// wantReady checks a /readyz answer: 200, status ok, and every named check
// ok.
func wantReady(t *testing.T, url string, checks ...string) {
	t.Helper()
	status, body := opsGet(t, url)
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &ready) != nil || ready.Status != "ok" {
		t.Fatalf("GET %s = %d %s, want 200 status ok", url, status, body)
	}
	for _, c := range checks {
		if ready.Checks[c] != "ok" {
			t.Errorf("GET %s: check %s = %q, want ok (%s)", url, c, ready.Checks[c], body)
		}
	}
}

// TestOpsListenerOfAPI runs `etalase api`: /metrics and pprof answer on
// OPS_ADDR and are 404 on HTTP_ADDR; health and readiness answer on both;
// `etalase healthcheck` follows readiness.
func TestOpsListenerOfAPI(t *testing.T) {
	t.Parallel()
	vars, px := backends(t)
	base := "http://" + vars["HTTP_ADDR"]
	p := testproc.Start(t, vars, "api")
	p.WaitHTTP(t, base+"/readyz", 30*time.Second)
	ops := p.OpsURL()

	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/cmdline"} {
		if status, body := opsGet(t, base+path); status != http.StatusNotFound {
			t.Errorf("GET %s on HTTP_ADDR = %d, want 404: %.200s", path, status, body)
		}
	}
	opsGet(t, base+"/products") // an API request the metrics must count
	status, metrics := opsGet(t, p.MetricsURL())
	if status != http.StatusOK {
		t.Fatalf("GET /metrics on OPS_ADDR = %d: %.200s", status, metrics)
	}
	for _, name := range []string{`etalase_http_requests_total{method="GET",route="/products",status="200"}`,
		"etalase_cache_", "etalase_outbox_backlog", "etalase_queue_jobs", "etalase_pgx_pool_", "go_goroutines"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics on OPS_ADDR lacks %s", name)
		}
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=1"} {
		if status, body := opsGet(t, ops+path); status != http.StatusOK {
			t.Errorf("GET %s on OPS_ADDR = %d: %.200s", path, status, body)
		}
	}
	if status, _ := opsGet(t, ops+"/products"); status != http.StatusNotFound {
		t.Errorf("GET /products on OPS_ADDR = %d, want 404: the API is not served there", status)
	}
	if status, body := opsGet(t, ops+"/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz on OPS_ADDR = %d: %s", status, body)
	}
	if status, body := opsGet(t, base+"/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz on HTTP_ADDR = %d: %s", status, body)
	}
	wantReady(t, ops+"/readyz", "postgres", "queue")
	wantReady(t, base+"/readyz", "postgres", "queue")

	probe := testproc.Start(t, map[string]string{"OPS_ADDR": strings.TrimPrefix(ops, "http://")}, "healthcheck")
	if code := probe.Wait(30 * time.Second); code != 0 {
		t.Fatalf("healthcheck of a ready process: exit %d, want 0\n%s", code, probe.Output())
	}

	// PostgreSQL unreachable: /readyz answers 503 and the probe fails.
	px.Cut()
	probe = testproc.Start(t, map[string]string{"OPS_ADDR": strings.TrimPrefix(ops, "http://")}, "healthcheck")
	if code := probe.Wait(30 * time.Second); code != 1 {
		t.Fatalf("healthcheck of a process without PostgreSQL: exit %d, want 1\n%s", code, probe.Output())
	}
	if out := strings.TrimSpace(probe.Output()); strings.Count(out, "\n") != 0 || !strings.Contains(out, "503") {
		t.Errorf("healthcheck of an unready process printed %q, want one line with the status", out)
	}
	px.Restore()
}

// TestOpsListenerOfWorker runs `etalase worker`, which has no API: its
// OPS_ADDR answers health, readiness (the API's checks) and the job
// metrics.
func TestOpsListenerOfWorker(t *testing.T) {
	t.Parallel()
	vars, _ := backends(t)
	delete(vars, "HTTP_ADDR")
	p := testproc.Start(t, vars, "worker")
	p.WaitHTTP(t, p.OpsURL()+"/healthz", 30*time.Second)
	wantReady(t, p.OpsURL()+"/readyz", "postgres", "queue")
	status, metrics := opsGet(t, p.MetricsURL())
	if status != http.StatusOK {
		t.Fatalf("GET /metrics of the worker = %d: %.200s", status, metrics)
	}
	for _, name := range []string{"etalase_outbox_backlog", "etalase_queue_jobs", "go_goroutines"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("the worker's /metrics lacks %s", name)
		}
	}
}

// TestHealthcheckWithoutProcess probes an OPS_ADDR where nothing listens:
// exit 1 with one line.
func TestHealthcheckWithoutProcess(t *testing.T) {
	t.Parallel()
	addr := fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
	p := testproc.Start(t, map[string]string{"OPS_ADDR": addr}, "healthcheck")
	if code := p.Wait(30 * time.Second); code != 1 {
		t.Fatalf("healthcheck with nothing on %s: exit %d, want 1\n%s", addr, code, p.Output())
	}
	if out := strings.TrimSpace(p.Output()); strings.Count(out, "\n") != 0 || !strings.Contains(out, addr) {
		t.Fatalf("healthcheck printed %q, want one line naming %s", out, addr)
	}
}

// TestTakenOpsAddr starts a second api on the first one's OPS_ADDR: it
// exits 1 with one error line naming OPS_ADDR, and the first keeps serving.
func TestTakenOpsAddr(t *testing.T) {
	t.Parallel()
	vars, _ := backends(t)
	first := testproc.Start(t, vars, "api")
	first.WaitHTTP(t, first.OpsURL()+"/healthz", 30*time.Second)

	second := map[string]string{}
	for k, v := range vars {
		second[k] = v
	}
	second["HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
	second["OPS_ADDR"] = strings.TrimPrefix(first.OpsURL(), "http://")
	p := testproc.Start(t, second, "api")
	if code := p.Wait(30 * time.Second); code != 1 {
		t.Fatalf("api on a taken OPS_ADDR: exit %d, want 1\n%s", code, p.Output())
	}
	var failed []string
	for _, line := range strings.Split(strings.TrimSpace(p.Output()), "\n") {
		if strings.Contains(line, `"level":"error"`) {
			failed = append(failed, line)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "OPS_ADDR") || !strings.Contains(failed[0], "address already in use") {
		t.Fatalf("api on a taken OPS_ADDR: error lines %q, want one naming OPS_ADDR", failed)
	}
	if status, _ := opsGet(t, first.OpsURL()+"/healthz"); status != http.StatusOK {
		t.Fatalf("the first process stopped answering on OPS_ADDR: %d", status)
	}
}
