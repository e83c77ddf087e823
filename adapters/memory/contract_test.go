package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
)

func TestCacheContract(t *testing.T) {
	t.Parallel()
	contract.RunCache(t, func(*testing.T) domain.Cache { return memory.NewCache() })
}

func TestCacheEpochContract(t *testing.T) {
	t.Parallel()
	contract.RunCacheEpoch(t, func(*testing.T) domain.CacheEpoch { return memory.NewCacheEpoch() })
}

func TestQueueContract(t *testing.T) {
	t.Parallel()
	contract.RunQueue(t, func(*testing.T) contract.QueueSubject {
		q := memory.NewQueue(2, time.Millisecond)
		return contract.QueueSubject{
			Queue:     q,
			Inspector: memory.NewInspector(q, domain.QueueReport),
			Name:      domain.QueueReport,
			Fail:      func(t *testing.T, id string) { failJob(t, q, id) },
		}
	})
}

// failJob runs q until its one pending job, id, has failed for good with
// a permanent error.
func failJob(t *testing.T, q *memory.Queue, id string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		q.Run(ctx, 1, func(context.Context, domain.Job, bool) error { return errors.New("the attempt failed") },
			func(error) bool { return true })
	}()
	defer func() {
		cancel()
		<-ran
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, f := range q.Failures(domain.QueueReport) {
			if f.Job.ID == id {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s did not fail within 30 s", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
