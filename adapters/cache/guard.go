package cache

import (
	"context"
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
	// Local is the local tier (in this process's memory), used when
	// Local.Entries > 0 and the cache is a Broadcaster.
	Local LocalConfig
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

	bumps   rounds[int64]  // of the epoch
	retires rounds[string] // of generations; the output names the operation that failed
	local   *localTier     // nil when the local tier is off
	bcast   Broadcaster
	// self names this Guard in its invalidations, for acknowledgements.
	self   string
	acks   ackWaits
	outbox chan Ack // acknowledgements to send
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
	stopListen context.CancelFunc // ends the local tier's subscription
}

// ServerNamer is a cache that can name the server answering it (Redis: its
// run id). A Guard that sees the name change (a Sentinel failover, a Redis
// restarted) stops trusting the cache until it has bumped the epoch, and
// moves the local tier's subscription to the new server.
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
	g.bumps = rounds[int64]{timeout: epochBumpTimeout,
		run: func(ctx context.Context, _ []string) (int64, error) { return epochs.Bump(ctx) }}
	// A retirement's own timeouts are inside retire; this one only bounds
	// a run that would hang past them.
	g.retires = rounds[string]{timeout: time.Minute, run: g.retire}
	if b, ok := cache.(Broadcaster); ok && g.cfg.Local.Entries > 0 {
		g.local, g.bcast = newLocalTier(g.cfg.Local), b
		g.cfg.Local = g.local.cfg
		g.self = strconv.FormatUint(rand.Uint64(), 36)
		g.outbox = make(chan Ack, 4096)
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
	if g.local != nil {
		g.done.Add(2)
		go g.listen(runCtx)
		go g.sendAcks(runCtx)
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

// LocalStats says how many entries the local tier holds and about how many
// bytes they take; zeros when it is off.
func (g *Guard) LocalStats() (entries int, bytes int64) {
	if g.local == nil {
		return 0, 0
	}
	return g.local.size(), g.local.held()
}
