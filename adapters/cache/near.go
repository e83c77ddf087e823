package cache

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The in-process tier ("near" cache) keeps entries in this process's memory
// in front of the shared cache, and stays as fresh as the shared cache
// without asking it on every read. Its argument:
//
//   - A write, after bumping its generations, publishes them on one
//     channel every process subscribes to, and is acknowledged no sooner
//     than window after the publish was answered.
//   - Each process PINGs on its subscribing connection. Redis answers a
//     connection in order, so when the answer to a ping sent at s arrives,
//     every message published before the ping was read has been applied.
//   - A process serves from memory only while the newest answered ping was
//     sent less than window ago. A read that arrives after a write was
//     acknowledged therefore has a ping answered that Redis read after the
//     write's publish: the entries the write retired are gone.
//
// Only durations on each process's own monotonic clock are compared, so the
// processes need no synchronized clocks. Redis Cluster relays PUBLISH
// between nodes after answering it, which breaks the ordering: the tier is
// off there. An entry is stored only if no invalidation arrived since the
// read that produced it began, which closes the slow-reader race for this
// tier as the generations close it for the shared one.
//
// One more rule keeps the tiers consistent with each other: a lookup that
// reads a newer generation from the shared cache than this process has seen
// drops the entries that depend on it before going on. Otherwise a response
// missed under the new generation could be computed from a repository entry
// still held in memory (its invalidation not yet arrived) and stored in the
// shared cache under the new stamp, where it would outlive the write.

// NearConfig tunes the in-process tier; Entries 0 turns it off.
type NearConfig struct {
	// Entries bounds how many entries one process keeps.
	Entries int
	// Window is how long a write waits after publishing its invalidation,
	// and how recent an answered ping must be for memory to be served.
	Window time.Duration
	// PingEvery is the pace of the freshness pings while the tier is read.
	PingEvery time.Duration
}

func (c NearConfig) withDefaults() NearConfig {
	if c.Window <= 0 {
		c.Window = 10 * time.Millisecond
	}
	if c.PingEvery <= 0 || c.PingEvery > c.Window/4 {
		c.PingEvery = c.Window / 4
	}
	return c
}

// writeWait is how long a write waits after its publish: the window plus
// an eighth, for monotonic clocks that tick at slightly different rates.
func (c NearConfig) writeWait() time.Duration { return c.Window + c.Window/8 }

// Broadcaster is a shared cache that can carry invalidations to every
// process in order with a freshness barrier: Redis pub/sub with PING on the
// subscribing connection. The Redis adapter is one.
type Broadcaster interface {
	// Broadcast publishes the retired generations to every listener.
	Broadcast(ctx context.Context, gens []string) error
	// Listen subscribes and calls the listener's methods from one goroutine,
	// in the order the cache sent what they report, pinging every interval
	// while wanted says so. It returns when ctx ends or the subscription
	// breaks.
	Listen(ctx context.Context, every time.Duration, l Listener) error
}

// Listener receives what a Broadcaster's subscription delivers.
type Listener interface {
	// Subscribed says a (new) subscription is live: whatever was published
	// before it may have been missed.
	Subscribed()
	// Invalidated delivers one published invalidation.
	Invalidated(gens []string)
	// Answered says the ping tagged tag has been answered.
	Answered(tag string)
	// Lost says the subscription broke.
	Lost()
	// Wanted says whether pings are needed now.
	Wanted() bool
	// Tag returns the tag of a ping about to be sent.
	Tag() string
}

// near is the in-process tier: a bounded map of entries with an index from
// generation to the keys that depend on it.
type near struct {
	cfg  NearConfig
	base time.Time // the origin of the monotonic nanoseconds below

	mu      sync.RWMutex
	entries map[string]nearEntry
	byGen   map[string]map[string]struct{}
	known   map[string]int64 // the newest value read of each generation
	seq     uint64           // invalidations applied; guarded by mu, read by puts

	// answered is when (nanoseconds after base) the newest answered ping
	// was sent; 0 while the subscription is not live.
	answered atomic.Int64
	// wanted is when a read last found the tier not fresh or used it.
	wanted atomic.Int64
}

type nearEntry struct {
	value   []byte
	gens    []string
	epoch   int64
	expires int64 // nanoseconds after base
}

func newNear(cfg NearConfig) *near {
	return &near{cfg: cfg.withDefaults(), base: time.Now(),
		entries: map[string]nearEntry{}, byGen: map[string]map[string]struct{}{}, known: map[string]int64{}}
}

