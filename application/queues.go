package application

import (
	"context"
	"time"
)

// QueueCounts is how many jobs a queue holds in each state.
type QueueCounts struct {
	Queue     string
	Pending   int
	Active    int
	Scheduled int
	Retry     int
	Archived  int // failed for good: attempts exhausted or not retryable
	Completed int // finished and still retained
}

// FailedJob is a job that failed for good, with its last error.
type FailedJob struct {
	ID           string
	Type         string
	Queue        string
	Payload      []byte
	Retried      int
	MaxRetry     int
	LastError    string
	LastFailedAt time.Time
}

// QueueInspector is what the queue admin needs of a job queue. Failed and
// Retry return a KindNotFound error for an unknown queue or job.
type QueueInspector interface {
	Counts(ctx context.Context) ([]QueueCounts, error)
	Failed(ctx context.Context, queue string, limit int) ([]FailedJob, error)
	Retry(ctx context.Context, queue, id string) error
}

// MaxFailedListed bounds a list of failed jobs.
const MaxFailedListed = 100

// QueueAdmin is the operator's view of the job queues: counts per state,
// the failed jobs and retrying one.
type QueueAdmin struct {
	inspector QueueInspector
}

// NewQueueAdmin returns the queue admin use cases over an inspector.
func NewQueueAdmin(inspector QueueInspector) *QueueAdmin {
	return &QueueAdmin{inspector: inspector}
}

// Counts returns the counts of every queue.
func (a *QueueAdmin) Counts(ctx context.Context) ([]QueueCounts, error) {
	return a.inspector.Counts(ctx)
}

// Failed returns up to MaxFailedListed failed jobs of a queue.
func (a *QueueAdmin) Failed(ctx context.Context, queue string) ([]FailedJob, error) {
	return a.inspector.Failed(ctx, queue, MaxFailedListed)
}

// Retry moves a failed job back to pending. The job's report, if any, leaves
// the failed state when a worker starts it again.
func (a *QueueAdmin) Retry(ctx context.Context, queue, id string) error {
	return a.inspector.Retry(ctx, queue, id)
}
