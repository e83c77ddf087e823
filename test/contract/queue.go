package contract

import (
	"bytes"
	"testing"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// QueueSubject is a job queue with its inspector, as one adapter provides
// them, over an empty store.
type QueueSubject struct {
	Queue     domain.JobQueue
	Inspector application.QueueInspector
	// Name is the queue the inspector was configured with, where the
	// suite enqueues.
	Name string
	// Fail makes the pending job id of the queue fail for good, as a
	// worker's attempt that returned a permanent error does. The suite
	// calls it only when that job is the only one pending.
	Fail func(t *testing.T, id string)
}

// RunQueue runs the specification of domain.JobQueue together with
// application.QueueInspector. Every subtest calls newQueue for a subject of
// its own. Job IDs are used without a namespace, so the inspector's ids are
// the jobs' IDs.
//
// Decisions the ports leave open and this suite fixes:
//   - The configured queue is counted, and lists no failures, before any
//     job was enqueued in it; a queue neither configured nor seen is
//     KindNotFound for Failed and Retry.
//   - Enqueueing an ID the queue holds in any state (pending or failed)
//     succeeds and adds nothing.
//   - Retry of a job that has not failed is KindConflict; of an unknown
//     job, KindNotFound.
func RunQueue(t *testing.T, newQueue func(t *testing.T) QueueSubject) {
	t.Helper()
	specs := []struct {
		name string
		run  func(t *testing.T, s QueueSubject)
	}{
		{"an empty queue is counted", testQueueEmpty},
		{"enqueued jobs are pending", testQueuePending},
		{"one copy per job id", testQueueOneCopy},
		{"a failed job is listed and retried", testQueueFailedRetry},
		{"a failed id enqueued again stays failed", testQueueFailedEnqueueAgain},
		{"failed jobs up to the limit", testQueueFailedLimit},
		{"retry of a job that has not failed", testQueueRetryPending},
		{"unknown jobs and queues", testQueueUnknown},
	}
	for _, spec := range specs {
		t.Run(spec.name, func(t *testing.T) {
			spec.run(t, newQueue(t))
		})
	}
}

func queueJob(s QueueSubject, id string) domain.Job {
	return domain.Job{ID: id, Type: domain.JobGenerateReport, Queue: s.Name, Payload: []byte(`{"reportId":"` + id + `"}`)}
}

func enqueue(t *testing.T, s QueueSubject, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.Queue.Enqueue(cacheCtx(t), queueJob(s, id)); err != nil {
			t.Fatalf("Enqueue(%s): %v", id, err)
		}
	}
}

// counts returns the counts of the subject's queue, failing if it is not
// listed.
func counts(t *testing.T, s QueueSubject) application.QueueCounts {
	t.Helper()
	all, err := s.Inspector.Counts(cacheCtx(t))
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	for _, c := range all {
		if c.Queue == s.Name {
			return c
		}
	}
	t.Fatalf("Counts = %+v lists no queue %q", all, s.Name)
	return application.QueueCounts{}
}

func wantCounts(t *testing.T, s QueueSubject, pending, archived int) {
	t.Helper()
	c := counts(t, s)
	if c.Pending != pending || c.Archived != archived || c.Active != 0 {
		t.Fatalf("counts = %+v, want %d pending and %d failed", c, pending, archived)
	}
}

func failed(t *testing.T, s QueueSubject, limit int) []application.FailedJob {
	t.Helper()
	jobs, err := s.Inspector.Failed(cacheCtx(t), s.Name, limit)
	if err != nil {
		t.Fatalf("Failed: %v", err)
	}
	return jobs
}

func testQueueEmpty(t *testing.T, s QueueSubject) {
	wantCounts(t, s, 0, 0)
	if jobs := failed(t, s, 10); len(jobs) != 0 {
		t.Fatalf("failed jobs of an empty queue = %+v", jobs)
	}
}

func testQueuePending(t *testing.T, s QueueSubject) {
	enqueue(t, s, "job-1", "job-2")
	wantCounts(t, s, 2, 0)
}

func testQueueOneCopy(t *testing.T, s QueueSubject) {
	enqueue(t, s, "job-1", "job-1", "job-2", "job-1")
	wantCounts(t, s, 2, 0)
}

func testQueueFailedRetry(t *testing.T, s QueueSubject) {
	enqueue(t, s, "job-1")
	s.Fail(t, "job-1")
	wantCounts(t, s, 0, 1)
	jobs := failed(t, s, 10)
	want := queueJob(s, "job-1")
	if len(jobs) != 1 || jobs[0].ID != want.ID || jobs[0].Type != want.Type || jobs[0].Queue != want.Queue ||
		!bytes.Equal(jobs[0].Payload, want.Payload) {
		t.Fatalf("failed = %+v, want job-1 as enqueued", jobs)
	}
	if err := s.Inspector.Retry(cacheCtx(t), s.Name, "job-1"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	wantCounts(t, s, 1, 0)
	if jobs := failed(t, s, 10); len(jobs) != 0 {
		t.Fatalf("failed after retry = %+v", jobs)
	}
	wantKind(t, "Retry of a retried job", s.Inspector.Retry(cacheCtx(t), s.Name, "job-1"), domain.KindConflict, "")
}

func testQueueFailedEnqueueAgain(t *testing.T, s QueueSubject) {
	enqueue(t, s, "job-1")
	s.Fail(t, "job-1")
	enqueue(t, s, "job-1")
	wantCounts(t, s, 0, 1)
}

func testQueueFailedLimit(t *testing.T, s QueueSubject) {
	for _, id := range []string{"job-1", "job-2", "job-3"} {
		enqueue(t, s, id)
		s.Fail(t, id)
	}
	wantCounts(t, s, 0, 3)
	if jobs := failed(t, s, 2); len(jobs) != 2 {
		t.Fatalf("Failed(limit 2) listed %d jobs", len(jobs))
	}
	if jobs := failed(t, s, 10); len(jobs) != 3 {
		t.Fatalf("Failed(limit 10) listed %d jobs, want 3", len(jobs))
	}
}

func testQueueRetryPending(t *testing.T, s QueueSubject) {
	enqueue(t, s, "job-1")
	wantKind(t, "Retry of a pending job", s.Inspector.Retry(cacheCtx(t), s.Name, "job-1"), domain.KindConflict, "")
	wantCounts(t, s, 1, 0)
}

func testQueueUnknown(t *testing.T, s QueueSubject) {
	enqueue(t, s, "job-1")
	ctx := cacheCtx(t)
	wantKind(t, "Retry of an unknown job", s.Inspector.Retry(ctx, s.Name, "job-9"), domain.KindNotFound, "")
	wantKind(t, "Retry in an unknown queue", s.Inspector.Retry(ctx, "no-such-queue", "job-1"), domain.KindNotFound, "")
	_, err := s.Inspector.Failed(ctx, "no-such-queue", 10)
	wantKind(t, "Failed of an unknown queue", err, domain.KindNotFound, "")
}
