package cache

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/etalase/etalase/domain"
)

// GuardConfig tunes a Guard; zero fields take the defaults of NewGuard.
type GuardConfig struct {
	// TTL is the lifetime of an entry; each write adds up to a tenth of it
	// at random so entries filled together do not expire together.
	TTL time.Duration
	// Timeout bounds every cache operation (on top of the client's own).
	Timeout time.Duration
	// Probe is how often an untrusting Guard asks the cache and the epoch
	// whether it may trust again.
	Probe time.Duration
	// Refresh is how often a trusting Guard re-reads the epoch, in case a
	// notification was lost.
	Refresh time.Duration
	// LogEvery limits cache error log lines to one per period.
	LogEvery time.Duration
	// Lease is how long a process that misses an entry may load it while
	// other processes that miss it too wait for its fill.
	Lease time.Duration
	// Grace is how long a write that had to bump the epoch waits before it
	// returns, so the other processes' epoch watches (NOTIFY, usually well
	// under a millisecond) have it before the write is acknowledged.
	Grace time.Duration
	// Near is the in-process tier, used when Near.Entries > 0 and the
	// cache is a Broadcaster.
	Near NearConfig
}

func (c GuardConfig) withDefaults() GuardConfig {
	if c.TTL <= 0 {
		c.TTL = 60 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 100 * time.Millisecond
	}
	if c.Probe <= 0 {
		c.Probe = 200 * time.Millisecond
	}
	if c.Refresh <= 0 {
		c.Refresh = time.Second
	}
	if c.LogEvery <= 0 {
		c.LogEvery = 5 * time.Second
	}
	if c.Grace <= 0 {
		c.Grace = 100 * time.Millisecond
	}
	if c.Lease <= 0 {
		c.Lease = 250 * time.Millisecond
	}
	return c
}

// Guard stands between etalase and a domain.Cache. It stamps every entry
// with the generations it was computed under and the durable epoch, serves
// an entry only while its stamp is current, and fails open: a cache error
// is a metric and a (rate-limited) log line, and makes the Guard bypass the
// cache until the cache answers again and the Guard has bumped and re-read
// the epoch. Writes it cannot invalidate in the cache bump the epoch.
type Guard struct {
	cache   domain.Cache
	epochs  domain.CacheEpoch
	metrics *Metrics
	log     *zap.Logger
	cfg     GuardConfig

	bumps epochBumps
	near  *near // nil when the in-process tier is off
	bcast Broadcaster
	// server names the server the cache is on, when the cache can tell
	// (see ServerNamer); nil otherwise.
	server ServerNamer

	trusted  atomic.Bool
	watching atomic.Bool
	identity atomic.Pointer[string] // the database's, read before trusting
	serverID atomic.Pointer[string] // the cache server's, read before trusting
	epoch    atomic.Int64
	failures atomic.Int64 // grows on every failure; recovery checks it did not move
	lastLog  atomic.Int64 // unix nanoseconds of the last error line

	mu     sync.Mutex
	cancel context.CancelFunc
	done   sync.WaitGroup

	listenMu   sync.Mutex
	stopListen context.CancelFunc // ends the in-process tier's subscription
}

// ServerNamer is a cache that can name the server answering it (Redis: its
// run id). A Guard that sees the name change (a Sentinel failover, a Redis
// restarted) stops trusting the cache until it has bumped the epoch, and
// moves the in-process tier's subscription to the new server.
type ServerNamer interface {
	Server(ctx context.Context) (string, error)
}

// NewGuard returns a Guard over cache and epochs. It bypasses the cache
// until Start has learned the epoch.
func NewGuard(cache domain.Cache, epochs domain.CacheEpoch, metrics *Metrics, log *zap.Logger, cfg GuardConfig) *Guard {
	if log == nil {
		log = zap.NewNop()
	}
	g := &Guard{cache: cache, epochs: epochs, metrics: metrics, log: log, cfg: cfg.withDefaults()}
	g.server, _ = cache.(ServerNamer)
	g.bumps.bump = epochs.Bump
	if b, ok := cache.(Broadcaster); ok && g.cfg.Near.Entries > 0 {
		g.near, g.bcast = newNear(g.cfg.Near), b
		g.cfg.Near = g.near.cfg
	}
	metrics.state(0, false)
	return g
}

