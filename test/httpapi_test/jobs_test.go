package httpapi_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// fakeInspector is a queue with one failed job, enough to drive the admin
// routes through the document's checks.
type fakeInspector struct {
	mu     sync.Mutex
	failed map[string]application.FailedJob
}

var _ application.QueueInspector = (*fakeInspector)(nil)

func newFakeInspector() *fakeInspector {
	return &fakeInspector{failed: map[string]application.FailedJob{
		"report-9": {ID: "report-9", Type: domain.JobGenerateReport, Queue: domain.QueueReport,
			Payload: []byte(`{"productId":1,"reportId":9,"requestedBy":"alice"}`), Retried: 4, MaxRetry: 4,
			LastError: "compute: product 1 not found", LastFailedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
	}}
}

func (f *fakeInspector) Counts(context.Context) ([]application.QueueCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []application.QueueCounts{{Queue: domain.QueueReport, Pending: 2, Archived: len(f.failed), Completed: 5}}, nil
}

func (f *fakeInspector) Failed(_ context.Context, queue string, _ int) ([]application.FailedJob, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if queue != domain.QueueReport {
		return nil, domain.NotFound("queue %q not found", queue)
	}
	var out []application.FailedJob
	for _, j := range f.failed {
		out = append(out, j)
	}
	return out, nil
}

func (f *fakeInspector) Retry(_ context.Context, queue, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.failed[id]; !ok || queue != domain.QueueReport {
		return domain.NotFound("job %q not found in queue %q", id, queue)
	}
	delete(f.failed, id)
	return nil
}

// TestReportsAndAdminFollowTheDocument drives the reports and admin routes
// so their responses are checked against the document too.
func TestReportsAndAdminFollowTheDocument(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		store := open(t)
		h := newHarnessOver(t, store)
		cat := h.createCategory("Reports")
		p := h.createProduct(fmt.Sprintf(`{"name":"Lamp","price":"12.50","stock":4,"categoryId":%d}`, cat))
		pid := strconv.FormatInt(int64(p["id"].(float64)), 10)

		requested := h.must(202, req{method: "POST", path: "/products/" + pid + "/reports", key: bobSecret})
		r := requested.json(t)
		rid := int64(r["id"].(float64))
		if requested.header.Get("Location") != "/reports/"+strconv.FormatInt(rid, 10) || r["requestedBy"] != "bob" || r["status"] != "queued" {
			t.Fatalf("requested %s %v", requested.header.Get("Location"), r)
		}
		if _, err := application.NewReports(store, 0).GenerateReport(context.Background(),
			application.GenerateReport{ReportID: rid, ProductID: int64(p["id"].(float64))}); err != nil {
			t.Fatal(err)
		}
		done := h.must(200, req{method: "GET", path: "/reports/" + strconv.FormatInt(rid, 10)}).json(t)
		result, _ := done["result"].(map[string]any)
		if done["status"] != "completed" || result == nil || result["stockValue"] != "50.00" {
			t.Fatalf("completed report %v", done)
		}
		list := h.must(200, req{method: "GET", path: "/products/" + pid + "/reports"}).json(t)
		if n := len(list["data"].([]any)); n != 2 {
			t.Fatalf("%d reports, want the creation's and bob's", n)
		}
		h.must(401, req{method: "POST", path: "/products/" + pid + "/reports"})
		h.must(404, req{method: "POST", path: "/products/424242/reports", key: aliceSecret})
		h.must(404, req{method: "GET", path: "/reports/424242"})
		h.must(400, req{method: "GET", path: "/reports/x"})

		h.must(401, req{method: "GET", path: "/admin/queues"})
		h.must(403, req{method: "GET", path: "/admin/queues", key: aliceSecret})
		counts := h.must(200, req{method: "GET", path: "/admin/queues", key: rootSecret}).json(t)
		if q := counts["data"].([]any)[0].(map[string]any); q["queue"] != "report" || q["archived"] != float64(1) {
			t.Fatalf("counts %v", counts)
		}
		failed := h.must(200, req{method: "GET", path: "/admin/queues/report/failed", key: rootSecret}).json(t)
		if j := failed["data"].([]any)[0].(map[string]any); j["id"] != "report-9" || j["lastError"] == "" {
			t.Fatalf("failed %v", failed)
		}
		h.must(404, req{method: "GET", path: "/admin/queues/nope/failed", key: rootSecret})
		h.must(403, req{method: "POST", path: "/admin/queues/report/failed/report-9/retry", key: bobSecret})
		h.must(202, req{method: "POST", path: "/admin/queues/report/failed/report-9/retry", key: rootSecret})
		h.must(404, req{method: "POST", path: "/admin/queues/report/failed/report-9/retry", key: rootSecret})
	})
}
