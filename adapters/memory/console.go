package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// History is the in-memory application.JobHistory and
// application.ProcessBoard: the dev fallback's, and a fake for tests.
type History struct {
	mu        sync.Mutex
	attempts  map[string][]application.JobAttempt
	minutes   map[int64]application.MinuteCount
	processes map[string]application.ProcessStatus
	now       func() time.Time
}

var (
	_ application.JobHistory   = (*History)(nil)
	_ application.ProcessBoard = (*History)(nil)
)

// NewHistory returns an empty history.
func NewHistory() *History {
	return &History{attempts: map[string][]application.JobAttempt{}, minutes: map[int64]application.MinuteCount{},
		processes: map[string]application.ProcessStatus{}, now: time.Now}
}

// RecordAttempt keeps an attempt and counts it in its minute.
func (h *History) RecordAttempt(_ context.Context, a application.JobAttempt) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts[a.JobID] = append(h.attempts[a.JobID], a)
	m := a.Started.Add(a.Duration).Unix() / 60
	c := h.minutes[m]
	c.Processed++
	if a.Error != "" {
		c.Failed++
	}
	h.minutes[m] = c
	return nil
}

// Attempts returns a job's attempts, oldest first.
func (h *History) Attempts(_ context.Context, jobID string) ([]application.JobAttempt, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.attempts[jobID]), nil
}

// PerMinute returns the counts of every minute from since to now.
func (h *History) PerMinute(_ context.Context, since time.Time) ([]application.MinuteCount, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []application.MinuteCount
	for m := since.Unix() / 60; m <= h.now().Unix()/60; m++ {
		c := h.minutes[m]
		c.Minute = time.Unix(m*60, 0).UTC()
		out = append(out, c)
	}
	return out, nil
}

// Publish keeps a process's heartbeat.
func (h *History) Publish(_ context.Context, s application.ProcessStatus) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.processes[s.ID] = s
	return nil
}

// Processes returns the processes heard from in the last 30 seconds.
func (h *History) Processes(context.Context) ([]application.ProcessStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []application.ProcessStatus
	for _, p := range h.processes {
		if h.now().Sub(p.Seen) < 30*time.Second {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b application.ProcessStatus) int { return a.Started.Compare(b.Started) })
	return out, nil
}

// Browser shows the in-memory queue to the console. The in-memory queue
// keeps only its failed jobs: the other states list empty, and an action it
// cannot take is a KindInvalid error.
type Browser struct{ q *Queue }

var _ application.JobBrowser = Browser{}

// NewBrowser returns a browser of q.
func NewBrowser(q *Queue) Browser { return Browser{q} }

func errNoSuchAction() error {
	return domain.Invalid("the in-memory queue of `etalase dev` cannot do that; run with Redis")
}

// Jobs lists the failed jobs as archived; other states are empty.
func (b Browser) Jobs(_ context.Context, queue string, state application.JobState, page, size int) ([]application.JobInfo, error) {
	out := []application.JobInfo{}
	if state != application.JobArchived {
		return out, nil
	}
	for i, f := range b.q.Failures(queue) {
		if i >= (page-1)*size && i < page*size {
			out = append(out, failedInfo(f, b.q.maxRetry))
		}
	}
	return out, nil
}

func failedInfo(f QueuedFailure, maxRetry int) application.JobInfo {
	return application.JobInfo{ID: f.Job.ID, Queue: f.Job.Queue, Type: f.Job.Type, State: application.JobArchived,
		Payload: f.Job.Payload, Retried: f.Retried, MaxRetry: maxRetry, LastError: f.LastError, LastFailedAt: f.FailedAt}
}

// Job returns a failed job.
func (b Browser) Job(_ context.Context, queue, id string) (application.JobInfo, error) {
	for _, f := range b.q.Failures(queue) {
		if f.Job.ID == id {
			return failedInfo(f, b.q.maxRetry), nil
		}
	}
	return application.JobInfo{}, domain.NotFound("job %q not found in queue %q", id, queue)
}

// TaskID is jobID: the in-memory queue has no namespaces.
func (b Browser) TaskID(_ context.Context, jobID string) (string, error) { return jobID, nil }

// RunJob retries a failed job.
func (b Browser) RunJob(_ context.Context, queue, id string) error { return b.q.RetryFailed(queue, id) }

// DeleteJob is not supported.
func (b Browser) DeleteJob(context.Context, string, string) error { return errNoSuchAction() }

// ArchiveJob is not supported.
func (b Browser) ArchiveJob(context.Context, string, string) error { return errNoSuchAction() }

// RunAll retries every failed job.
func (b Browser) RunAll(ctx context.Context, queue string, state application.JobState) (int, error) {
	if state != application.JobArchived {
		return 0, nil
	}
	n := 0
	for _, f := range b.q.Failures(queue) {
		if b.q.RetryFailed(queue, f.Job.ID) == nil {
			n++
		}
	}
	return n, nil
}

// DeleteAll is not supported.
func (b Browser) DeleteAll(context.Context, string, application.JobState) (int, error) {
	return 0, errNoSuchAction()
}

// Pause is not supported.
func (b Browser) Pause(context.Context, string) error { return errNoSuchAction() }

// Resume is not supported.
func (b Browser) Resume(context.Context, string) error { return errNoSuchAction() }

// Paused is always false.
func (b Browser) Paused(context.Context, string) (bool, error) { return false, nil }

// Workers is empty: the in-memory runner is part of this process.
func (b Browser) Workers(context.Context) ([]application.WorkerProcess, error) {
	return []application.WorkerProcess{}, nil
}
