package cache

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The local tier keeps entries in this process's memory in front of the
// shared cache and stays as fresh as the shared cache without asking it on
// every read. Its argument (the writer's side is in broadcast.go):
//
//   - A write bumps its generations and publishes them, in one pipeline, on
//     one channel every process subscribes to; PUBLISH answers how many
//     subscribers Redis handed the message to. Each receiver applies the
//     invalidation, then acknowledges it. The write is acknowledged once
//     that many acknowledgements arrived, or a write wait (the window and
//     an eighth) after the publish was answered, whichever comes first.
//   - Each process PINGs on its subscribing connection. Redis answers a
//     connection in order, so when the answer to a ping sent at s arrives,
//     every message published before the ping was read has been applied.
//   - A process serves from memory only while the newest answered ping was
//     sent less than window ago.
//
// Why no process serves a retired entry once the write is acknowledged:
//
//   - A receiver that acknowledged has applied the invalidation.
//   - A receiver counted but silent (stalled: SIGSTOP, a GC pause, a full
//     socket; or crashed) made the writer wait the whole write wait. When
//     it serves again, at a time t after the write returned, its newest
//     answered ping was sent after t-window, so after the publish was read
//     by Redis: the answer came after the message, which it applied first.
//     A crashed process serves nothing.
//   - A process not counted was not subscribed, on the server that ran the
//     PUBLISH, when it ran it. Its tier is emptied when its subscription
//     (re)starts (Subscribed), every put of a read begun before is refused
//     (the mark), and what it reads afterwards was read after the bumps. A
//     tier serves only from a subscription that a probe published through
//     the command client (which follows the master) reached, checked on
//     every new subscription and refresh: a subscription left on a demoted
//     master, which the writers' PUBLISH does not count, is ended.
//   - An acknowledgement lost (the writer's own subscription broke, or a
//     receiver could not send it) only makes the writer wait the whole
//     write wait: the argument above holds for any silent receiver.
//
// Only durations on each process's own monotonic clock are compared (the
// eighth covers clocks that tick at slightly different rates), so the
// processes need no synchronized clocks. Behind Sentinel the pipeline ends
// with WAIT: the bumps and the message reach a replica before the write
// counts, and a subscriber that a failover left on the demoted master (now
// a replica, where Redis hands on a replicated PUBLISH) receives it too;
// Sentinel also closes the pub/sub connections of a master it demotes, and
// the Guard moves the subscription when it sees the server's run id change.
// Redis Cluster relays PUBLISH between nodes after answering it, which
// breaks the ping's ordering: the tier is off there. An entry is stored
// only if no invalidation arrived since the read that produced it began,
// which closes the slow-reader race for this tier as the generations close
// it for the shared one.
//
// One more rule keeps the tiers consistent with each other: a lookup that
// reads a newer generation from the shared cache than this process has seen
// drops the entries that depend on it before going on. Otherwise a response
// missed under the new generation could be computed from a repository entry
// still held in memory (its invalidation not yet arrived) and stored in the
// shared cache under the new stamp, where it would outlive the write.

// LocalConfig tunes the local tier; Entries 0 turns it off.
type LocalConfig struct {
	// Entries bounds how many entries one process keeps.
	Entries int
	// Bytes bounds the memory the entries' keys and values take (about);
	// 0 takes DefaultLocalBytes. A value larger than an eighth of it is not
	// kept.
	Bytes int64
	// Window is the longest a write waits for the acknowledgements of its
	// invalidation, and how recent an answered ping must be for memory to be
	// served.
	Window time.Duration
	// PingEvery is the pace of the freshness pings while the tier is read.
	PingEvery time.Duration
}

// The local tier's defaults.
const (
	DefaultLocalEntries       = 10_000
	DefaultLocalBytes   int64 = 8 << 20
	DefaultLocalWindow        = 10 * time.Millisecond
)

func (c LocalConfig) withDefaults() LocalConfig {
	if c.Window <= 0 {
		c.Window = DefaultLocalWindow
	}
	if c.Bytes <= 0 {
		c.Bytes = DefaultLocalBytes
	}
	if c.PingEvery <= 0 || c.PingEvery > c.Window/4 {
		c.PingEvery = c.Window / 4
	}
	return c
}

// writeWait is the longest a write waits after its publish: the window
// plus an eighth, for monotonic clocks that tick at slightly different
// rates.
func (c LocalConfig) writeWait() time.Duration { return c.Window + c.Window/8 }

// localTier is the local tier: a map of entries bounded in number and
// bytes, with an index from generation to the keys that depend on it.
type localTier struct {
	cfg  LocalConfig
	base time.Time // the origin of the monotonic nanoseconds below

	mu      sync.RWMutex
	entries map[string]localEntry
	bytes   int64 // what the entries take, as entryCost counts it
	byGen   map[string]map[string]struct{}
	known   map[string]int64 // the newest value read of each generation
	seq     uint64           // invalidations applied; guarded by mu, read by puts

	// answered is when (nanoseconds after base) the newest answered ping
	// was sent; 0 while the subscription is not live.
	answered atomic.Int64
	// wanted is when a read last found the tier not fresh or used it.
	wanted atomic.Int64
	// subs counts the subscriptions; confirmed is the one whose place was
	// confirmed (see Guard.confirmSubscription), 0 for none.
	subs, confirmed atomic.Uint64
}

