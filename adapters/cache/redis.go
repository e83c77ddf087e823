package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/domain"
)

// advanceScript sets a generation to max(current+1, Redis's clock in
// microseconds); with ARGV[1] "init" it does so only when the generation is
// missing. Seeding from the clock means a generation lost to eviction or a
// restart comes back larger than any value it had, so old stamps stay dead.
// One key per call keeps it valid on Redis Cluster.
const advanceScript = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[1] == 'init' and cur > 0 then
  return cur
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = cur + 1
if now > n then
  n = now
end
redis.call('SET', KEYS[1], string.format('%.0f', n))
return n
`

// Redis is domain.Cache on a go-redis client (single, sentinel or
// cluster). Give the client short timeouts and no retries: a slow cache is
// worth less than no cache.
type Redis struct {
	client redis.UniversalClient
	// cluster is client on Redis Cluster, where the keys of one read may
	// live on several nodes; nil otherwise.
	cluster *redis.ClusterClient
	cfg     RedisConfig
}

var _ domain.Cache = (*Redis)(nil)

// RedisConfig tunes a Redis cache.
type RedisConfig struct {
	// Replicas is how many replicas must acknowledge a bump or a broadcast
	// before it counts (WAIT): 1 behind Sentinel, where a failover promotes a
	// replica and forgets whatever the old master acknowledged alone; 0
	// elsewhere.
	Replicas int
	// ReplicaTimeout bounds the wait for them; shorter than the client's
	// read timeout.
	ReplicaTimeout time.Duration
}

// DefaultReplicaTimeout is how long a bump waits for its replica.
const DefaultReplicaTimeout = 50 * time.Millisecond

// ErrNotReplicated is a write no replica acknowledged in time: a failover
// could forget it, so it must not count as an invalidation.
var ErrNotReplicated = errors.New("no replica acknowledged the write")

// NewRedis returns the cache on client, with no replica to wait for.
func NewRedis(client redis.UniversalClient) *Redis { return NewRedisWith(client, RedisConfig{}) }

// NewRedisWith returns the cache on client, tuned by cfg.
func NewRedisWith(client redis.UniversalClient, cfg RedisConfig) *Redis {
	cluster, _ := client.(*redis.ClusterClient)
	if cfg.ReplicaTimeout <= 0 {
		cfg.ReplicaTimeout = DefaultReplicaTimeout
	}
	return &Redis{client: client, cluster: cluster, cfg: cfg}
}

// awaitReplicas appends WAIT to a pipeline whose writes must reach the
// replicas: WAIT covers the writes sent before it on the same connection,
// which a pipeline is.
func (r *Redis) awaitReplicas(ctx context.Context, p redis.Pipeliner) *redis.Cmd {
	if r.cfg.Replicas <= 0 {
		return nil
	}
	return p.Do(ctx, "wait", r.cfg.Replicas, r.cfg.ReplicaTimeout.Milliseconds())
}

// replicated checks what awaitReplicas' WAIT answered.
func (r *Redis) replicated(wait *redis.Cmd) error {
	if wait == nil {
		return nil
	}
	n, err := wait.Int64()
	if err != nil {
		return err
	}
	if n < int64(r.cfg.Replicas) {
		return fmt.Errorf("%w (%d of %d)", ErrNotReplicated, n, r.cfg.Replicas)
	}
	return nil
}

// Server names the Redis server the client now talks to (its run id),
// which changes when a failover moves the client to another server. On a
// cluster, where INFO reaches one node at random, it names every master
// (address and run id, sorted): a master restarted or replaced by a
// replica changes the name.
func (r *Redis) Server(ctx context.Context) (string, error) {
	if r.cluster == nil {
		return runID(ctx, r.client)
	}
	var (
		mu      sync.Mutex
		masters []string
	)
	err := r.cluster.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		id, err := runID(ctx, m)
		mu.Lock()
		masters = append(masters, m.Options().Addr+"="+id)
		mu.Unlock()
		return err
	})
	if err != nil {
		return "", err
	}
	slices.Sort(masters)
	return strings.Join(masters, ","), nil
}

// runID returns the run id a server's INFO reports.
func runID(ctx context.Context, c redis.Cmdable) (string, error) {
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("server identity: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return id, nil
		}
	}
	return "", errors.New("server identity: INFO has no run_id")
}

// Read gets every generation and the entry in one round trip: one MGET on
// a single node or sentinel, a pipeline of GETs (split per node) on a
// cluster. Generations missing from Redis (the first read of a product, or
// after an eviction) are created in one more round trip.
func (r *Redis) Read(ctx context.Context, key string, gens []string) ([]int64, []byte, error) {
	vals, err := r.get(ctx, append(gens[:len(gens):len(gens)], key))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", key, err)
	}
	return r.parse(ctx, gens, vals)
}

// parse reads what get answered for gens and an entry, creating the
// generations that were missing.
func (r *Redis) parse(ctx context.Context, gens []string, vals []any) ([]int64, []byte, error) {
	out := make([]int64, len(gens))
	var missing []int
	for i := range gens {
		s, ok := vals[i].(string)
		if !ok {
			missing = append(missing, i)
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("read generation %s: %w", gens[i], err)
		}
		out[i] = n
	}
	if err := r.create(ctx, gens, missing, out); err != nil {
		return nil, nil, err
	}
	var value []byte
	if s, ok := vals[len(gens)].(string); ok {
		value = []byte(s)
	}
	return out, value, nil
}

// create sets the generations gens[i] for i in missing, as advanceScript's
// "init" does, in one pipeline, and stores their values in out.
func (r *Redis) create(ctx context.Context, gens []string, missing []int, out []int64) error {
	if len(missing) == 0 {
		return nil
	}
	cmds := make([]*redis.Cmd, len(missing))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for j, i := range missing {
			cmds[j] = p.Eval(ctx, advanceScript, []string{gens[i]}, "init")
		}
		return nil
	})
	for j, i := range missing {
		if err == nil {
			out[i], err = cmds[j].Int64()
		}
		if err != nil {
			return fmt.Errorf("advance generation %s: %w", gens[i], err)
		}
	}
	return nil
}

// ReadClaim is Read and Claim of lease in one round trip: the claim is
// sent whatever the read finds, which costs an unused lease when the entry
// turned out current.
func (r *Redis) ReadClaim(ctx context.Context, key string, gens []string, lease string, ttl time.Duration) ([]int64, []byte, bool, error) {
	keys := append(gens[:len(gens):len(gens)], key)
	var claim *redis.BoolCmd
	var mget *redis.SliceCmd
	gets := make([]*redis.StringCmd, len(keys))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		if r.cluster == nil {
			mget = p.MGet(ctx, keys...)
		} else {
			for i, k := range keys {
				gets[i] = p.Get(ctx, k)
			}
		}
		claim = p.SetNX(ctx, lease, "1", ttl)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, false, fmt.Errorf("read and claim %s: %w", key, err)
	}
	vals := make([]any, len(keys))
	if mget != nil {
		if vals, err = mget.Result(); err != nil {
			return nil, nil, false, fmt.Errorf("read %s: %w", key, err)
		}
	} else {
		for i, c := range gets {
			v, err := c.Result()
			switch {
			case errors.Is(err, redis.Nil):
			case err != nil:
				return nil, nil, false, fmt.Errorf("read %s: %w", key, err)
			default:
				vals[i] = v
			}
		}
	}
	ok, err := claim.Result()
	if err != nil {
		return nil, nil, false, fmt.Errorf("claim %s: %w", lease, err)
	}
	out, value, err := r.parse(ctx, gens, vals)
	return out, value, ok, err
}

// get returns the value of every key as MGET does: a string, or nil for a
// missing key. Generations are parsed from the strings and only the entry
// is copied into bytes, which a hit would otherwise pay for every key.
func (r *Redis) get(ctx context.Context, keys []string) ([]any, error) {
	if r.cluster == nil {
		return r.client.MGet(ctx, keys...).Result()
	}
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]any, len(keys))
	for i, c := range cmds {
		v, err := c.Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, err
		default:
			out[i] = v
		}
	}
	return out, nil
}

// Write stores value at key for ttl.
func (r *Redis) Write(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := r.client.Set(ctx, key, value, ttl).Err(); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// Bump advances every generation in gens, in one pipeline.
func (r *Redis) Bump(ctx context.Context, gens ...string) error {
	if len(gens) == 0 {
		return nil
	}
	var wait *redis.Cmd
	cmds, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, g := range gens {
			p.Eval(ctx, advanceScript, []string{g}, "bump")
		}
		wait = r.awaitReplicas(ctx, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("bump generations: %w", err)
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return fmt.Errorf("bump generations: %w", err)
		}
	}
	if err := r.replicated(wait); err != nil {
		return fmt.Errorf("bump generations: %w", err)
	}
	return nil
}

// Claim sets key with NX and a TTL.
func (r *Redis) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := r.client.SetNX(ctx, key, "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", key, err)
	}
	return ok, nil
}

// Ping reports whether Redis answers; on a cluster, whether every master
// does. A cluster pings one node at random, and trusting the cache while
// one master hangs would retire every entry (an epoch bump) each time a
// bump to that master failed.
func (r *Redis) Ping(ctx context.Context) error {
	if r.cluster != nil {
		return r.cluster.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			return m.Ping(ctx).Err()
		})
	}
	return r.client.Ping(ctx).Err()
}
