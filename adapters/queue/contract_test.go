package queue

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
)

// TestQueueContract holds the asynq queue and its inspector to the promises
// the memory twin keeps too, on a single Redis and on a cluster.
func TestQueueContract(t *testing.T) {
	t.Parallel()
	for _, topology := range topologies {
		t.Run(topology, func(t *testing.T) {
			t.Parallel()
			rdb := newRedis(t, topology)
			contract.RunQueue(t, func(t *testing.T) contract.QueueSubject {
				// One server for every subtest: each starts from an empty one.
				if err := flushAll(rdb); err != nil {
					t.Fatal(err)
				}
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
}

// flushAll empties a private Redis (every master of a cluster); never
// the shared one.
func flushAll(rdb redis.UniversalClient) error {
	ctx := context.Background()
	if c, ok := rdb.(*redis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			return m.FlushAll(ctx).Err()
		})
	}
	return rdb.FlushAll(ctx).Err()
}
