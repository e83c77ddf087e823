package memory

import (
	"context"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// Inspector shows a Queue to the queue admin: the application.QueueInspector
// of the dev fallback, held to the same contract as the Redis one.
type Inspector struct {
	q      *Queue
	queues []string
}

var _ application.QueueInspector = (*Inspector)(nil)

// NewInspector returns the inspector of q. queues are always counted, even
// before a job was enqueued in them; other queues q has seen are added.
func NewInspector(q *Queue, queues ...string) *Inspector {
	return &Inspector{q: q, queues: queues}
}

// Counts returns the counts of the configured queues, in order, then of
// every other queue q has seen, by name.
func (i *Inspector) Counts(context.Context) ([]application.QueueCounts, error) {
	out := make([]application.QueueCounts, 0, len(i.queues))
	index := map[string]int{}
	for _, name := range i.queues {
		if _, ok := index[name]; !ok {
			index[name] = len(out)
			out = append(out, application.QueueCounts{Queue: name})
		}
	}
	for _, s := range i.q.States() {
		c := application.QueueCounts{Queue: s.Queue, Pending: s.Pending, Active: s.Active,
			Retry: s.Retry, Archived: s.Failed, Completed: s.Complete}
		if n, ok := index[s.Queue]; ok {
			out[n] = c
		} else {
			out = append(out, c)
		}
	}
	return out, nil
}

// known reports whether queue is configured or q has seen a job in it.
func (i *Inspector) known(queue string) bool {
	for _, name := range i.queues {
		if name == queue {
			return true
		}
	}
	for _, s := range i.q.States() {
		if s.Queue == queue {
			return true
		}
	}
	return false
}

// Failed lists up to limit jobs of queue that failed for good, oldest first.
func (i *Inspector) Failed(_ context.Context, queue string, limit int) ([]application.FailedJob, error) {
	if !i.known(queue) {
		return nil, domain.NotFound("queue %q not found", queue)
	}
	out := []application.FailedJob{}
	for _, f := range i.q.Failures(queue) {
		if len(out) == limit {
			break
		}
		out = append(out, application.FailedJob{ID: f.Job.ID, Type: f.Job.Type, Queue: f.Job.Queue,
			Payload: f.Job.Payload, Retried: f.Retried, MaxRetry: i.q.maxRetry, LastError: f.LastError,
			LastFailedAt: f.FailedAt})
	}
	return out, nil
}

// Retry moves a failed job back to pending.
func (i *Inspector) Retry(_ context.Context, queue, id string) error {
	if !i.known(queue) {
		return domain.NotFound("queue %q not found", queue)
	}
	return i.q.RetryFailed(queue, id)
}