// Start runs the Guard's background work: watching the epoch, probing the
// cache while it is not trusted, and re-reading the epoch now and then. It
// waits up to two seconds (less if ctx ends) for the Guard to trust the
// cache, but a cache that does not answer is no reason to fail a start: the
// process serves from PostgreSQL until it does, so Start returns nil.
func (g *Guard) Start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cancel != nil {
		return nil
	}
	runCtx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.done.Add(2)
	go g.watch(runCtx)
	go g.maintain(runCtx)
	if g.near != nil {
		g.done.Add(1)
		go g.listen(runCtx)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Second)
	for !g.trusted.Load() {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		case <-tick.C:
		}
	}
	return nil
}

// Stop ends the background work and waits for it.
func (g *Guard) Stop(context.Context) error {
	g.mu.Lock()
	cancel := g.cancel
	g.cancel = nil
	g.mu.Unlock()
	if cancel != nil {
		cancel()
		g.done.Wait()
	}
	return nil
}

// Trusted reports whether lookups currently use the cache.
func (g *Guard) Trusted() bool { return g.trusted.Load() }

// Epoch returns the epoch this Guard stamps entries with.
func (g *Guard) Epoch() int64 { return g.epoch.Load() }

// state is what a lookup found.
type state int

const (
	stateBypass state = iota
	stateMiss
	stateHit
)

// lookup is one read of the cache: the entry's key, the stamp a current
// entry must carry, and the value when it was current.
type lookup struct {
	state state
	layer string
	key   string
	stamp string
	value []byte
	// For the in-process tier: what the entry depends on, the epoch it was
	// read in, and the invalidation count before the read.
	deps  []string
	epoch int64
	mark  uint64
}

