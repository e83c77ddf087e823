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
// cluster.
func (r *Redis) Read(ctx context.Context, key string, gens []string) ([]int64, []byte, error) {
	vals, err := r.get(ctx, append(gens[:len(gens):len(gens)], key))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", key, err)
	}
	out := make([]int64, len(gens))
	for i, g := range gens {
		s, ok := vals[i].(string)
		if !ok {
			if out[i], err = r.advance(ctx, g, "init"); err != nil {
				return nil, nil, err
			}
			continue
		}
		if out[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, nil, fmt.Errorf("read generation %s: %w", g, err)
		}
	}
	var value []byte
	if s, ok := vals[len(gens)].(string); ok {
		value = []byte(s)
	}
	return out, value, nil
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

func (r *Redis) advance(ctx context.Context, gen, mode string) (int64, error) {
	n, err := r.client.Eval(ctx, advanceScript, []string{gen}, mode).Int64()
	if err != nil {
		return 0, fmt.Errorf("advance generation %s: %w", gen, err)
	}
	return n, nil
}

// InvalidationChannel is the pub/sub channel the in-process tiers of every
// process listen on; a message is the retired generations, space-separated.
const InvalidationChannel = Prefix + "invalidations"

var _ Broadcaster = (*Redis)(nil)

// Broadcast publishes gens on InvalidationChannel. With replicas to wait
// for, the publish must reach them too: Redis hands a PUBLISH to its
// replicas' subscribers through replication, so a subscriber left on a
// demoted master (now a replica) has the message before the write counts.
func (r *Redis) Broadcast(ctx context.Context, gens []string) error {
	var publish *redis.IntCmd
	var wait *redis.Cmd
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		publish = p.Publish(ctx, InvalidationChannel, strings.Join(gens, " "))
		wait = r.awaitReplicas(ctx, p)
		return nil
	})
	if err == nil {
		err = publish.Err()
	}
	if err == nil {
		err = r.replicated(wait)
	}
	if err != nil {
		return fmt.Errorf("broadcast invalidation: %w", err)
	}
	return nil
}

// Listen subscribes to InvalidationChannel and PINGs on the subscribing
// connection every interval while l wants it: a ping's answer comes after
// every message published before Redis read the ping. Any receive error
// ends the subscription (go-redis would quietly reconnect and lose what was
// published in between), so the listener hears Lost and a caller that
// listens again hears Subscribed on a clean slate.
func (r *Redis) Listen(ctx context.Context, every time.Duration, l Listener) error {
	ps := r.client.Subscribe(ctx)
	defer ps.Close()
	if err := ps.Subscribe(ctx, InvalidationChannel); err != nil {
		return fmt.Errorf("subscribe to invalidations: %w", err)
	}
	// Close unblocks the receive below when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	pinging := make(chan struct{})
	defer func() { <-pinging }()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(pinging)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
			}
			if l.Wanted() {
				// A failed ping shows up as a receive error.
				_ = ps.Ping(pctx, l.Tag())
			}
		}
	}()
	defer l.Lost()
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return fmt.Errorf("receive invalidations: %w", err)
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				l.Subscribed()
			}
		case *redis.Message:
			l.Invalidated(strings.Fields(m.Payload))
		case *redis.Pong:
			l.Answered(m.Payload)
		}
	}
}
