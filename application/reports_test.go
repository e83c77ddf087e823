package application

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

// reportStore is a small in-package twin of the store for the report use
// cases: products exist or not, reports follow the port's rules, and the
// outbox records what was added and sent.
type reportStore struct {
	mu       sync.Mutex
	products map[int64]bool
	reports  map[int64]*domain.Report
	outbox   []outboxRow
	computes int
	failNext error // returned once by Compute
	nextID   int64
}

type outboxRow struct {
	job  domain.Job
	sent bool
}

func newReportStore(productIDs ...int64) *reportStore {
	s := &reportStore{products: map[int64]bool{}, reports: map[int64]*domain.Report{}}
	for _, id := range productIDs {
		s.products[id] = true
	}
	return s
}

func (s *reportStore) Products() domain.ProductRepository    { return storeProducts{s} }
func (s *reportStore) Categories() domain.CategoryRepository { return nil }
func (s *reportStore) Reports() domain.ReportRepository      { return storeReports{s} }
func (s *reportStore) Outbox() domain.Outbox                 { return storeOutbox{s} }
func (s *reportStore) Idempotency() domain.IdempotencyStore  { return nil }
func (s *reportStore) Ping(context.Context) error            { return nil }
func (s *reportStore) InTx(ctx context.Context, fn func(domain.Store) error) error {
	return fn(s)
}

type storeProducts struct{ s *reportStore }

func (p storeProducts) Get(_ context.Context, id int64) (domain.Product, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if !p.s.products[id] {
		return domain.Product{}, domain.NotFound("product %d not found", id)
	}
	return domain.Product{ID: id}, nil
}
func (storeProducts) List(context.Context, domain.ProductQuery) (domain.ProductPage, error) {
	return domain.ProductPage{}, errors.New("not used")
}
func (storeProducts) Create(context.Context, domain.ProductFields) (domain.Product, error) {
	return domain.Product{}, errors.New("not used")
}
func (storeProducts) Update(context.Context, int64, domain.ProductRevision, domain.ProductFields) (domain.Product, error) {
	return domain.Product{}, errors.New("not used")
}
func (storeProducts) Delete(context.Context, int64) error { return errors.New("not used") }

type storeReports struct{ s *reportStore }

func (r storeReports) Create(_ context.Context, productID int64, by, requestID string) (domain.Report, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.nextID++
	rep := &domain.Report{ID: r.s.nextID, ProductID: productID, Status: domain.ReportQueued, RequestedBy: by,
		RequestID: requestID, CreatedAt: time.Now()}
	r.s.reports[rep.ID] = rep
	// The report's job is in the outbox with it, as the port asks.
	r.s.outbox = append(r.s.outbox, outboxRow{job: ReportJob(*rep)})
	return *rep, nil
}
func (r storeReports) Get(_ context.Context, id int64) (domain.Report, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rep, ok := r.s.reports[id]
	if !ok {
		return domain.Report{}, domain.NotFound("report %d not found", id)
	}
	return *rep, nil
}
func (r storeReports) List(context.Context, domain.ReportQuery) ([]domain.Report, error) {
	return nil, nil
}
func (r storeReports) ListByProduct(_ context.Context, productID int64) ([]domain.Report, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	var out []domain.Report
	for id := r.s.nextID; id > 0; id-- {
		if rep, ok := r.s.reports[id]; ok && rep.ProductID == productID {
			out = append(out, *rep)
		}
	}
	return out, nil
}
func (r storeReports) Start(_ context.Context, id int64) (domain.Report, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rep, ok := r.s.reports[id]
	if !ok {
		return domain.Report{}, domain.NotFound("report %d not found", id)
	}
	if rep.Status != domain.ReportCompleted {
		now := time.Now()
		rep.Status, rep.StartedAt = domain.ReportRunning, &now
		rep.Attempts++
	}
	return *rep, nil
}
func (r storeReports) Compute(_ context.Context, productID int64) (domain.ReportResult, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if err := r.s.failNext; err != nil {
		r.s.failNext = nil
		return domain.ReportResult{}, err
	}
	if !r.s.products[productID] {
		return domain.ReportResult{}, domain.NotFound("product %d not found", productID)
	}
	r.s.computes++
	return domain.ReportResult{ProductID: productID, PriceRank: 1}, nil
}
func (r storeReports) Complete(_ context.Context, id int64, res domain.ReportResult) (domain.Report, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rep := r.s.reports[id]
	if rep.Status != domain.ReportCompleted {
		now := time.Now()
		rep.Status, rep.FinishedAt, rep.Result, rep.Error = domain.ReportCompleted, &now, &res, nil
	}
	return *rep, nil
}
func (r storeReports) Fail(_ context.Context, id int64, reason string, final bool) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	rep := r.s.reports[id]
	rep.Error = &reason
	if final {
		rep.Status = domain.ReportFailed
	}
	return nil
}
func (r storeReports) Stale(_ context.Context, before time.Time, limit int) ([]domain.Report, error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	var out []domain.Report
	for id := int64(1); id <= r.s.nextID && len(out) < limit; id++ {
		rep, ok := r.s.reports[id]
		if !ok {
			continue
		}
		since := rep.CreatedAt
		if rep.StartedAt != nil {
			since = *rep.StartedAt
		}
		if (rep.Status == domain.ReportQueued || rep.Status == domain.ReportRunning) && since.Before(before) {
			out = append(out, *rep)
		}
	}
	return out, nil
}

