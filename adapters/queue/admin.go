package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// Inspector reads and repairs queues through asynq's Inspector. It is the
// application.QueueInspector.
type Inspector struct {
	inspector *asynq.Inspector
	queues    []string
}

var _ application.QueueInspector = (*Inspector)(nil)

// NewInspector returns an inspector on rdb. queues are always counted, even
// before asynq has seen a job in them; other queues asynq knows are added.
func NewInspector(rdb redis.UniversalClient, queues ...string) *Inspector {
	return &Inspector{inspector: asynq.NewInspectorFromRedisClient(rdb), queues: queues}
}

// Counts returns the counts of every known queue, in a stable order.
func (i *Inspector) Counts(_ context.Context) ([]application.QueueCounts, error) {
	names, err := i.inspector.Queues()
	if err != nil {
		return nil, unavailable(err)
	}
	known := map[string]bool{}
	for _, q := range names {
		known[q] = true
	}
	seen := map[string]bool{}
	var out []application.QueueCounts
	for _, q := range append(append([]string{}, i.queues...), names...) {
		if seen[q] {
			continue
		}
		seen[q] = true
		if !known[q] {
			// asynq learns a queue from its first job; until then it is empty.
			out = append(out, application.QueueCounts{Queue: q})
			continue
		}
		info, err := i.inspector.GetQueueInfo(q)
		if err != nil {
			return nil, unavailable(err)
		}
		out = append(out, application.QueueCounts{
			Queue:     q,
			Pending:   info.Pending,
			Active:    info.Active,
			Scheduled: info.Scheduled,
			Retry:     info.Retry,
			Archived:  info.Archived,
			Completed: info.Completed,
		})
	}
	return out, nil
}

// Failed lists up to limit archived jobs of queue with their last error.
func (i *Inspector) Failed(_ context.Context, queue string, limit int) ([]application.FailedJob, error) {
	tasks, err := i.inspector.ListArchivedTasks(queue, asynq.PageSize(limit))
	switch {
	case errors.Is(err, asynq.ErrQueueNotFound) && slices.Contains(i.queues, queue):
		// A configured queue asynq has not seen a job in yet has no failures.
		return []application.FailedJob{}, nil
	case errors.Is(err, asynq.ErrQueueNotFound):
		return nil, domain.NotFound("queue %q not found", queue)
	case err != nil:
		return nil, unavailable(err)
	}
	out := make([]application.FailedJob, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, application.FailedJob{
			ID:           t.ID,
			Type:         t.Type,
			Queue:        t.Queue,
			Payload:      t.Payload,
			Retried:      t.Retried,
			MaxRetry:     t.MaxRetry,
			LastError:    t.LastErr,
			LastFailedAt: t.LastFailedAt,
		})
	}
	return out, nil
}

// Retry moves a failed (archived) job back to pending.
func (i *Inspector) Retry(_ context.Context, queue, id string) error {
	info, err := i.inspector.GetTaskInfo(queue, id)
	switch {
	case errors.Is(err, asynq.ErrQueueNotFound):
		return domain.NotFound("queue %q not found", queue)
	case errors.Is(err, asynq.ErrTaskNotFound):
		return domain.NotFound("job %q not found in queue %q", id, queue)
	case err != nil:
		return unavailable(err)
	}
	if info.State != asynq.TaskStateArchived {
		return domain.Conflict(fmt.Sprintf("job %q is %s, not failed", id, info.State))
	}
	err = i.inspector.RunTask(queue, id)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		return domain.NotFound("job %q not found in queue %q", id, queue)
	case err != nil:
		return unavailable(err)
	}
	return nil
}

func unavailable(err error) error {
	return domain.Unavailable("the job queue is unreachable", err)
}