// lookup reads key under deps. layer "" is not counted (re-checks).
func (g *Guard) lookup(ctx context.Context, layer, key string, deps []string) lookup {
	if !g.trusted.Load() {
		g.metrics.bypass(layer)
		return lookup{state: stateBypass}
	}
	epoch := g.epoch.Load()
	var mark uint64
	// Re-checks (layer "") compare stamps, which only the shared cache has.
	if g.near != nil && layer != "" {
		if v, ok := g.near.get(key, epoch); ok {
			g.metrics.hit(layer)
			g.metrics.nearHit(layer)
			return lookup{state: stateHit, layer: layer, key: key, value: v}
		}
		mark = g.near.mark()
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	gens, raw, err := g.cache.Read(ctx, key, deps)
	cancel()
	if err != nil {
		g.fail(layerOrRecheck(layer), "read", err)
		g.metrics.bypass(layer)
		return lookup{state: stateBypass}
	}
	if g.near != nil {
		g.near.observe(deps, gens)
	}
	l := lookup{state: stateMiss, layer: layer, key: key, stamp: stamp(g.identityOf(), epoch, gens), deps: deps, epoch: epoch, mark: mark}
	if v, ok := unwrap(raw, l.stamp); ok {
		l.state, l.value = stateHit, v
		g.metrics.hit(layer)
		if g.near != nil && layer != "" {
			g.near.put(key, deps, v, epoch, g.cfg.TTL, mark)
		}
		return l
	}
	g.metrics.miss(layer)
	return l
}

// fill stores value for a lookup that missed. A Guard that stopped
// trusting the cache since the lookup does not fill.
func (g *Guard) fill(ctx context.Context, l lookup, value []byte, ttl time.Duration) {
	// No stamp: the lookup was answered from memory, not the shared cache.
	if l.state != stateMiss || l.stamp == "" || !g.trusted.Load() {
		return
	}
	if ttl <= 0 {
		ttl = g.cfg.TTL
	}
	ttl += time.Duration(rand.Int64N(int64(ttl)/10 + 1))
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	if err := g.cache.Write(ctx, l.key, wrap(l.stamp, value), ttl); err != nil {
		g.fail(layerOrRecheck(l.layer), "write", err)
		return
	}
	if g.near != nil && l.layer != "" {
		g.near.put(l.key, l.deps, value, l.epoch, ttl, l.mark)
	}
}

// claim asks for the right to load a missed entry; false means another
// process holds it. Trouble with the cache grants it: the caller loads.
func (g *Guard) claim(ctx context.Context, l lookup) bool {
	if l.state != stateMiss || !g.trusted.Load() {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	ok, err := g.cache.Claim(ctx, leaseKey(l.key, l.stamp), g.cfg.Lease)
	cancel()
	if err != nil {
		g.fail(layerOrRecheck(l.layer), "claim", err)
		return true
	}
	return ok
}

// await waits, at most one lease, for the process that holds the claim
// on l to fill it. It gives up at once when the stamp moves on (a write:
// the fill would be dead anyway) or the cache fails.
func (g *Guard) await(ctx context.Context, l lookup, deps []string) ([]byte, bool) {
	deadline := time.Now().Add(g.cfg.Lease)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		sleep(ctx, 5*time.Millisecond)
		again := g.lookup(ctx, "", l.key, deps)
		switch {
		case again.stamp != l.stamp:
			return nil, false
		case again.state == stateHit:
			return again.value, true
		case again.state != stateMiss:
			return nil, false
		}
	}
	return nil, false
}

// Invalidate retires every entry that depends on deps. Call it after the
// write committed and before the write is acknowledged. When the cache
// cannot take the bump, the epoch is bumped instead and Invalidate waits
// the grace period for other processes to learn it; only when both fail
// does it return an error (KindUnavailable), since then stale entries could
// be served once the cache answers again. With the in-process tier the bump
// is also broadcast, and Invalidate returns a window later (see near.go).
func (g *Guard) Invalidate(ctx context.Context, deps []string) error {
	if len(deps) == 0 {
		return nil
	}
	if g.near != nil {
		// This process's own readers need not wait for the broadcast.
		g.near.invalidate(deps)
	}
	if g.trusted.Load() {
		bctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
		err := g.cache.Bump(bctx, deps...)
		cancel()
		op := "bump"
		if err == nil {
			op = "broadcast"
			err = g.broadcast(ctx, deps)
		}
		if err == nil {
			return nil
		}
		g.fail(layerWrite, op, err)
	} else {
		// This process doubts the cache, but others may trust it again
		// already and not have heard the epoch yet: bump the generations
		// too, as well as Redis answers, beside the epoch.
		tried := make(chan struct{})
		go func() {
			defer close(tried)
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.Timeout)
			_ = g.cache.Bump(bctx, deps...)
			cancel()
		}()
		defer func() { <-tried }()
	}
	e, err := g.bumps.do()
	if err != nil {
		g.fail(layerWrite, "epoch", err)
		return domain.Unavailable("the change is saved but the cache could not be invalidated", err)
	}
	g.raise(e)
	sleep(ctx, g.cfg.Grace)
	return nil
}

// broadcast tells every process's in-process tier that deps were retired,
// after the bump (a reader that sees the message then reads the new
// generations), and waits the tier's window (see near.go) so that no
// process serves a retired entry once the write is acknowledged.
func (g *Guard) broadcast(ctx context.Context, deps []string) error {
	if g.near == nil {
		return nil
	}
	bctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	err := g.bcast.Broadcast(bctx, deps)
	cancel()
	if err != nil {
		return err
	}
	sleep(context.WithoutCancel(ctx), g.cfg.Near.writeWait())
	return nil
}

