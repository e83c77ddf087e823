package e2e

import (
	"strings"
	"testing"
)

// TestOperations checks the routes an operator uses: health, readiness,
// metrics (on OPS_ADDR), the OpenAPI document and its page, and the admin queue view.
func TestOperations(t *testing.T) {
	t.Parallel()
	s := startAPI(t)

	s.do(t, "GET", "/healthz", "").want(t, 200)
	ready := s.do(t, "GET", "/readyz", "").want(t, 200).JSON(t)
	if ready["status"] != "ok" {
		t.Fatalf("readyz = %v, want status ok", ready)
	}
	if checks, _ := ready["checks"].(map[string]any); checks["postgres"] != "ok" {
		t.Fatalf("readyz checks = %v, want postgres ok", ready["checks"])
	}

	s.do(t, "GET", "/metrics", "").want(t, 404)
	status, metrics := opsGet(t, s.ops+"/metrics")
	if status != 200 {
		t.Fatalf("GET /metrics on OPS_ADDR = %d", status)
	}
	for _, name := range []string{"etalase_http_requests_total", "go_goroutines"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	doc := s.do(t, "GET", "/openapi.yaml", "").want(t, 200)
	if !strings.Contains(string(doc.Body), "openapi: 3.1") {
		t.Fatalf("/openapi.yaml does not start an OpenAPI 3.1 document: %.80s", doc.Body)
	}
	if page := s.do(t, "GET", "/docs", "").want(t, 200); !strings.Contains(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/docs Content-Type %q", page.Header.Get("Content-Type"))
	}

	queues := s.do(t, "GET", "/admin/queues", "", asAdmin).want(t, 200).JSON(t)
	data, _ := queues["data"].([]any)
	found := false
	for _, q := range data {
		if m, _ := q.(map[string]any); m["queue"] == "report" {
			found = true
			for _, k := range []string{"pending", "active", "scheduled", "retry", "archived", "completed"} {
				if _, ok := m[k]; !ok {
					t.Errorf("queue counts lack %s: %v", k, m)
				}
			}
		}
	}
	if !found {
		t.Fatalf("/admin/queues = %v, want the report queue", queues)
	}
	s.do(t, "GET", "/admin/queues/report/failed", "", asAdmin).want(t, 200)
	s.do(t, "GET", "/admin/queues", "").want(t, 401).problem(t)
}