type storeOutbox struct{ s *reportStore }

func (o storeOutbox) Add(_ context.Context, job domain.Job) error {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	o.s.outbox = append(o.s.outbox, outboxRow{job: job})
	return nil
}
func (o storeOutbox) Relay(ctx context.Context, limit int, send func(context.Context, domain.Job) error) (int, error) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	n := 0
	for i := range o.s.outbox {
		if n == limit {
			break
		}
		if o.s.outbox[i].sent {
			continue
		}
		if send(ctx, o.s.outbox[i].job) == nil {
			o.s.outbox[i].sent = true
			n++
		}
	}
	return n, nil
}
func (o storeOutbox) Backlog(context.Context) (int, time.Time, error) { return 0, time.Time{}, nil }

// recordingQueue keeps one copy per job ID, as the port asks, and can be
// told to fail.
type recordingQueue struct {
	mu    sync.Mutex
	jobs  map[string]domain.Job
	order []string
	calls int
	err   error
}

func (q *recordingQueue) Enqueue(_ context.Context, job domain.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.err != nil {
		return q.err
	}
	if q.jobs == nil {
		q.jobs = map[string]domain.Job{}
	}
	if _, ok := q.jobs[job.ID]; !ok {
		q.jobs[job.ID] = job
		q.order = append(q.order, job.ID)
	}
	return nil
}

func noSleep(context.Context, time.Duration) error { return nil }

func TestRequestReport(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		productID int64
		wantKind  domain.Kind
		wantJobs  int
	}{
		{"existing product", 7, -1, 1},
		{"unknown product", 8, domain.KindNotFound, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newReportStore(7)
			reports := NewReports(store, 0)
			r, err := reports.RequestReport(context.Background(), RequestReport{ProductID: tc.productID, RequestedBy: "alice"})
			if tc.wantKind >= 0 {
				if domain.KindOf(err) != tc.wantKind {
					t.Fatalf("err = %v, want kind %v", err, tc.wantKind)
				}
			} else if err != nil {
				t.Fatalf("RequestReport: %v", err)
			}
			if len(store.outbox) != tc.wantJobs {
				t.Fatalf("outbox has %d jobs, want %d", len(store.outbox), tc.wantJobs)
			}
			if tc.wantJobs == 1 {
				if r.Status != domain.ReportQueued || r.RequestedBy != "alice" {
					t.Errorf("report = %+v, want queued by alice", r)
				}
				if got, want := store.outbox[0].job, ReportJob(r); got.ID != want.ID || string(got.Payload) != string(want.Payload) {
					t.Errorf("outbox job = %+v, want %+v", got, want)
				}
			}
		})
	}
}