// listen keeps the in-process tier's subscription, re-subscribing after a
// pause when it breaks; while it is down the tier serves nothing.
func (g *Guard) listen(ctx context.Context) {
	defer g.done.Done()
	for ctx.Err() == nil {
		lctx, cancel := context.WithCancel(ctx)
		g.listenMu.Lock()
		g.stopListen = cancel
		g.listenMu.Unlock()
		err := g.bcast.Listen(lctx, g.cfg.Near.PingEvery, g.near)
		cancel()
		if ctx.Err() != nil {
			return
		}
		g.fail(layerNear, "listen", err)
		sleep(ctx, g.cfg.Probe)
	}
}

// The layers of errors that are not a lookup's.
const (
	layerWrite   = "write"  // invalidation after a write
	layerServer  = "server" // the cache moved to another server
	layerEpoch   = "epoch"  // the epoch watch
	layerNear    = "near"   // the in-process tier's subscription
	layerRecheck = "recheck"
)

func layerOrRecheck(layer string) string {
	if layer == "" {
		return layerRecheck
	}
	return layer
}

// fail distrusts the cache after an error and logs it, at most once per
// LogEvery.
func (g *Guard) fail(layer, op string, err error) {
	g.failures.Add(1)
	if g.trusted.Swap(false) {
		g.metrics.state(g.epoch.Load(), false)
	}
	g.metrics.failed(layer, op)
	now := time.Now().UnixNano()
	last := g.lastLog.Load()
	if now-last >= int64(g.cfg.LogEvery) && g.lastLog.CompareAndSwap(last, now) {
		g.log.Warn("cache unavailable, bypassing it", zap.String("layer", layer), zap.String("op", op), zap.Error(err))
	}
}

// failover handles the cache moving from server was to server now: what
// the old server acknowledged alone may be gone, so the Guard distrusts the
// cache (and so bumps the epoch before it trusts again) and moves the
// in-process tier's subscription.
func (g *Guard) failover(was, now string) {
	g.fail(layerServer, "failover", fmt.Errorf("the cache moved from server %s to %s", was, now))
	g.resubscribe()
}

// resubscribe ends the in-process tier's subscription; listen starts a new
// one, on whatever server the client now reaches.
func (g *Guard) resubscribe() {
	g.listenMu.Lock()
	stop := g.stopListen
	g.listenMu.Unlock()
	if stop != nil {
		stop()
	}
}

// raise moves the known epoch forward, never back.
func (g *Guard) raise(e int64) {
	for {
		cur := g.epoch.Load()
		if e <= cur || g.epoch.CompareAndSwap(cur, e) {
			return
		}
	}
}

// watch keeps a subscription to the epoch. While it is down the Guard
// cannot learn other processes' bumps, so it does not trust the cache.
func (g *Guard) watch(ctx context.Context) {
	defer g.done.Done()
	for ctx.Err() == nil {
		err := g.epochs.Watch(ctx, func(e int64) {
			g.raise(e)
			g.watching.Store(true)
		})
		g.watching.Store(false)
		if ctx.Err() != nil {
			return
		}
		g.fail(layerEpoch, "watch", err)
		sleep(ctx, g.cfg.Probe)
	}
}

// maintain probes the cache while it is not trusted and re-reads the epoch
// while it is.
func (g *Guard) maintain(ctx context.Context) {
	defer g.done.Done()
	lastRefresh := time.Now()
	for ctx.Err() == nil {
		if !g.trusted.Load() {
			g.recover(ctx)
			lastRefresh = time.Now()
		} else if time.Since(lastRefresh) >= g.cfg.Refresh {
			g.refresh(ctx)
			lastRefresh = time.Now()
		}
		sleep(ctx, g.cfg.Probe)
	}
}

