package memory

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

var errForGood = errors.New("for good")

func TestQueueRunsJobs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		failures     int
		err          error
		wantAttempts int
		wantFailed   int
		wantFinal    bool
	}{
		{"succeeds", 0, nil, 1, 0, false},
		{"succeeds on the last attempt", 2, errors.New("flaky"), 3, 0, true},
		{"fails every attempt", 99, errors.New("broken"), 3, 1, true},
		{"permanent error", 99, errForGood, 1, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := NewQueue(2, time.Millisecond)
			var mu sync.Mutex
			var finals []bool
			run := func(_ context.Context, _ domain.Job, final bool) error {
				mu.Lock()
				defer mu.Unlock()
				finals = append(finals, final)
				if len(finals) <= tc.failures {
					return tc.err
				}
				return nil
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				q.Run(ctx, 2, run, func(err error) bool { return errors.Is(err, errForGood) })
				close(done)
			}()
			job := domain.Job{ID: "report-1", Type: domain.JobGenerateReport, Queue: domain.QueueReport}
			for i := 0; i < 3; i++ {
				if err := q.Enqueue(ctx, job); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				s := q.States()
				if len(s) == 1 && s[0].Complete+s[0].Failed == 1 && s[0].Active+s[0].Retry+s[0].Pending == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("states = %+v", s)
				}
				time.Sleep(time.Millisecond)
			}
			cancel()
			<-done
			mu.Lock()
			defer mu.Unlock()
			if len(finals) != tc.wantAttempts || finals[len(finals)-1] != tc.wantFinal {
				t.Errorf("attempts (final flags) = %v, want %d ending in %v", finals, tc.wantAttempts, tc.wantFinal)
			}
			if got := len(q.Failures(domain.QueueReport)); got != tc.wantFailed {
				t.Errorf("%d failures, want %d", got, tc.wantFailed)
			}
			if tc.wantFailed == 1 {
				if err := q.RetryFailed(domain.QueueReport, "report-1"); err != nil {
					t.Errorf("RetryFailed: %v", err)
				}
				if s := q.States(); s[0].Pending != 1 || s[0].Failed != 0 {
					t.Errorf("after retry states = %+v", s)
				}
			}
			if err := q.RetryFailed(domain.QueueReport, "nope"); domain.KindOf(err) != domain.KindNotFound {
				t.Errorf("RetryFailed(unknown) = %v", err)
			}
		})
	}
}

// TestQueueStopsWithAJobRunning: a job that shutdown interrupts goes back
// to the queue, and Run returns instead of taking it again.
func TestQueueStopsWithAJobRunning(t *testing.T) {
	t.Parallel()
	q := NewQueue(2, time.Millisecond)
	started := make(chan struct{}, 1)
	run := func(ctx context.Context, _ domain.Job, _ bool) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		q.Run(ctx, 1, run, func(error) bool { return false })
		close(done)
	}()
	if err := q.Enqueue(ctx, domain.Job{ID: "report-1", Type: domain.JobGenerateReport, Queue: domain.QueueReport}); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended with a job running")
	}
	if s := q.States(); len(s) != 1 || s[0].Pending != 1 {
		t.Fatalf("states = %+v, want the interrupted job pending again", s)
	}
}