func TestReportJob(t *testing.T) {
	t.Parallel()
	job := ReportJob(domain.Report{ID: 12, ProductID: 34, RequestedBy: "bob"})
	if job.ID != "report-12" || job.Type != "generate-report" || job.Queue != "report" {
		t.Errorf("job = %+v", job)
	}
	if want := `{"productId":34,"reportId":12,"requestedBy":"bob"}`; string(job.Payload) != want {
		t.Errorf("payload = %s, want %s", job.Payload, want)
	}
}

func TestGenerateReport(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	tests := []struct {
		name         string
		deleteFirst  bool
		computeErr   error
		final        bool
		runs         int
		wantStatus   domain.ReportStatus
		wantErr      bool
		wantPerm     bool
		wantComputes int
		wantAttempts int
	}{
		{name: "completes", runs: 1, wantStatus: domain.ReportCompleted, wantComputes: 1, wantAttempts: 1},
		{name: "second run skips a completed report", runs: 2, wantStatus: domain.ReportCompleted, wantComputes: 1, wantAttempts: 1},
		{name: "transient failure keeps it running", computeErr: boom, runs: 1, wantStatus: domain.ReportRunning, wantErr: true, wantAttempts: 1},
		{name: "failure on the final attempt fails it", computeErr: boom, final: true, runs: 1, wantStatus: domain.ReportFailed, wantErr: true, wantAttempts: 1},
		{name: "deleted product is permanent", deleteFirst: true, runs: 1, wantStatus: domain.ReportRunning, wantErr: true, wantPerm: true, wantAttempts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := newReportStore(5)
			reports := NewReports(store, time.Second)
			reports.sleep = noSleep
			r, err := reports.RequestReport(ctx, RequestReport{ProductID: 5, RequestedBy: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			store.failNext = tc.computeErr
			if tc.deleteFirst {
				delete(store.products, 5)
			}
			for i := 0; i < tc.runs; i++ {
				_, err = reports.GenerateReport(ctx, GenerateReport{ReportID: r.ID, ProductID: 5, Final: tc.final})
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if Permanent(err) != tc.wantPerm {
				t.Errorf("Permanent(%v) = %v, want %v", err, Permanent(err), tc.wantPerm)
			}
			got, _ := reports.GetReport(ctx, r.ID)
			if got.Status != tc.wantStatus || got.Attempts != tc.wantAttempts || store.computes != tc.wantComputes {
				t.Errorf("report %s after %d attempts, %d computes; want %s, %d, %d",
					got.Status, got.Attempts, store.computes, tc.wantStatus, tc.wantAttempts, tc.wantComputes)
			}
			if tc.computeErr != nil && (got.Error == nil || !strings.Contains(*got.Error, "connection reset")) {
				t.Errorf("last error = %v, want the compute error", got.Error)
			}
		})
	}
}

func TestGenerateReportWaitsTheDelay(t *testing.T) {
	t.Parallel()
	store := newReportStore(1)
	reports := NewReports(store, time.Hour)
	r, _ := reports.RequestReport(context.Background(), RequestReport{ProductID: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := reports.GenerateReport(ctx, GenerateReport{ReportID: r.ID, ProductID: 1})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	got, _ := reports.GetReport(context.Background(), r.ID)
	if got.Error != nil || got.Status != domain.ReportRunning {
		t.Errorf("a cancelled attempt recorded %v / %s; it should be handed back untouched", got.Error, got.Status)
	}
}

func TestHandleJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		job      domain.Job
		wantErr  bool
		wantPerm bool
	}{
		{"report job", ReportJob(domain.Report{ID: 1, ProductID: 1}), false, false},
		{"unknown type", domain.Job{ID: "x", Type: "send-email", Payload: []byte(`{}`)}, true, true},
		{"bad payload", domain.Job{ID: "y", Type: domain.JobGenerateReport, Payload: []byte(`nope`)}, true, true},
		{"unknown report", ReportJob(domain.Report{ID: 99, ProductID: 1}), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newReportStore(1)
			reports := NewReports(store, 0)
			if _, err := reports.RequestReport(context.Background(), RequestReport{ProductID: 1}); err != nil {
				t.Fatal(err)
			}
			err := reports.HandleJob(context.Background(), tc.job, false)
			if (err != nil) != tc.wantErr || Permanent(err) != tc.wantPerm {
				t.Errorf("err = %v (permanent %v), want error %v permanent %v", err, Permanent(err), tc.wantErr, tc.wantPerm)
			}
		})
	}
}

func TestRelayStep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		reports   int
		batch     int
		queueErr  error
		wantSent  int
		wantMore  bool
		wantErr   bool
		wantCalls int
	}{
		{"partial batch", 3, 10, nil, 3, false, false, 3},
		{"full batch says more", 5, 5, nil, 5, true, false, 5},
		{"queue down stops at the first failure", 4, 10, errors.New("redis down"), 0, false, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newReportStore(1)
			reports := NewReports(store, 0)
			for i := 0; i < tc.reports; i++ {
				if _, err := reports.RequestReport(context.Background(), RequestReport{ProductID: 1}); err != nil {
					t.Fatal(err)
				}
			}
			q := &recordingQueue{err: tc.queueErr}
			sent, more, err := NewRelay(store, q, tc.batch).Step(context.Background())
			if sent != tc.wantSent || more != tc.wantMore || (err != nil) != tc.wantErr || q.calls != tc.wantCalls {
				t.Errorf("Step = %d, %v, %v after %d enqueues; want %d, %v, error %v, %d enqueues",
					sent, more, err, q.calls, tc.wantSent, tc.wantMore, tc.wantErr, tc.wantCalls)
			}
		})
	}
}

