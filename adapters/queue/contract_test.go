package queue

import (
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
	"github.com/etalase/etalase/test/redisproc"
)

// TestQueueContract holds the asynq queue and its inspector to the promises
// the memory twin keeps too, on a single Redis and on a cluster.
func TestQueueContract(t *testing.T) {
	t.Parallel()
	redisproc.RunOnEach(t, func(t *testing.T, rdb redis.UniversalClient) {
		contract.RunQueue(t, func(t *testing.T) contract.QueueSubject {
			// One server for every subtest: each starts from an empty one.
			redisproc.Flush(t, rdb)
			raw := asynq.NewInspectorFromRedisClient(rdb)
			return contract.QueueSubject{
				Queue:     NewClient(rdb, Options{}),
				Inspector: NewInspector(rdb, domain.QueueReport),
				Name:      domain.QueueReport,
				Fail: func(t *testing.T, id string) {
					// What a worker does with a job whose error is permanent.
					if err := raw.ArchiveTask(domain.QueueReport, id); err != nil {
						t.Fatalf("archive %s: %v", id, err)
					}
				},
			}
		})
	})
}