func (n *near) now() int64 { return int64(time.Since(n.base)) }

// fresh reports whether memory may be served now.
func (n *near) fresh(now int64) bool {
	a := n.answered.Load()
	return a > 0 && now-a < int64(n.cfg.Window)
}

// want notes that the tier is being read, so pings run; it writes the
// shared word at most once a millisecond.
func (n *near) want(now int64) {
	if now-n.wanted.Load() > int64(time.Millisecond) {
		n.wanted.Store(now)
	}
}

// get returns the entry of key if memory may be served and the entry is
// current for epoch.
func (n *near) get(key string, epoch int64) ([]byte, bool) {
	now := n.now()
	n.want(now)
	if !n.fresh(now) {
		return nil, false
	}
	n.mu.RLock()
	e, ok := n.entries[key]
	n.mu.RUnlock()
	if !ok || e.epoch != epoch || now >= e.expires {
		return nil, false
	}
	return e.value, true
}

// mark returns the invalidation count to hand to put: take it before the
// read whose result is put.
func (n *near) mark() uint64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.seq
}

// put stores value for key unless an invalidation arrived since mark.
func (n *near) put(key string, gens []string, value []byte, epoch int64, ttl time.Duration, mark uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seq != mark {
		return
	}
	if old, ok := n.entries[key]; ok {
		n.unindex(key, old.gens)
	} else if len(n.entries) >= n.cfg.Entries {
		n.evict()
	}
	n.entries[key] = nearEntry{value: value, gens: gens, epoch: epoch, expires: n.now() + int64(ttl)}
	for _, g := range gens {
		keys := n.byGen[g]
		if keys == nil {
			keys = map[string]struct{}{}
			n.byGen[g] = keys
		}
		keys[key] = struct{}{}
	}
}

// evict drops about an eighth of the entries, whichever the map yields
// first; mu is held.
func (n *near) evict() {
	drop := max(len(n.entries)/8, 1)
	for key, e := range n.entries {
		if drop == 0 {
			return
		}
		n.unindex(key, e.gens)
		delete(n.entries, key)
		drop--
	}
}

func (n *near) unindex(key string, gens []string) {
	for _, g := range gens {
		if keys := n.byGen[g]; keys != nil {
			delete(keys, key)
			if len(keys) == 0 {
				delete(n.byGen, g)
			}
		}
	}
}

// invalidate drops every entry that depends on one of gens.
func (n *near) invalidate(gens []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	for _, g := range gens {
		n.drop(g)
	}
}

// drop removes the entries that depend on g; mu is held.
func (n *near) drop(g string) {
	for key := range n.byGen[g] {
		if e, ok := n.entries[key]; ok {
			n.unindex(key, e.gens)
			delete(n.entries, key)
		}
	}
}

// observe records the values of gens a lookup read from the shared cache;
// a generation newer than any seen before retires what depends on it, as
// its invalidation will when it arrives, and fails the puts of reads that
// began before.
func (n *near) observe(gens []string, values []int64) {
	n.mu.RLock()
	newer := false
	for i, g := range gens {
		if values[i] > n.known[g] {
			newer = true
			break
		}
	}
	n.mu.RUnlock()
	if !newer {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.known) >= 4*n.cfg.Entries+1024 {
		// Forgetting is safe, only slower: every value is new again.
		clear(n.known)
	}
	for i, g := range gens {
		if values[i] > n.known[g] {
			n.known[g] = values[i]
			n.drop(g)
			n.seq++
		}
	}
}

// clear drops everything and stops serving memory until a ping is answered
// again.
func (n *near) clear() {
	n.answered.Store(0)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	clear(n.entries)
	clear(n.byGen)
	clear(n.known)
}

// size returns the number of entries held.
func (n *near) size() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.entries)
}

// The Listener of the tier's subscription.

func (n *near) Subscribed()               { n.clear() }
func (n *near) Lost()                     { n.clear() }
func (n *near) Invalidated(gens []string) { n.invalidate(gens) }

// Wanted keeps pinging for a second after the tier was last read.
func (n *near) Wanted() bool { return n.now()-n.wanted.Load() < int64(time.Second) }

func (n *near) Tag() string { return strconv.FormatInt(n.now(), 10) }

func (n *near) Answered(tag string) {
	sent, err := strconv.ParseInt(tag, 10, 64)
	if err != nil || sent <= 0 {
		return
	}
	for {
		cur := n.answered.Load()
		if sent <= cur || n.answered.CompareAndSwap(cur, sent) {
			return
		}
	}
}
