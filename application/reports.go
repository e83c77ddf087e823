package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/etalase/etalase/domain"
)

// ReportPayload is the body of a generate-report job, as the seed tutorial's
// job carries it.
type ReportPayload struct {
	ProductID   int64  `json:"productId"`
	ReportID    int64  `json:"reportId"`
	RequestedBy string `json:"requestedBy"`
	// RequestID is the id of the request that asked for the report, so the
	// job's log lines can be tied to it.
	RequestID string `json:"requestId,omitempty"`
}

// ReportJob is the queue job that generates report r. Its ID derives from
// the report, so every path that enqueues it (outbox relay, sweeper, admin
// retry) names the same task and the queue keeps one copy.
func ReportJob(r domain.Report) domain.Job {
	payload, _ := json.Marshal(ReportPayload{ProductID: r.ProductID, ReportID: r.ID, RequestedBy: r.RequestedBy,
		RequestID: r.RequestID})
	return domain.Job{
		ID:      "report-" + strconv.FormatInt(r.ID, 10),
		Type:    domain.JobGenerateReport,
		Queue:   domain.QueueReport,
		Payload: payload,
	}
}

// JobRequestID returns the request id a job's payload carries, "" when it
// carries none.
func JobRequestID(job domain.Job) string {
	var p struct {
		RequestID string `json:"requestId"`
	}
	if json.Unmarshal(job.Payload, &p) != nil {
		return ""
	}
	return p.RequestID
}

// requestReport records a queued report, which puts its job in the outbox;
// run it inside the transaction that makes the reason for the report.
func requestReport(ctx context.Context, tx domain.Store, productID int64, requestedBy, requestID string) (domain.Report, error) {
	r, err := tx.Reports().Create(ctx, productID, requestedBy, requestID)
	if err != nil {
		return domain.Report{}, fmt.Errorf("request report: %w", err)
	}
	return r, nil
}

// Reports is the use cases over reports: requesting and reading them, and
// the job's work of generating one.
type Reports struct {
	store domain.Store
	delay time.Duration
	sleep func(ctx context.Context, d time.Duration) error
}

// NewReports returns the report use cases. delay is the simulated heavy work
// of every job (REPORT_DELAY, the seed tutorial's 5 s).
func NewReports(store domain.Store, delay time.Duration) *Reports {
	return &Reports{store: store, delay: delay, sleep: sleepContext}
}

// RequestReport is the input of Reports.RequestReport.
type RequestReport struct {
	ProductID   int64
	RequestedBy string // the API key's name
	RequestID   string // the request's id, carried into the job; optional
}

// RequestReport records a new queued report of a product and its job, in
// one transaction: the job reaches the queue through the outbox.
func (s *Reports) RequestReport(ctx context.Context, in RequestReport) (domain.Report, error) {
	var r domain.Report
	err := s.store.InTx(ctx, func(tx domain.Store) error {
		if _, err := tx.Products().Get(ctx, in.ProductID); err != nil {
			return err
		}
		var err error
		r, err = requestReport(ctx, tx, in.ProductID, in.RequestedBy, in.RequestID)
		return err
	})
	if err != nil {
		return domain.Report{}, fmt.Errorf("request report of product %d: %w", in.ProductID, err)
	}
	return r, nil
}

// GetReport returns one report.
func (s *Reports) GetReport(ctx context.Context, id int64) (domain.Report, error) {
	return s.store.Reports().Get(ctx, id)
}

// ListReports returns a product's reports, newest first; an unknown product
// is a KindNotFound error rather than an empty list.
func (s *Reports) ListReports(ctx context.Context, productID int64) ([]domain.Report, error) {
	if _, err := s.store.Products().Get(ctx, productID); err != nil {
		return nil, err
	}
	return s.store.Reports().ListByProduct(ctx, productID)
}

// GenerateReport is the input of Reports.GenerateReport: one attempt at a
// report's job.
type GenerateReport struct {
	ReportID  int64
	ProductID int64
	// Final says no attempt follows this one: a failure marks the report
	// failed for good.
	Final bool
}

