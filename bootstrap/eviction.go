package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// evictionProbeTimeout bounds the question about the queue Redis's policy
// at start; a Redis that does not answer in time is not a reason to refuse.
const evictionProbeTimeout = 3 * time.Second

// noEviction is the one maxmemory-policy under which Redis never drops a
// key: it refuses writes when full instead.
const noEviction = "noeviction"

// checkQueueEviction refuses a queue Redis (REDIS_URL) that may evict keys,
// unless REDIS_ALLOW_EVICTION says to run anyway. asynq keeps queued jobs,
// retries and the locks of running jobs in Redis keys; an evicting Redis
// under memory pressure drops them without a word, and a job the outbox
// handed over is lost. A Redis that cannot tell its policy, or does not
// answer, is let through with a warning: the start should not depend on it.
func checkQueueEviction(ctx context.Context, c Config, log *zap.Logger) error {
	client, err := NewRedisClient(c.RedisURL, c.RedisMode, c.RedisAddrs)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, evictionProbeTimeout)
	defer cancel()
	policy, err := queuePolicy(ctx, client)
	switch {
	case err != nil:
		log.Warn("could not read the queue redis's maxmemory-policy; it must be noeviction",
			zap.String("redis", RedactURL(c.RedisURL)), zap.String("error", Redact(err.Error(), c.RedisURL)))
	case policy == noEviction:
	case c.RedisAllowEviction:
		log.Warn("the queue redis may evict keys and lose jobs; allowed by REDIS_ALLOW_EVICTION",
			zap.String("redis", RedactURL(c.RedisURL)), zap.String("maxmemory_policy", policy))
	default:
		return evictionError(c, policy)
	}
	return nil
}

// evictionError is the one line that refuses an evicting queue Redis and
// names the fixes. When the cache has no Redis of its own it lives in the
// same one, whose policy must then be noeviction too.
func evictionError(c Config, policy string) error {
	fix := "set maxmemory-policy noeviction on it"
	if c.CacheRedisURL == c.RedisURL {
		fix += " (the cache shares it: give the cache its own evicting Redis with CACHE_REDIS_URL)"
	}
	return fmt.Errorf("REDIS_URL: the queue's Redis has maxmemory-policy %s and may evict queued jobs: %s, or set REDIS_ALLOW_EVICTION=true to run anyway",
		policy, fix)
}

// queuePolicy returns the policy of client's Redis; on a cluster, the first
// one of its masters that is not noeviction, if any.
func queuePolicy(ctx context.Context, client redis.UniversalClient) (string, error) {
	cluster, ok := client.(*redis.ClusterClient)
	if !ok {
		return evictionPolicy(ctx, client)
	}
	var mu sync.Mutex
	found := ""
	err := cluster.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		p, err := evictionPolicy(ctx, node)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if found == "" || p != noEviction {
			found = p
		}
		return nil
	})
	return found, err
}

// evictionPolicy reads maxmemory-policy from INFO memory, which managed
// Redis services answer even where CONFIG is renamed or disabled, and from
// CONFIG GET when INFO does not carry it.
func evictionPolicy(ctx context.Context, r redis.Cmdable) (string, error) {
	info, err := r.Info(ctx, "memory").Result()
	if p, ok := infoValue(info, "maxmemory_policy"); err == nil && ok {
		return p, nil
	}
	var refused redis.Error
	if err != nil && !errors.As(err, &refused) {
		return "", err // unreachable: CONFIG would not answer either
	}
	m, err := r.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		return "", fmt.Errorf("neither INFO memory nor CONFIG GET tells the policy: %w", err)
	}
	if p := m["maxmemory-policy"]; p != "" {
		return p, nil
	}
	return "", errors.New("neither INFO memory nor CONFIG GET tells the policy")
}

// infoValue returns the value of field in an INFO answer.
func infoValue(info, field string) (string, bool) {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v, true
		}
	}
	return "", false
}
