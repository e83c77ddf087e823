package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// Browser lists jobs by state and acts on them through asynq's Inspector.
// It is the console's application.JobBrowser.
type Browser struct {
	inspector *asynq.Inspector
	queues    []string
	namespace func(context.Context) (string, error)
}

var _ application.JobBrowser = (*Browser)(nil)

// NewBrowser returns a browser on rdb. namespace, when not nil, gives the
// database identity task ids carry (see Options.Namespace); queues are
// the queues that exist even before asynq saw a job in them.
func NewBrowser(rdb redis.UniversalClient, namespace func(context.Context) (string, error), queues ...string) *Browser {
	return &Browser{inspector: asynq.NewInspectorFromRedisClient(rdb), queues: queues, namespace: namespace}
}

// Jobs lists one page (from 1) of queue's jobs in state.
func (b *Browser) Jobs(_ context.Context, queue string, state application.JobState, page, size int) ([]application.JobInfo, error) {
	list := map[application.JobState]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		application.JobPending:   b.inspector.ListPendingTasks,
		application.JobActive:    b.inspector.ListActiveTasks,
		application.JobScheduled: b.inspector.ListScheduledTasks,
		application.JobRetry:     b.inspector.ListRetryTasks,
		application.JobArchived:  b.inspector.ListArchivedTasks,
		application.JobCompleted: b.inspector.ListCompletedTasks,
	}[state]
	if list == nil {
		return nil, domain.Invalid(fmt.Sprintf("unknown job state %q", state))
	}
	tasks, err := list(queue, asynq.Page(page), asynq.PageSize(size))
	if err != nil {
		if errors.Is(err, asynq.ErrQueueNotFound) && slices.Contains(b.queues, queue) {
			return []application.JobInfo{}, nil
		}
		return nil, b.mapErr(err, queue, "")
	}
	out := make([]application.JobInfo, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, jobInfo(t))
	}
	return out, nil
}

// Job returns one job.
func (b *Browser) Job(_ context.Context, queue, id string) (application.JobInfo, error) {
	t, err := b.inspector.GetTaskInfo(queue, id)
	if err != nil {
		return application.JobInfo{}, b.mapErr(err, queue, id)
	}
	return jobInfo(t), nil
}

// TaskID is the id jobID has in the queue.
func (b *Browser) TaskID(ctx context.Context, jobID string) (string, error) {
	if b.namespace == nil {
		return jobID, nil
	}
	ns, err := b.namespace(ctx)
	if err != nil {
		return "", domain.Unavailable("the database's identity is unknown", err)
	}
	return domain.QueueTaskID(ns, jobID), nil
}

// RunJob moves a scheduled, retry or archived job to pending now.
func (b *Browser) RunJob(_ context.Context, queue, id string) error {
	return b.mapErr(b.inspector.RunTask(queue, id), queue, id)
}

// DeleteJob removes a job that is not running.
func (b *Browser) DeleteJob(_ context.Context, queue, id string) error {
	return b.mapErr(b.inspector.DeleteTask(queue, id), queue, id)
}

// ArchiveJob moves a pending, scheduled or retry job to the archived set.
func (b *Browser) ArchiveJob(_ context.Context, queue, id string) error {
	return b.mapErr(b.inspector.ArchiveTask(queue, id), queue, id)
}

// RunAll moves every job of the retry or archived set to pending.
func (b *Browser) RunAll(_ context.Context, queue string, state application.JobState) (int, error) {
	return b.bulk(queue, state, b.inspector.RunAllRetryTasks, b.inspector.RunAllArchivedTasks)
}

// DeleteAll deletes every job of the retry or archived set.
func (b *Browser) DeleteAll(_ context.Context, queue string, state application.JobState) (int, error) {
	return b.bulk(queue, state, b.inspector.DeleteAllRetryTasks, b.inspector.DeleteAllArchivedTasks)
}

// bulk runs the action of the set state names on queue: only the retry
// and archived sets take bulk actions.
func (b *Browser) bulk(queue string, state application.JobState, onRetry, onArchived func(queue string) (int, error)) (int, error) {
	var action func(string) (int, error)
	switch state {
	case application.JobRetry:
		action = onRetry
	case application.JobArchived:
		action = onArchived
	default:
		return 0, domain.Invalid("only the retry and archived sets take bulk actions")
	}
	n, err := action(queue)
	return n, b.mapErr(err, queue, "")
}

