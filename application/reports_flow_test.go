package application_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// jobQueue records what reaches the queue, keeping one copy per job ID as
// the port promises; fail makes Enqueue refuse everything.
type jobQueue struct {
	mu   sync.Mutex
	jobs []domain.Job
	fail error
}

func (q *jobQueue) Enqueue(_ context.Context, j domain.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	for _, have := range q.jobs {
		if have.ID == j.ID {
			return nil
		}
	}
	q.jobs = append(q.jobs, j)
	return nil
}

func (q *jobQueue) ids() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, j := range q.jobs {
		out = append(out, j.ID)
	}
	return out
}

// TestReportFlow follows a product from its creation to a completed report
// on the memory store: the create's outbox job reaches the queue through
// the relay, the worker's handler completes the report, and running the
// job again stores nothing new.
func TestReportFlow(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	queue := &jobQueue{}
	relay := application.NewRelay(w.store, queue, 2)
	reports := application.NewReports(w.store, 0)

	var made []domain.Product
	for _, name := range []string{"atlas", "bible", "codex"} {
		made = append(made, w.create(application.CreateProduct{RequestedBy: "alice", Fields: w.fields(name)}).Product)
	}
	n, err := relay.Drain(w.ctx)
	if err != nil || n != 3 || len(queue.jobs) != 3 {
		t.Fatalf("Drain sent %d, err %v, queue %v; want the 3 jobs", n, err, queue.ids())
	}
	if n, _ := relay.Drain(w.ctx); n != 0 {
		t.Fatalf("a second Drain sent %d jobs again", n)
	}
	for _, j := range queue.jobs {
		if err := reports.HandleJob(w.ctx, j, false); err != nil {
			t.Fatalf("HandleJob(%s): %v", j.ID, err)
		}
	}
	for _, p := range made {
		rs, err := reports.ListReports(w.ctx, p.ID)
		if err != nil || len(rs) != 1 {
			t.Fatalf("ListReports(%d) = %v, %v; want one report", p.ID, rs, err)
		}
		r := rs[0]
		if r.Status != domain.ReportCompleted || r.Attempts != 1 || r.Result == nil ||
			r.Result.ProductID != p.ID || r.Result.StockValue != p.Price*domain.Price(p.Stock) ||
			r.Result.CategorySize != 3 || r.Result.CategoryName != "Books" {
			t.Fatalf("report of %s: %+v (result %+v)", p.Name, r, r.Result)
		}
	}

	// Delivery is at least once: a job run twice leaves the report as it was.
	first, _ := reports.GetReport(w.ctx, 1)
	if err := reports.HandleJob(w.ctx, queue.jobs[0], false); err != nil {
		t.Fatalf("HandleJob again: %v", err)
	}
	again, _ := reports.GetReport(w.ctx, 1)
	if again.Attempts != first.Attempts || !again.FinishedAt.Equal(*first.FinishedAt) || !again.Result.ComputedAt.Equal(first.Result.ComputedAt) {
		t.Fatalf("a second run changed the report: %+v, was %+v", again, first)
	}
}

func TestRelayKeepsJobsTheQueueRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	queue := &jobQueue{fail: errors.New("redis down")}
	relay := application.NewRelay(w.store, queue, 10)
	w.create(application.CreateProduct{RequestedBy: "alice", Fields: w.fields("atlas")})
	w.create(application.CreateProduct{RequestedBy: "alice", Fields: w.fields("bible")})
	if _, _, err := relay.Step(w.ctx); err == nil {
		t.Fatal("Step with the queue down reported no error")
	}
	if n, _, _ := w.store.Outbox().Backlog(w.ctx); n != 2 {
		t.Fatalf("backlog %d after a refused relay, want 2", n)
	}
	queue.fail = nil
	if n, err := relay.Drain(w.ctx); err != nil || n != 2 {
		t.Fatalf("Drain after the queue came back: %d, %v", n, err)
	}
	if ids := queue.ids(); len(ids) != 2 || ids[0] != "report-1" || ids[1] != "report-2" {
		t.Fatalf("queue holds %v, want [report-1 report-2]", ids)
	}
}