// refresh re-reads the epoch, in case a notification was lost, and the
// database's identity: a database recreated under a running process must
// not be served what the old one left in Redis.
func (g *Guard) refresh(ctx context.Context) {
	id, err := g.epochs.Identity(ctx)
	if err != nil {
		return
	}
	if id != g.identityOf() {
		g.fail(layerEpoch, "identity", fmt.Errorf("the database changed (identity %s, was %s)", id, g.identityOf()))
		return
	}
	if g.server != nil {
		sctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
		name, err := g.server.Server(sctx)
		cancel()
		if err != nil {
			g.fail(layerServer, "identity", err)
			return
		}
		if was := g.serverID.Load(); was != nil && *was != name {
			g.failover(*was, name)
			return
		}
	}
	if e, err := g.epochs.Current(ctx); err == nil {
		g.raise(e)
		g.metrics.state(g.epoch.Load(), g.trusted.Load())
	}
}

// identityOf returns the identity stamps carry ("" before the first read).
func (g *Guard) identityOf() string {
	if p := g.identity.Load(); p != nil {
		return *p
	}
	return ""
}

// recover trusts the cache again once it answers and the epoch watch is
// live. It reads the database's identity and bumps the epoch first: entries
// written while this process was in doubt (a write that timed out but
// landed, a Redis restored from an old snapshot) must not be served.
func (g *Guard) recover(ctx context.Context) {
	if !g.watching.Load() {
		return
	}
	seen := g.failures.Load()
	pctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	err := g.cache.Ping(pctx)
	cancel()
	if err != nil {
		return
	}
	id, err := g.epochs.Identity(ctx)
	if err != nil {
		return
	}
	g.identity.Store(&id)
	if g.server != nil {
		sctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
		name, err := g.server.Server(sctx)
		cancel()
		if err != nil {
			return
		}
		if was := g.serverID.Load(); was != nil && *was != name {
			// The subscription may still be on the server this process
			// left: move it before the tier serves again.
			g.resubscribe()
		}
		g.serverID.Store(&name)
	}
	e, err := g.bumps.do()
	if err != nil {
		return
	}
	g.raise(e)
	if g.failures.Load() != seen || !g.watching.Load() {
		return
	}
	g.trusted.Store(true)
	g.metrics.state(g.epoch.Load(), true)
	g.log.Info("cache trusted", zap.Int64("epoch", g.epoch.Load()))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// stamp is what an entry must carry to be current: the database's
// identity, the epoch and the generations of its dependencies.
func stamp(identity string, epoch int64, gens []int64) string {
	b := make([]byte, 0, len(identity)+20+20*len(gens))
	b = append(b, identity...)
	b = append(b, ".e"...)
	b = strconv.AppendInt(b, epoch, 10)
	for i, n := range gens {
		if i == 0 {
			b = append(b, '/')
		} else {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, n, 10)
	}
	return string(b)
}

// The stored form of an entry is JSON an operator can read:
// {"stamp":"5d41402abc-4000.e1764../1764..","value":<the JSON value>}.
const (
	envelopeHead = `{"stamp":"`
	envelopeMid  = `","value":`
	envelopeTail = `}`
)

func wrap(stamp string, value []byte) []byte {
	b := make([]byte, 0, len(envelopeHead)+len(stamp)+len(envelopeMid)+len(value)+1)
	b = append(b, envelopeHead...)
	b = append(b, stamp...)
	b = append(b, envelopeMid...)
	b = append(b, value...)
	return append(b, envelopeTail...)
}

// unwrap returns the value of raw if raw carries exactly stamp.
func unwrap(raw []byte, stamp string) ([]byte, bool) {
	n := len(envelopeHead) + len(stamp) + len(envelopeMid)
	if len(raw) < n+len(envelopeTail) {
		return nil, false
	}
	if !bytes.HasPrefix(raw, []byte(envelopeHead)) ||
		string(raw[len(envelopeHead):len(envelopeHead)+len(stamp)]) != stamp ||
		!bytes.HasPrefix(raw[len(envelopeHead)+len(stamp):], []byte(envelopeMid)) ||
		!bytes.HasSuffix(raw, []byte(envelopeTail)) {
		return nil, false
	}
	return raw[n : len(raw)-len(envelopeTail)], true
}
