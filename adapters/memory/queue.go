package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/etalase/etalase/domain"
)

// JobFunc runs one attempt of a job; final says no attempt follows.
type JobFunc func(ctx context.Context, job domain.Job, final bool) error

// Queue is an in-process job queue with its own runner: the dev fallback
// when Redis is unreachable. Like the Redis queue it keeps one copy per job
// ID, retries failed attempts with a growing delay and keeps jobs that
// failed for good until they are retried. Jobs live only as long as the
// process: PostgreSQL's sweeper re-enqueues what a restart lost.
type Queue struct {
	maxRetry  int
	baseDelay time.Duration

	mu        sync.Mutex
	pending   []queued
	held      map[string]string // job ID -> state: pending, active, retry
	failed    map[string]QueuedFailure
	completed map[string]int // per queue
	ready     chan struct{}
}

type queued struct {
	job     domain.Job
	retried int
}

// QueuedFailure is a job of a Queue that failed for good.
type QueuedFailure struct {
	Job       domain.Job
	Retried   int
	LastError string
	FailedAt  time.Time
}

var _ domain.JobQueue = (*Queue)(nil)

// NewQueue returns an empty queue that gives each job maxRetry retries,
// the first after baseDelay, each next one twice as late.
func NewQueue(maxRetry int, baseDelay time.Duration) *Queue {
	return &Queue{
		maxRetry:  maxRetry,
		baseDelay: baseDelay,
		held:      map[string]string{},
		failed:    map[string]QueuedFailure{},
		completed: map[string]int{},
		ready:     make(chan struct{}, 1),
	}
}

// Enqueue adds job unless a job with its ID is pending, running or waiting
// to be retried.
func (q *Queue) Enqueue(ctx context.Context, job domain.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.held[job.ID]; ok {
		return nil
	}
	if _, ok := q.failed[job.ID]; ok {
		return nil
	}
	q.push(queued{job: job})
	return nil
}

// push adds a job; the caller holds q.mu.
func (q *Queue) push(j queued) {
	q.held[j.job.ID] = "pending"
	q.pending = append(q.pending, j)
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *Queue) pop() (queued, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return queued{}, false
	}
	j := q.pending[0]
	q.pending = q.pending[1:]
	q.held[j.job.ID] = "active"
	if len(q.pending) > 0 {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return j, true
}

// Run processes jobs with concurrency workers until ctx ends; it returns
// when the running jobs have returned. Errors for which permanent is true
// fail a job at once.
func (q *Queue) Run(ctx context.Context, concurrency int, run JobFunc, permanent func(error) bool) {
	if concurrency <= 0 {
		concurrency = 1
	}
	var wg sync.WaitGroup
	for i := 0; i < concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Checked before every pop: a job shutdown handed back must not
			// be taken again by the ending Run.
			for ctx.Err() == nil {
				j, ok := q.pop()
				if !ok {
					select {
					case <-ctx.Done():
						return
					case <-q.ready:
						continue
					case <-time.After(100 * time.Millisecond):
						continue
					}
				}
				q.finish(ctx, j, run(ctx, j.job, j.retried >= q.maxRetry), permanent)
			}
		}()
	}
	wg.Wait()
}

func (q *Queue) finish(ctx context.Context, j queued, err error, permanent func(error) bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case err == nil:
		delete(q.held, j.job.ID)
		q.completed[j.job.Queue]++
	case ctx.Err() != nil:
		// Interrupted by shutdown: the job goes back, as asynq hands it back.
		q.push(j)
	case permanent(err) || j.retried >= q.maxRetry:
		delete(q.held, j.job.ID)
		q.failed[j.job.ID] = QueuedFailure{Job: j.job, Retried: j.retried, LastError: err.Error(), FailedAt: time.Now()}
	default:
		q.held[j.job.ID] = "retry"
		next := queued{job: j.job, retried: j.retried + 1}
		time.AfterFunc(q.baseDelay<<j.retried, func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			q.push(next)
		})
	}
}

// queueOf returns the queue of a held job as far as it is known: a pending
// job's own, the report queue for running and retrying ones (which, as in
// States, are not tracked by queue). The caller holds q.mu.
func (q *Queue) queueOf(id string) string {
	for _, j := range q.pending {
		if j.job.ID == id {
			return j.job.Queue
		}
	}
	return domain.QueueReport
}

// QueueState is how many jobs of one queue are in each state.
type QueueState struct {
	Queue                                    string
	Pending, Active, Retry, Failed, Complete int
}

// States returns the counts of every queue the queue has seen, by name.
func (q *Queue) States() []QueueState {
	q.mu.Lock()
	defer q.mu.Unlock()
	byQueue := map[string]*QueueState{}
	get := func(name string) *QueueState {
		if byQueue[name] == nil {
			byQueue[name] = &QueueState{Queue: name}
		}
		return byQueue[name]
	}
	for _, j := range q.pending {
		get(j.job.Queue).Pending++
	}
	active := 0
	retry := 0
	for _, state := range q.held {
		switch state {
		case "active":
			active++
		case "retry":
			retry++
		}
	}
	for _, f := range q.failed {
		get(f.Job.Queue).Failed++
	}
	for name, n := range q.completed {
		get(name).Complete = n
	}
	if active+retry > 0 {
		// Active and retrying jobs are not tracked by queue; the dev queue
		// carries one queue, the report queue.
		s := get(domain.QueueReport)
		s.Active, s.Retry = active, retry
	}
	out := make([]QueueState, 0, len(byQueue))
	for _, s := range byQueue {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Queue < out[j].Queue })
	return out
}

// Failures returns the jobs of a queue that failed for good, oldest first.
func (q *Queue) Failures(queue string) []QueuedFailure {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []QueuedFailure
	for _, f := range q.failed {
		if f.Job.Queue == queue {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FailedAt.Before(out[j].FailedAt) })
	return out
}

// RetryFailed moves a failed job back to pending with fresh attempts.
func (q *Queue) RetryFailed(queue, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	f, ok := q.failed[id]
	if !ok || f.Job.Queue != queue {
		if state, held := q.held[id]; held && q.queueOf(id) == queue {
			return domain.Conflict(fmt.Sprintf("job %q is %s, not failed", id, state))
		}
		return domain.NotFound("%s", fmt.Sprintf("job %q not found in queue %q", id, queue))
	}
	delete(q.failed, id)
	q.push(queued{job: f.Job})
	return nil
}
