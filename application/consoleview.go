package application

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/etalase/etalase/domain"
)

// Console is the operator console's use cases: one overview of the jobs,
// the outbox and the cache, the jobs by state and their actions, the
// reports, and what the cache holds for a product. Every collaborator but
// the store may be nil (a process without that part); the views then say
// so rather than fail.
type Console struct {
	store   domain.Store
	admin   *QueueAdmin
	jobs    JobBrowser
	history JobHistory
	board   ProcessBoard
	cache   CacheInspector
	now     func() time.Time
}

// ConsoleDeps are the collaborators of a Console.
type ConsoleDeps struct {
	Store   domain.Store
	Admin   *QueueAdmin
	Jobs    JobBrowser
	History JobHistory
	Board   ProcessBoard
	Cache   CacheInspector
}

// NewConsole returns the console use cases.
func NewConsole(d ConsoleDeps) *Console {
	return &Console{store: d.Store, admin: d.Admin, jobs: d.Jobs, history: d.History, board: d.Board,
		cache: d.Cache, now: time.Now}
}

// QueueView is one queue's counts and whether it is paused.
type QueueView struct {
	QueueCounts
	Paused bool
}

// CacheLayerView sums the cache counters of one layer over every process.
type CacheLayerView struct {
	CacheCounts
	HitRate float64 // hits / (hits + misses + bypasses), 0 with no lookups
}

// Overview is the console's first page.
type Overview struct {
	At            time.Time
	Queues        []QueueView
	PerMinute     []MinuteCount
	OutboxBacklog int
	OutboxOldest  time.Duration // age of the oldest unsent row; 0 when none
	// RelayLag is how long the slowest job the relay sent within
	// RelayWindow waited in the outbox; RelaySent how many it sent.
	RelayLag  time.Duration
	RelaySent int
	Workers   []WorkerProcess
	Processes []ProcessStatus
	Cache     []CacheLayerView
	// Problems lists the parts that could not be read, in words.
	Problems []string
}

// RelayWindow is how far back the relay's lag looks.
const RelayWindow = 5 * time.Minute

// ThroughputWindow is how far back the overview's per-minute chart reaches.
const ThroughputWindow = time.Hour

// Overview gathers the overview. A part that cannot be read is named in
// Problems; the rest still shows.
func (c *Console) Overview(ctx context.Context) Overview {
	now := c.now()
	o := Overview{At: now}
	problem := func(what string, err error) {
		o.Problems = append(o.Problems, fmt.Sprintf("%s: %s", what, safeText(err)))
	}
	if c.admin != nil {
		counts, err := c.admin.Counts(ctx)
		if err != nil {
			problem("queues", err)
		}
		for _, q := range counts {
			v := QueueView{QueueCounts: q}
			if c.jobs != nil {
				v.Paused, _ = c.jobs.Paused(ctx, q.Queue)
			}
			o.Queues = append(o.Queues, v)
		}
	}
	if c.history != nil {
		per, err := c.history.PerMinute(ctx, now.Add(-ThroughputWindow))
		if err != nil {
			problem("throughput", err)
		}
		o.PerMinute = per
	}
	n, oldest, err := c.store.Outbox().Backlog(ctx)
	if err != nil {
		problem("outbox", err)
	}
	o.OutboxBacklog = n
	if n > 0 && !oldest.IsZero() {
		o.OutboxOldest = max(now.Sub(oldest), 0)
	}
	if l, ok := c.store.Outbox().(RelayLagger); ok {
		lag, sent, err := l.RelayLag(ctx, now.Add(-RelayWindow))
		if err != nil {
			problem("relay lag", err)
		}
		o.RelayLag, o.RelaySent = lag, sent
	}
	if c.jobs != nil {
		w, err := c.jobs.Workers(ctx)
		if err != nil {
			problem("workers", err)
		}
		o.Workers = w
	}
	if c.board != nil {
		p, err := c.board.Processes(ctx)
		if err != nil {
			problem("processes", err)
		}
		o.Processes = p
		o.Cache = sumCache(p)
		// asynq keeps a worker's record alive but not the time of its last
		// heartbeat; the process's own heartbeat has it.
		for i, w := range o.Workers {
			for _, ps := range p {
				if ps.ID == fmt.Sprintf("%s:%d", w.Host, w.PID) {
					o.Workers[i].Heartbeat = ps.Seen
				}
			}
		}
	}
	return o
}

