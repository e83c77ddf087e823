package cache_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
	"github.com/etalase/etalase/test/redisproc"
)

// TestRedisCacheContract holds the Redis cache to the promises the memory
// twin keeps too, on a single Redis and on a cluster (where one read's keys
// live on several nodes).
func TestRedisCacheContract(t *testing.T) {
	t.Parallel()
	redisproc.RunOnEach(t, func(t *testing.T, rdb redis.UniversalClient) {
		contract.RunCache(t, func(t *testing.T) domain.Cache {
			// One private server for every subtest, emptied for each.
			redisproc.Flush(t, rdb)
			return cache.NewRedis(rdb)
		})
	})
}