// Pause stops workers taking the queue's jobs.
func (b *Browser) Pause(_ context.Context, queue string) error {
	return b.mapErr(b.inspector.PauseQueue(queue), queue, "")
}

// Resume lets workers take the queue's jobs again.
func (b *Browser) Resume(_ context.Context, queue string) error {
	return b.mapErr(b.inspector.UnpauseQueue(queue), queue, "")
}

// Paused says whether the queue is paused.
func (b *Browser) Paused(_ context.Context, queue string) (bool, error) {
	info, err := b.inspector.GetQueueInfo(queue)
	if err != nil {
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return false, nil
		}
		return false, b.mapErr(err, queue, "")
	}
	return info.Paused, nil
}

// Workers lists the worker processes whose heartbeat asynq still holds. A
// process runs several asynq servers (its lanes, see worker.Server), all
// started within moments: they are listed as the one process they are,
// with their concurrency and active jobs summed. Servers of one host and
// pid started further apart are a process and its successor that reused
// the pid (a container's pid 1), and stay apart.
func (b *Browser) Workers(context.Context) ([]application.WorkerProcess, error) {
	servers, err := b.inspector.Servers()
	if err != nil {
		return nil, unavailable(err)
	}
	slices.SortFunc(servers, func(a, b *asynq.ServerInfo) int { return a.Started.Compare(b.Started) })
	var out []application.WorkerProcess
	for _, s := range servers {
		i := slices.IndexFunc(out, func(w application.WorkerProcess) bool {
			return w.Host == s.Host && w.PID == s.PID && s.Started.Sub(w.Started) < lanesStartWithin
		})
		if i < 0 {
			out = append(out, application.WorkerProcess{ID: s.ID, Host: s.Host, PID: s.PID, Status: s.Status, Started: s.Started})
			i = len(out) - 1
		}
		w := &out[i]
		w.Concurrency += s.Concurrency
		w.Active += len(s.ActiveWorkers)
		for q := range s.Queues {
			if !slices.Contains(w.Queues, q) {
				w.Queues = append(w.Queues, q)
			}
		}
	}
	for i := range out {
		slices.Sort(out[i].Queues)
	}
	return out, nil
}

// lanesStartWithin bounds how far apart one process's lanes start.
const lanesStartWithin = 10 * time.Second

func (b *Browser) mapErr(err error, queue, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, asynq.ErrQueueNotFound):
		return domain.NotFound("queue %q not found", queue)
	case errors.Is(err, asynq.ErrTaskNotFound):
		return domain.NotFound("job %q not found in queue %q", id, queue)
	case errors.Is(err, asynq.ErrQueueNotEmpty):
		return domain.Conflict("the queue is not empty")
	}
	if isStateError(err) {
		return domain.Conflict(fmt.Sprintf("job %q cannot do that in its state", id))
	}
	return unavailable(err)
}

// isStateError recognizes asynq's refusals of an action the job's state
// does not allow (running a pending job, archiving an archived one).
func isStateError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"already", "cannot", "is in active state", "FAILED_PRECONDITION"} {
		if strings.Contains(strings.ToLower(msg), strings.ToLower(s)) {
			return true
		}
	}
	return false
}

func jobInfo(t *asynq.TaskInfo) application.JobInfo {
	return application.JobInfo{
		ID: t.ID, Queue: t.Queue, Type: t.Type, State: jobState(t.State), Payload: t.Payload,
		Retried: t.Retried, MaxRetry: t.MaxRetry, LastError: t.LastErr,
		LastFailedAt: t.LastFailedAt, NextProcessAt: t.NextProcessAt, CompletedAt: t.CompletedAt,
	}
}

func jobState(s asynq.TaskState) application.JobState {
	switch s {
	case asynq.TaskStateActive:
		return application.JobActive
	case asynq.TaskStateScheduled:
		return application.JobScheduled
	case asynq.TaskStateRetry:
		return application.JobRetry
	case asynq.TaskStateArchived:
		return application.JobArchived
	case asynq.TaskStateCompleted:
		return application.JobCompleted
	}
	return application.JobPending
}
