package cache_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/clusterproc"
	"github.com/etalase/etalase/test/contract"
	"github.com/etalase/etalase/test/redisproc"
)

// TestRedisCacheContract holds the Redis cache to the promises the memory
// twin keeps too, on a single Redis and on a cluster (where one read's keys
// live on several nodes).
func TestRedisCacheContract(t *testing.T) {
	t.Parallel()
	for _, topology := range []string{"single", "cluster"} {
		t.Run(topology, func(t *testing.T) {
			t.Parallel()
			opts := &redis.UniversalOptions{}
			if topology == "cluster" {
				opts.Addrs, opts.IsClusterMode = clusterproc.Start(t).Addrs(), true
			} else {
				opts.Addrs = []string{redisproc.Start(t).Addr()}
			}
			rdb := redis.NewUniversalClient(opts)
			t.Cleanup(func() { rdb.Close() })
			contract.RunCache(t, func(t *testing.T) domain.Cache {
				// One private server for every subtest, emptied for each.
				ctx := context.Background()
				var err error
				if c, ok := rdb.(*redis.ClusterClient); ok {
					err = c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.FlushAll(ctx).Err() })
				} else {
					err = rdb.FlushAll(ctx).Err()
				}
				if err != nil {
					t.Fatal(err)
				}
				return cache.NewRedis(rdb)
			})
		})
	}
}
