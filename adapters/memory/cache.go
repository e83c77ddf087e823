package memory

import (
	"context"
	"sync"
	"time"

	"github.com/etalase/etalase/domain"
)

// Cache is an in-process domain.Cache: the dev fallback of Redis and the
// fake of tests. Entries expire after their TTL; generations never do.
type Cache struct {
	mu      sync.Mutex
	gens    map[string]int64
	entries map[string]cacheEntry
	now     func() time.Time
}

type cacheEntry struct {
	value   []byte
	expires time.Time
}

var _ domain.Cache = (*Cache)(nil)

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{gens: make(map[string]int64), entries: make(map[string]cacheEntry), now: time.Now}
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

// Ping always succeeds.
func (c *Cache) Ping(context.Context) error { return nil }

// Len returns how many entries the cache holds, expired or not.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// CacheEpoch is an in-process domain.CacheEpoch: one counter and the
// watchers of this process.
type CacheEpoch struct {
	mu       sync.Mutex
	epoch    int64
	watchers map[chan int64]struct{}
}

var _ domain.CacheEpoch = (*CacheEpoch)(nil)

// NewCacheEpoch returns an epoch starting at 1.
func NewCacheEpoch() *CacheEpoch {
	return &CacheEpoch{epoch: 1, watchers: make(map[chan int64]struct{})}
}

// Current returns the epoch.
func (e *CacheEpoch) Current(context.Context) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.epoch, nil
}

// Bump advances the epoch and tells every watcher.
func (e *CacheEpoch) Bump(context.Context) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.epoch++
	for ch := range e.watchers {
		select {
		case ch <- e.epoch:
		default: // the watcher has a newer value pending; it reads the latest below
		}
	}
	return e.epoch, nil
}

// Watch calls fn with the current epoch and every later one until ctx ends.
func (e *CacheEpoch) Watch(ctx context.Context, fn func(int64)) error {
	ch := make(chan int64, 1)
	e.mu.Lock()
	e.watchers[ch] = struct{}{}
	cur := e.epoch
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.watchers, ch)
		e.mu.Unlock()
	}()
	fn(cur)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
			e.mu.Lock()
			cur = e.epoch
			e.mu.Unlock()
			fn(cur)
		}
	}
}
