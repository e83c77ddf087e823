package queue

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/test/redisproc"
)

func TestConcurrentAttemptsAreAllRecorded(t *testing.T) {
	t.Parallel()
	redisproc.RunOnEach(t, concurrentAttemptsAreAllRecorded)
}

// concurrentAttemptsAreAllRecorded: attempts recorded at once (they share
// pipelines) all land, in order per job, and every one is counted in its
// minute, failures apart.
func concurrentAttemptsAreAllRecorded(t *testing.T, rdb redis.UniversalClient) {
	ctx := context.Background()
	h := NewHistory(rdb)
	started := time.Now().Add(-time.Minute).Truncate(time.Minute).Add(10 * time.Second)
	const jobs, perJob = 40, 3
	var wg sync.WaitGroup
	for j := range jobs {
		wg.Go(func() {
			for n := range perJob {
				a := application.JobAttempt{JobID: fmt.Sprintf("report-%d", j), Queue: "report", Type: "generate-report",
					Worker: "host:1", Started: started, Duration: time.Duration(n+1) * time.Millisecond}
				if n < perJob-1 {
					a.Error = fmt.Sprintf("attempt %d failed", n+1)
				}
				if err := h.RecordAttempt(ctx, a); err != nil {
					t.Errorf("RecordAttempt: %v", err)
				}
			}
		})
	}
	wg.Wait()
	for j := range jobs {
		got, err := h.Attempts(ctx, fmt.Sprintf("report-%d", j))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != perJob {
			t.Fatalf("job %d has %d attempts, want %d", j, len(got), perJob)
		}
		for n, a := range got {
			if a.Duration != time.Duration(n+1)*time.Millisecond || (a.Error != "") != (n < perJob-1) {
				t.Errorf("job %d attempt %d = %+v, out of order or wrong", j, n+1, a)
			}
		}
	}
	counts, err := h.PerMinute(ctx, started)
	if err != nil {
		t.Fatal(err)
	}
	var processed, failed int
	for _, c := range counts {
		processed += c.Processed
		failed += c.Failed
	}
	if processed != jobs*perJob || failed != jobs*(perJob-1) {
		t.Errorf("counted %d processed and %d failed, want %d and %d", processed, failed, jobs*perJob, jobs*(perJob-1))
	}
}