type localEntry struct {
	value   []byte
	gens    []string
	epoch   int64
	expires int64 // nanoseconds after base
}

func newLocalTier(cfg LocalConfig) *localTier {
	return &localTier{cfg: cfg.withDefaults(), base: time.Now(),
		entries: map[string]localEntry{}, byGen: map[string]map[string]struct{}{}, known: map[string]int64{}}
}

func (n *localTier) now() int64 { return int64(time.Since(n.base)) }

// fresh reports whether memory may be served now.
func (n *localTier) fresh(now int64) bool {
	a := n.answered.Load()
	return a > 0 && now-a < int64(n.cfg.Window) && n.confirmed.Load() == n.subs.Load()
}

// confirm marks subscription sub (a value Subscribed returned through
// subscription) as reaching the server writers publish to.
func (n *localTier) confirm(sub uint64) {
	if n.subs.Load() == sub {
		n.confirmed.Store(sub)
	}
}

// subscription returns the number of the current subscription.
func (n *localTier) subscription() uint64 { return n.subs.Load() }

// want notes that the tier is being read, so pings run; it writes the
// shared word at most once a millisecond.
func (n *localTier) want(now int64) {
	if now-n.wanted.Load() > int64(time.Millisecond) {
		n.wanted.Store(now)
	}
}

// get returns the entry of key if memory may be served and the entry is
// current for epoch.
func (n *localTier) get(key string, epoch int64) ([]byte, bool) {
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
func (n *localTier) mark() uint64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.seq
}

// put stores value for key unless an invalidation arrived since mark.
func (n *localTier) put(key string, gens []string, value []byte, epoch int64, ttl time.Duration, mark uint64) {
	cost := entryCost(key, gens, value)
	if cost > n.cfg.Bytes/8 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seq != mark {
		return
	}
	if old, ok := n.entries[key]; ok {
		n.remove(key, old)
	}
	for len(n.entries) > 0 && (len(n.entries) >= n.cfg.Entries || n.bytes+cost > n.cfg.Bytes) {
		n.evict()
	}
	n.entries[key] = localEntry{value: value, gens: gens, epoch: epoch, expires: n.now() + int64(ttl)}
	n.bytes += cost
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
func (n *localTier) evict() {
	drop := max(len(n.entries)/8, 1)
	for key, e := range n.entries {
		if drop == 0 {
			return
		}
		n.remove(key, e)
		drop--
	}
}

// entryCost is about what an entry takes in memory: its key and value, the
// map and index slots, and its generations' names (shared with the index).
func entryCost(key string, gens []string, value []byte) int64 {
	c := 2*len(key) + len(value) + 160
	for _, g := range gens {
		c += 2*len(g) + 48
	}
	return int64(c)
}

// remove drops the entry of key; mu is held.
func (n *localTier) remove(key string, e localEntry) {
	n.unindex(key, e.gens)
	delete(n.entries, key)
	n.bytes -= entryCost(key, e.gens, e.value)
}

func (n *localTier) unindex(key string, gens []string) {
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
func (n *localTier) invalidate(gens []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	for _, g := range gens {
		n.drop(g)
	}
}

// drop removes the entries that depend on g; mu is held.
func (n *localTier) drop(g string) {
	for key := range n.byGen[g] {
		if e, ok := n.entries[key]; ok {
			n.remove(key, e)
		}
	}
}

// observe records the values of gens a lookup read from the shared cache;
// a generation newer than any seen before retires what depends on it, as
// its invalidation will when it arrives, and fails the puts of reads that
// began before.
func (n *localTier) observe(gens []string, values []int64) {
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
func (n *localTier) clear() {
	n.answered.Store(0)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	clear(n.entries)
	n.bytes = 0
	clear(n.byGen)
	clear(n.known)
}

// size returns the number of entries held.
func (n *localTier) size() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.entries)
}

// held returns the bytes the entries take, as entryCost counts them.
func (n *localTier) held() int64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.bytes
}

// The Listener of the tier's subscription.

// Subscribed starts a new subscription, unconfirmed until confirm.
func (n *localTier) Subscribed() {
	n.subs.Add(1)
	n.clear()
}

// Lost ends the subscription: nothing is served until the next is
// confirmed.
func (n *localTier) Lost() {
	n.subs.Add(1)
	n.clear()
}

// Wanted keeps pinging for a second after the tier was last read.
func (n *localTier) Wanted() bool { return n.now()-n.wanted.Load() < int64(time.Second) }

func (n *localTier) Tag() string { return strconv.FormatInt(n.now(), 10) }

func (n *localTier) Answered(tag string) {
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