// GenerateReport does a generate-report job: it marks the report running,
// waits out the simulated heavy work, computes the result in the store and
// completes the report. It is idempotent on the report id: a completed
// report is returned unchanged, and completing twice stores one result.
// A failure is recorded on the report (last error, and failed when Final)
// and returned; a report or product that no longer exists is a
// KindNotFound error, which no retry can fix.
func (s *Reports) GenerateReport(ctx context.Context, in GenerateReport) (domain.Report, error) {
	r, err := s.generate(ctx, in)
	if err == nil {
		return r, nil
	}
	if ctx.Err() == nil && domain.KindOf(err) != domain.KindNotFound {
		if ferr := s.store.Reports().Fail(ctx, in.ReportID, failReason(err), in.Final); ferr != nil {
			err = errors.Join(err, fmt.Errorf("record failure: %w", ferr))
		}
	}
	return domain.Report{}, fmt.Errorf("generate report %d: %w", in.ReportID, err)
}

func (s *Reports) generate(ctx context.Context, in GenerateReport) (domain.Report, error) {
	reports := s.store.Reports()
	f, finisher := reports.(domain.ReportFinisher)
	if finisher && s.delay <= 0 && in.ProductID > 0 {
		// No work between start and finish: one statement counts the
		// attempt and stores the result. When it fails it changed nothing,
		// so the attempt is counted the ordinary way before the failure is
		// recorded.
		r, err := f.Run(ctx, in.ReportID, in.ProductID)
		if err == nil || ctx.Err() != nil {
			return r, err
		}
		started, serr := reports.Start(ctx, in.ReportID)
		if serr != nil {
			return domain.Report{}, serr
		}
		if started.Status == domain.ReportCompleted {
			return started, nil
		}
		return domain.Report{}, err
	}
	r, err := reports.Start(ctx, in.ReportID)
	if err != nil {
		return domain.Report{}, err
	}
	if r.Status == domain.ReportCompleted {
		return r, nil
	}
	if err := s.sleep(ctx, s.delay); err != nil {
		return domain.Report{}, err
	}
	if finisher {
		// One round trip instead of two: the job's cost is mostly round trips.
		return f.Finish(ctx, r.ID, r.ProductID)
	}
	res, err := reports.Compute(ctx, r.ProductID)
	if err != nil {
		return domain.Report{}, err
	}
	return reports.Complete(ctx, r.ID, res)
}

// failReason is the last error stored on a report: the safe detail of a
// domain error, else the error's text, bounded so a report row stays small.
func failReason(err error) string {
	msg := err.Error()
	var de *domain.Error
	if errors.As(err, &de) && de.Detail != "" {
		msg = de.Kind.String() + ": " + de.Detail
	}
	const maxReason = 500
	if len(msg) > maxReason {
		msg = msg[:maxReason]
	}
	return msg
}

// HandleJob runs one attempt of any job the worker knows. An unknown job
// type or an unreadable payload is a KindInvalid error: retrying cannot help.
func (s *Reports) HandleJob(ctx context.Context, job domain.Job, final bool) error {
	if job.Type != domain.JobGenerateReport {
		return domain.Invalid(fmt.Sprintf("unknown job type %q", job.Type))
	}
	var p ReportPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.ReportID <= 0 {
		return domain.Invalid(fmt.Sprintf("job %s has a bad payload", job.ID))
	}
	_, err := s.GenerateReport(ctx, GenerateReport{ReportID: p.ReportID, ProductID: p.ProductID, Final: final})
	return err
}

