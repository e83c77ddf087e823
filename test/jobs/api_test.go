package jobs

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

const (
	writerSecret = "writer-secret-0123456789"
	adminSecret  = "admin-secret-0123456789"
)

// fakeInspector is a queue holding one failed job.
type fakeInspector struct{ retried []string }

func (f *fakeInspector) Counts(context.Context) ([]application.QueueCounts, error) {
	return []application.QueueCounts{{Queue: "report", Pending: 2, Archived: 1, Completed: 5}}, nil
}

func (f *fakeInspector) Failed(_ context.Context, queue string, _ int) ([]application.FailedJob, error) {
	if queue != "report" {
		return nil, domain.NotFound("queue %q not found", queue)
	}
	return []application.FailedJob{{ID: "report-9", Type: "generate-report", Queue: "report",
		Payload: []byte(`{"reportId":9}`), Retried: 4, MaxRetry: 4, LastError: "boom"}}, nil
}

func (f *fakeInspector) Retry(_ context.Context, queue, id string) error {
	if queue != "report" || id != "report-9" {
		return domain.NotFound("job %q not found", id)
	}
	f.retried = append(f.retried, id)
	return nil
}

func newAPI(t *testing.T) (*httpapi.Server, int64) {
	t.Helper()
	store := memory.New()
	catalog := application.NewCatalog(store)
	srv := httpapi.New(httpapi.Config{
		APIKeys:   []httpapi.APIKey{{Name: "writer", Secret: writerSecret}},
		AdminKeys: []httpapi.APIKey{{Name: "root", Secret: adminSecret}},
	}, httpapi.Services{Catalog: catalog, Reports: application.NewReports(store, 0),
		Queues: application.NewQueueAdmin(&fakeInspector{})}, zap.NewNop(), nil)
	ctx := context.Background()
	cat, err := catalog.CreateCategory(ctx, domain.CategoryFields{Name: "Books"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := catalog.CreateProduct(ctx, application.CreateProduct{RequestedBy: "writer",
		Fields: domain.ProductFields{Name: "Go in Action", Price: 1999, Stock: 3, CategoryID: cat.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, p.Product.ID
}

func call(t *testing.T, srv *httpapi.Server, method, target, secret string) (int, http.Header, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(""))
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := srv.App().Test(req, 5000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("%s %s: body %q is not a JSON object", method, target, b)
	}
	return resp.StatusCode, resp.Header, body
}

func TestReportsAPI(t *testing.T) {
	t.Parallel()
	srv, pid := newAPI(t)
	products := "/products/" + itoa(pid)

	status, header, body := call(t, srv, "POST", products+"/reports", writerSecret)
	if status != http.StatusAccepted || body["status"] != "queued" || body["requestedBy"] != "writer" {
		t.Fatalf("POST reports = %d %v", status, body)
	}
	id := int64(body["id"].(float64))
	if loc := header.Get("Location"); loc != "/reports/"+itoa(id) {
		t.Errorf("Location = %q", loc)
	}
	status, _, body = call(t, srv, "GET", products+"/reports", "")
	data, _ := body["data"].([]any)
	if status != http.StatusOK || len(data) != 2 || int64(data[0].(map[string]any)["id"].(float64)) != id {
		t.Errorf("GET product reports = %d %v; want 2, newest first", status, body)
	}

	tests := []struct {
		name, method, target, secret string
		want                         int
	}{
		{"get report", "GET", "/reports/" + itoa(id), "", http.StatusOK},
		{"unknown report", "GET", "/reports/999", "", http.StatusNotFound},
		{"bad report id", "GET", "/reports/x", "", http.StatusBadRequest},
		{"request without key", "POST", products + "/reports", "", http.StatusUnauthorized},
		{"request for unknown product", "POST", "/products/999/reports", writerSecret, http.StatusNotFound},
		{"list of unknown product", "GET", "/products/999/reports", "", http.StatusNotFound},
		{"queues without key", "GET", "/admin/queues", "", http.StatusUnauthorized},
		{"queues with a writer key", "GET", "/admin/queues", writerSecret, http.StatusForbidden},
		{"queues", "GET", "/admin/queues", adminSecret, http.StatusOK},
		{"failed jobs", "GET", "/admin/queues/report/failed", adminSecret, http.StatusOK},
		{"failed jobs of unknown queue", "GET", "/admin/queues/nope/failed", adminSecret, http.StatusNotFound},
		{"retry", "POST", "/admin/queues/report/failed/report-9/retry", adminSecret, http.StatusAccepted},
		{"retry unknown job", "POST", "/admin/queues/report/failed/report-1/retry", adminSecret, http.StatusNotFound},
		{"retry with a writer key", "POST", "/admin/queues/report/failed/report-9/retry", writerSecret, http.StatusForbidden},
	}
	for _, tc := range tests {
		if status, _, body := call(t, srv, tc.method, tc.target, tc.secret); status != tc.want {
			t.Errorf("%s: %s %s = %d %v, want %d", tc.name, tc.method, tc.target, status, body, tc.want)
		}
	}

	_, _, body = call(t, srv, "GET", "/admin/queues/report/failed", adminSecret)
	failed := body["data"].([]any)[0].(map[string]any)
	if failed["id"] != "report-9" || failed["lastError"] != "boom" || failed["payload"].(map[string]any)["reportId"] != 9.0 {
		t.Errorf("failed job = %v", failed)
	}
	_, _, body = call(t, srv, "GET", "/admin/queues", adminSecret)
	q := body["data"].([]any)[0].(map[string]any)
	if q["queue"] != "report" || q["pending"] != 2.0 || q["archived"] != 1.0 || q["completed"] != 5.0 {
		t.Errorf("queue counts = %v", q)
	}
}