func TestRelayDrain(t *testing.T) {
	t.Parallel()
	store := newReportStore(1)
	reports := NewReports(store, 0)
	for i := 0; i < 7; i++ {
		if _, err := reports.RequestReport(context.Background(), RequestReport{ProductID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	q := &recordingQueue{}
	n, err := NewRelay(store, q, 2).Drain(context.Background())
	if err != nil || n != 7 || len(q.order) != 7 || q.order[0] != "report-1" || q.order[6] != "report-7" {
		t.Fatalf("Drain = %d, %v; queue holds %v", n, err, q.order)
	}
}

func TestSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newReportStore(1)
	reports := NewReports(store, 0)
	reports.sleep = noSleep
	var ids []int64
	for i := 0; i < 4; i++ {
		r, err := reports.RequestReport(ctx, RequestReport{ProductID: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	// Report 1 completes, 2 is left running by a dead worker, 3 stays
	// queued (its job lost), 4 is too young to be stale.
	if _, err := reports.GenerateReport(ctx, GenerateReport{ReportID: ids[0], ProductID: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Reports().Start(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, id := range ids[:3] {
		store.reports[id].CreatedAt = old
		if store.reports[id].StartedAt != nil {
			store.reports[id].StartedAt = &old
		}
	}
	q := &recordingQueue{}
	sweeper := NewSweeper(store, q, time.Minute, 10)
	for i := 0; i < 2; i++ {
		n, err := sweeper.Sweep(ctx)
		if err != nil || n != 2 {
			t.Fatalf("sweep %d = %d, %v; want 2 stale reports", i, n, err)
		}
	}
	want := []string{"report-2-retake-1", "report-3"}
	if strings.Join(q.order, ",") != strings.Join(want, ",") {
		t.Errorf("queue holds %v, want %v (one copy each across sweeps)", q.order, want)
	}
}
