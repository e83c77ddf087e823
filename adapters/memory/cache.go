package memory

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/etalase/etalase/domain"
)

// maxClaims is how many claims the cache keeps before it drops expired ones.
const maxClaims = 1024

// Cache is an in-process domain.Cache: the dev fallback of Redis and the
// fake of tests. Entries expire after their TTL; generations never do.
type Cache struct {
	mu      sync.Mutex
	gens    map[string]int64
	entries map[string]cacheEntry
	claims  map[string]time.Time
	now     func() time.Time
}

type cacheEntry struct {
	value   []byte
	expires time.Time
}

var _ domain.Cache = (*Cache)(nil)

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{gens: make(map[string]int64), entries: make(map[string]cacheEntry),
		claims: make(map[string]time.Time), now: time.Now}
}

// Read returns the generations (created at 1 when missing) and the entry.
func (c *Cache) Read(_ context.Context, key string, gens []string) ([]int64, []byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int64, len(gens))
	for i, g := range gens {
		n, ok := c.gens[g]
		if !ok {
			n = 1
			c.gens[g] = n
		}
		out[i] = n
	}
	e, ok := c.entries[key]
	if !ok {
		return out, nil, nil
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, key)
		return out, nil, nil
	}
	return out, e.value, nil
}

// Write stores a copy of value at key for ttl.
func (c *Cache) Write(_ context.Context, key string, value []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = cacheEntry{value: append([]byte(nil), value...), expires: c.now().Add(ttl)}
	return nil
}

// Bump advances every generation in gens.
func (c *Cache) Bump(_ context.Context, gens ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range gens {
		c.gens[g]++
	}
	return nil
}

// Claim takes key for ttl unless an unexpired claim holds it.
func (c *Cache) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if e, ok := c.claims[key]; ok && now.Before(e) {
		return false, nil
	}
	if len(c.claims) >= maxClaims {
		for k, e := range c.claims {
			if !now.Before(e) {
				delete(c.claims, k)
			}
		}
	}
	c.claims[key] = now.Add(ttl)
	return true, nil
}

// Ping always succeeds.
func (c *Cache) Ping(context.Context) error { return nil }

// Len returns how many entries the cache holds, expired or not.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// CacheEpoch is an in-process domain.CacheEpoch: one counter and the
// watchers of this process. Bump tells every watcher before it returns, so
// in one process no reader can miss a bump that was acknowledged.
type CacheEpoch struct {
	mu       sync.Mutex
	identity string
	epoch    int64
	watchers map[*func(int64)]struct{}
}

var _ domain.CacheEpoch = (*CacheEpoch)(nil)

// NewCacheEpoch returns an epoch starting at 1, with an identity of its own.
func NewCacheEpoch() *CacheEpoch {
	return &CacheEpoch{identity: "mem-" + strconv.FormatUint(rand.Uint64(), 16), epoch: 1,
		watchers: make(map[*func(int64)]struct{})}
}

// Identity names this epoch's process-local "database".
func (e *CacheEpoch) Identity(context.Context) (string, error) { return e.identity, nil }

// Current returns the epoch.
func (e *CacheEpoch) Current(context.Context) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.epoch, nil
}

// Bump advances the epoch to at least the clock in microseconds and calls
// every watcher with the new value.
func (e *CacheEpoch) Bump(context.Context) (int64, error) {
	e.mu.Lock()
	e.epoch = max(e.epoch+1, time.Now().UnixMicro())
	n := e.epoch
	fns := make([]func(int64), 0, len(e.watchers))
	for fn := range e.watchers {
		fns = append(fns, *fn)
	}
	e.mu.Unlock()
	for _, fn := range fns {
		fn(n)
	}
	return n, nil
}

// Watch calls fn with the current epoch, then with every later one (from
// Bump's goroutine), until ctx ends.
func (e *CacheEpoch) Watch(ctx context.Context, fn func(int64)) error {
	key := &fn
	e.mu.Lock()
	e.watchers[key] = struct{}{}
	cur := e.epoch
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.watchers, key)
		e.mu.Unlock()
	}()
	fn(cur)
	<-ctx.Done()
	return ctx.Err()
}