// Paused says whether a queue is paused; false when it cannot tell.
func (c *Console) Paused(ctx context.Context, queue string) bool {
	if c.jobs == nil {
		return false
	}
	p, _ := c.jobs.Paused(ctx, queue)
	return p
}

// sumCache adds up the layers' counters of every process.
func sumCache(procs []ProcessStatus) []CacheLayerView {
	var out []CacheLayerView
	index := map[string]int{}
	for _, p := range procs {
		for _, cc := range p.CacheCounts {
			i, ok := index[cc.Layer]
			if !ok {
				i = len(out)
				index[cc.Layer] = i
				out = append(out, CacheLayerView{CacheCounts: CacheCounts{Layer: cc.Layer}})
			}
			v := &out[i]
			v.Hits += cc.Hits
			v.LocalHits += cc.LocalHits
			v.Misses += cc.Misses
			v.Bypasses += cc.Bypasses
		}
	}
	for i := range out {
		v := &out[i]
		if total := v.Hits + v.Misses + v.Bypasses; total > 0 {
			v.HitRate = v.Hits / total
		}
	}
	return out
}

// safeText is what the console may show of an error: a domain error's safe
// detail, else a generic sentence (an adapter's text may carry addresses).
func safeText(err error) string {
	var e *domain.Error
	if errors.As(err, &e) && e.Detail != "" {
		return e.Detail
	}
	return "unavailable"
}

// ErrorText is the text the console shows for err: never an adapter's
// internal message.
func ErrorText(err error) string { return safeText(err) }

// ConsolePageSize is how many jobs or reports one console page lists.
const ConsolePageSize = 20

// searchDepth bounds how many jobs of each state a search reads: a search
// is for an operator's question, not a scan of a million jobs.
const searchDepth = 500

// Jobs lists one page (from 1) of a queue's jobs in state.
func (c *Console) Jobs(ctx context.Context, queue string, state JobState, page int) ([]JobInfo, error) {
	if c.jobs == nil {
		return nil, domain.Unavailable("this process has no job queue", nil)
	}
	return c.jobs.Jobs(ctx, queue, state, max(page, 1), ConsolePageSize)
}

// JobSearch finds jobs by the report or product their payload names; zero
// matches anything.
type JobSearch struct {
	Queue     string
	ReportID  int64
	ProductID int64
}

// SearchJobs returns the jobs, in every state, whose payload names the
// report or product searched for, reading at most searchDepth jobs of each
// state.
func (c *Console) SearchJobs(ctx context.Context, s JobSearch) ([]JobInfo, error) {
	if c.jobs == nil {
		return nil, domain.Unavailable("this process has no job queue", nil)
	}
	var out []JobInfo
	for _, st := range JobStates {
		jobs, err := c.jobs.Jobs(ctx, s.Queue, st, 1, searchDepth)
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			var p ReportPayload
			if json.Unmarshal(j.Payload, &p) != nil {
				continue
			}
			if (s.ReportID == 0 || p.ReportID == s.ReportID) && (s.ProductID == 0 || p.ProductID == s.ProductID) {
				out = append(out, j)
			}
		}
	}
	return out, nil
}

// JobDetail is a job and every attempt at it.
type JobDetail struct {
	Job      JobInfo
	Attempts []JobAttempt
}

// Job returns a job with its attempts.
func (c *Console) Job(ctx context.Context, queue, id string) (JobDetail, error) {
	if c.jobs == nil {
		return JobDetail{}, domain.Unavailable("this process has no job queue", nil)
	}
	j, err := c.jobs.Job(ctx, queue, id)
	if err != nil {
		return JobDetail{}, err
	}
	d := JobDetail{Job: j}
	if c.history != nil {
		d.Attempts, _ = c.history.Attempts(ctx, id)
	}
	return d, nil
}

// JobAction is what an operator asks of one job or one set of jobs.
type JobAction string

// The actions.
const (
	ActionRun     JobAction = "run"
	ActionDelete  JobAction = "delete"
	ActionArchive JobAction = "archive"
)