// Permanent says whether a job error is one no retry can fix: the job is
// malformed or names something that no longer exists.
func Permanent(err error) bool {
	switch domain.KindOf(err) {
	case domain.KindInvalid, domain.KindNotFound:
		return true
	}
	return false
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Relay moves jobs from the outbox to the queue. Any number of relays may
// run: each claims rows no other relay holds.
type Relay struct {
	store domain.Store
	queue domain.JobQueue
	batch int
}

// DefaultRelayBatch is how many outbox rows one relay step claims.
const DefaultRelayBatch = 100

// NewRelay returns a relay claiming batch rows per step.
func NewRelay(store domain.Store, queue domain.JobQueue, batch int) *Relay {
	if batch <= 0 {
		batch = DefaultRelayBatch
	}
	return &Relay{store: store, queue: queue, batch: batch}
}

// Step claims one batch of unsent jobs, enqueues them and marks them sent.
// After the first failed enqueue the rest of the batch is left for a later
// step, so an unreachable queue costs one timeout, not one per row. The
// outbox may call send from several goroutines at once. It returns how
// many jobs were sent and whether the batch was full, meaning more may be
// waiting.
func (r *Relay) Step(ctx context.Context) (sent int, more bool, err error) {
	var (
		mu      sync.Mutex
		sendErr error
	)
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return sendErr
	}
	send := func(ctx context.Context, job domain.Job) error {
		if err := failed(); err != nil {
			return err
		}
		if err := r.queue.Enqueue(ctx, job); err != nil {
			mu.Lock()
			defer mu.Unlock()
			if sendErr == nil {
				sendErr = fmt.Errorf("enqueue %s: %w", job.ID, err)
			}
			return sendErr
		}
		return nil
	}
	n, err := r.store.Outbox().Relay(ctx, r.batch, send)
	if err == nil {
		err = failed()
	}
	if err != nil {
		return n, false, fmt.Errorf("relay outbox: %w", err)
	}
	return n, n >= r.batch, nil
}

// Drain runs steps until the outbox has no more unsent jobs or a step fails.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := r.Step(ctx)
		total += n
		if err != nil || !more || ctx.Err() != nil {
			return total, err
		}
	}
}

// Sweeper re-enqueues reports whose job may have been lost: queued or
// running for longer than a deadline. PostgreSQL is the source of truth,
// the queue only the transport, so a queue that forgot its jobs (a Redis
// restarted empty) or a worker that died holding one cannot lose a report.
type Sweeper struct {
	store domain.Store
	queue domain.JobQueue
	after time.Duration
	batch int
	now   func() time.Time
}

// DefaultSweepBatch is how many stale reports one sweep re-enqueues.
const DefaultSweepBatch = 500

// NewSweeper returns a sweeper of reports queued or running for longer than
// after. after must exceed the longest a healthy job runs (REPORT_DELAY and
// the result's query) or a slow job is handed out again.
func NewSweeper(store domain.Store, queue domain.JobQueue, after time.Duration, batch int) *Sweeper {
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	return &Sweeper{store: store, queue: queue, after: after, batch: batch, now: time.Now}
}

// SweepJob is the job a sweep enqueues for a stale report. A queued report
// gets its ordinary job: if the queue still holds it, the ID conflict keeps
// one copy. A report left running was taken by a worker that went silent and
// whose task the queue may still hold as active until its lease expires, so
// it gets a job named after the attempt: one new copy per stale attempt,
// and the handler's idempotence keeps a late original from storing a second
// result.
func SweepJob(r domain.Report) domain.Job {
	job := ReportJob(r)
	if r.Status == domain.ReportRunning {
		job.ID += "-retake-" + strconv.Itoa(r.Attempts)
	}
	return job
}

// Sweep re-enqueues one batch of stale reports and returns how many it
// handed to the queue.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	stale, err := s.store.Reports().Stale(ctx, s.now().Add(-s.after), s.batch)
	if err != nil {
		return 0, fmt.Errorf("sweep reports: %w", err)
	}
	for i, r := range stale {
		if err := s.queue.Enqueue(ctx, SweepJob(r)); err != nil {
			return i, fmt.Errorf("sweep report %d: %w", r.ID, err)
		}
	}
	return len(stale), nil
}