func TestRequestReport(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	reports := application.NewReports(w.store, 0)
	p := w.create(application.CreateProduct{RequestedBy: "alice", Fields: w.fields("atlas")}).Product
	w.jobs()

	r, err := reports.RequestReport(w.ctx, application.RequestReport{ProductID: p.ID, RequestedBy: "bob"})
	if err != nil || r.Status != domain.ReportQueued || r.RequestedBy != "bob" || r.ProductID != p.ID {
		t.Fatalf("RequestReport = %+v, %v", r, err)
	}
	jobs := w.jobs()
	if len(jobs) != 1 || jobs[0].ID != application.ReportJob(r).ID {
		t.Fatalf("outbox after RequestReport: %v, want the report's job", jobs)
	}
	rs, err := reports.ListReports(w.ctx, p.ID)
	if err != nil || len(rs) != 2 || rs[0].ID != r.ID {
		t.Fatalf("ListReports = %v, %v; want two, the new one first", rs, err)
	}

	_, err = reports.RequestReport(w.ctx, application.RequestReport{ProductID: p.ID + 100, RequestedBy: "bob"})
	wantKind(t, "RequestReport of a missing product", err, domain.KindNotFound)
	if jobs := w.jobs(); len(jobs) != 0 {
		t.Fatalf("a refused request left jobs %v", jobs)
	}
	_, err = reports.ListReports(w.ctx, p.ID+100)
	wantKind(t, "ListReports of a missing product", err, domain.KindNotFound)
	_, err = reports.GetReport(w.ctx, r.ID+100)
	wantKind(t, "GetReport of a missing report", err, domain.KindNotFound)
}

func TestHandleJobRefusesWhatNoRetryFixes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	reports := application.NewReports(w.store, 0)
	cases := []struct {
		name string
		job  domain.Job
	}{
		{"unknown type", domain.Job{ID: "x-1", Type: "send-newsletter", Queue: domain.QueueReport, Payload: []byte(`{}`)}},
		{"bad payload", domain.Job{ID: "report-1", Type: domain.JobGenerateReport, Queue: domain.QueueReport, Payload: []byte(`{"reportId":`)}},
		{"no report id", domain.Job{ID: "report-1", Type: domain.JobGenerateReport, Queue: domain.QueueReport, Payload: []byte(`{"productId":1}`)}},
		{"missing report", application.ReportJob(domain.Report{ID: 999, ProductID: 1, RequestedBy: "alice"})},
	}
	for _, tc := range cases {
		err := reports.HandleJob(w.ctx, tc.job, false)
		if err == nil || !application.Permanent(err) {
			t.Errorf("%s: HandleJob = %v, want a permanent error", tc.name, err)
		}
	}
}

func TestSweeperRequeuesStaleReports(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	queue := &jobQueue{}
	p := w.create(application.CreateProduct{RequestedBy: "alice", Fields: w.fields("atlas")}).Product
	reports := application.NewReports(w.store, 0)
	running, err := reports.RequestReport(w.ctx, application.RequestReport{ProductID: p.ID, RequestedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if running, err = w.store.Reports().Start(w.ctx, running.ID); err != nil {
		t.Fatal(err)
	}
	done, err := reports.RequestReport(w.ctx, application.RequestReport{ProductID: p.ID, RequestedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reports.GenerateReport(w.ctx, application.GenerateReport{ReportID: done.ID, ProductID: p.ID}); err != nil {
		t.Fatal(err)
	}

	// Nothing is stale yet with a deadline an hour long.
	if n, err := application.NewSweeper(w.store, queue, time.Hour, 10).Sweep(w.ctx); err != nil || n != 0 {
		t.Fatalf("Sweep with an hour's grace: %d, %v", n, err)
	}
	// With no grace, the queued first report and the running one go again.
	n, err := application.NewSweeper(w.store, queue, -time.Second, 10).Sweep(w.ctx)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2", n, err)
	}
	want := map[string]bool{"report-1": true, "report-" + itoa(running.ID) + "-retake-1": true}
	for _, id := range queue.ids() {
		if !want[id] || len(queue.ids()) != len(want) {
			t.Fatalf("swept jobs %v, want %v", queue.ids(), want)
		}
	}
}