// ActOnJob runs, deletes or archives one job.
func (c *Console) ActOnJob(ctx context.Context, queue, id string, a JobAction) error {
	if c.jobs == nil {
		return domain.Unavailable("this process has no job queue", nil)
	}
	switch a {
	case ActionRun:
		return c.jobs.RunJob(ctx, queue, id)
	case ActionDelete:
		return c.jobs.DeleteJob(ctx, queue, id)
	case ActionArchive:
		return c.jobs.ArchiveJob(ctx, queue, id)
	}
	return domain.Invalid("unknown action")
}

// ActOnAll runs or deletes every job of a queue's retry or archived set and
// returns how many it moved.
func (c *Console) ActOnAll(ctx context.Context, queue string, state JobState, a JobAction) (int, error) {
	if c.jobs == nil {
		return 0, domain.Unavailable("this process has no job queue", nil)
	}
	if state != JobRetry && state != JobArchived {
		return 0, domain.Invalid("only the retry and archived sets take bulk actions")
	}
	switch a {
	case ActionRun:
		return c.jobs.RunAll(ctx, queue, state)
	case ActionDelete:
		return c.jobs.DeleteAll(ctx, queue, state)
	}
	return 0, domain.Invalid("unknown bulk action")
}

// SetPaused pauses or resumes a queue: a paused queue keeps its jobs but no
// worker takes them.
func (c *Console) SetPaused(ctx context.Context, queue string, paused bool) error {
	if c.jobs == nil {
		return domain.Unavailable("this process has no job queue", nil)
	}
	if paused {
		return c.jobs.Pause(ctx, queue)
	}
	return c.jobs.Resume(ctx, queue)
}

// Reports lists one page of reports, newest first.
func (c *Console) Reports(ctx context.Context, status domain.ReportStatus, beforeID int64) ([]domain.Report, error) {
	return c.store.Reports().List(ctx, domain.ReportQuery{Status: status, BeforeID: beforeID, Limit: ConsolePageSize})
}

// ReportDetail is a report with its product, its job and the attempts at
// it.
type ReportDetail struct {
	Report   domain.Report
	Product  *domain.Product // nil when the product is gone
	Job      *JobInfo        // nil when the queue no longer holds it
	JobID    string          // the queue's id of the report's job
	Attempts []JobAttempt
}

// Report returns a report's detail.
func (c *Console) Report(ctx context.Context, id int64) (ReportDetail, error) {
	r, err := c.store.Reports().Get(ctx, id)
	if err != nil {
		return ReportDetail{}, err
	}
	d := ReportDetail{Report: r}
	if p, err := c.store.Products().Get(ctx, r.ProductID); err == nil {
		d.Product = &p
	}
	if c.jobs == nil {
		return d, nil
	}
	job := ReportJob(r)
	if d.JobID, err = c.jobs.TaskID(ctx, job.ID); err != nil {
		return d, nil
	}
	if j, err := c.jobs.Job(ctx, job.Queue, d.JobID); err == nil {
		d.Job = &j
	}
	if c.history != nil {
		d.Attempts, _ = c.history.Attempts(ctx, d.JobID)
		// A report left running was enqueued again under another id.
		for n := 1; n <= r.Attempts; n++ {
			retake, err := c.jobs.TaskID(ctx, SweepJob(domain.Report{ID: r.ID, ProductID: r.ProductID,
				Status: domain.ReportRunning, Attempts: n}).ID)
			if err != nil {
				break
			}
			more, _ := c.history.Attempts(ctx, retake)
			d.Attempts = append(d.Attempts, more...)
		}
	}
	return d, nil
}

// ProductDetail is a product as PostgreSQL holds it and what the cache
// holds for it.
type ProductDetail struct {
	Product *domain.Product // nil when no such product
	Cache   *ProductCacheView
}

// Product returns a product and its cache entries. The product is read
// from the store the console was given; give it the store beneath the
// cache so the view compares the cache with the truth.
func (c *Console) Product(ctx context.Context, id int64) (ProductDetail, error) {
	var d ProductDetail
	p, err := c.store.Products().Get(ctx, id)
	switch {
	case err == nil:
		d.Product = &p
	case domain.KindOf(err) != domain.KindNotFound:
		return d, err
	}
	if c.cache != nil {
		v, err := c.cache.InspectProduct(ctx, id)
		if err != nil {
			return d, err
		}
		d.Cache = &v
	}
	return d, nil
}
