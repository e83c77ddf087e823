package cache

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/etalase/etalase/domain"
)

// Invalidation and broadcast: a write retires the generations it changed
// in the shared cache and, with the local tier, in every process's memory,
// and is acknowledged only then (the argument is in local.go).

// Broadcaster is a shared cache that can carry invalidations to every
// process in order with a freshness barrier: Redis pub/sub with PING on the
// subscribing connection. The Redis adapter is one.
type Broadcaster interface {
	// Retire bumps gens and then publishes msg to every listener, and
	// answers how many listeners received it.
	Retire(ctx context.Context, gens []string, msg Invalidation) (int64, error)
	// Ack sends acknowledgements to the processes that wrote.
	Ack(ctx context.Context, acks []Ack) error
	// Probe publishes on the acknowledgement channel of self and answers
	// how many subscribers received it.
	Probe(ctx context.Context, self string) (int64, error)
	// Listen subscribes to the invalidations and to the acknowledgements
	// sent to self, and calls the listener's methods from one goroutine,
	// in the order the cache sent what they report, pinging every interval
	// while wanted says so. It returns when ctx ends or the subscription
	// breaks.
	Listen(ctx context.Context, self string, every time.Duration, l Listener) error
}

// Listener receives what a Broadcaster's subscription delivers.
type Listener interface {
	// Subscribed says a (new) subscription is live: whatever was published
	// before it may have been missed.
	Subscribed()
	// Invalidated delivers one published invalidation.
	Invalidated(msg Invalidation)
	// Acked delivers the acknowledgement of this process's write id.
	Acked(id string)
	// Answered says the ping tagged tag has been answered.
	Answered(tag string)
	// Lost says the subscription broke.
	Lost()
	// Wanted says whether pings are needed now.
	Wanted() bool
	// Tag returns the tag of a ping about to be sent.
	Tag() string
}

// Invalidation is one published invalidation: who wrote (the process to
// acknowledge), the write's id there, and the retired generations.
type Invalidation struct {
	From, ID string
	Gens     []string
}

// Ack acknowledges write ID of process To.
type Ack struct{ To, ID string }

func (m Invalidation) encode() string {
	return "@" + m.From + " " + m.ID + " " + strings.Join(m.Gens, " ")
}

// decodeInvalidation reads a message; one without a writer (an older
// process's: generations only) asks for no acknowledgement.
func decodeInvalidation(s string) Invalidation {
	f := strings.Fields(s)
	if len(f) >= 2 && strings.HasPrefix(f[0], "@") {
		return Invalidation{From: f[0][1:], ID: f[1], Gens: f[2:]}
	}
	return Invalidation{Gens: f}
}

// Invalidate retires every entry that depends on deps. Call it after the
// write committed and before the write is acknowledged. When the cache
// cannot take the bump, the epoch is bumped instead and Invalidate waits
// the grace period for other processes to learn it; only when both fail
// does it return an error (KindUnavailable), since then stale entries could
// be served once the cache answers again. With the local tier the bump is
// also broadcast, and Invalidate returns once every process that received
// it acknowledged it, or a window later (see local.go).
func (g *Guard) Invalidate(ctx context.Context, deps []string) error {
	if len(deps) == 0 {
		return nil
	}
	if g.local != nil {
		// This process's own readers need not wait for the broadcast.
		g.local.invalidate(deps)
	}
	if g.trusted.Load() {
		op, err := g.retires.do(deps...)
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

// retire bumps deps in the shared cache and, with the local tier, tells
// every process's tier in the same round trip, then waits for their
// acknowledgements: up to the write wait (see local.go). It returns the
// operation that failed.
func (g *Guard) retire(ctx context.Context, deps []string) (string, error) {
	bctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	if g.local == nil {
		return "bump", g.cache.Bump(bctx, deps...)
	}
	id, w := g.acks.expect()
	defer g.acks.forget(id)
	n, err := g.bcast.Retire(bctx, deps, Invalidation{From: g.self, ID: id, Gens: deps})
	if err != nil {
		return "broadcast", err
	}
	t := time.NewTimer(g.cfg.Local.writeWait())
	defer t.Stop()
	if !g.acks.need(w, n) {
		g.metrics.acked(true)
		return "", nil
	}
	select {
	case <-w.done:
		g.metrics.acked(true)
	case <-t.C:
		g.metrics.acked(false)
	}
	return "", nil
}

// listen keeps the local tier's subscription, re-subscribing after a pause
// when it breaks; while it is down the tier serves nothing.
func (g *Guard) listen(ctx context.Context) {
	defer g.done.Done()
	for ctx.Err() == nil {
		lctx, cancel := context.WithCancel(ctx)
		g.listenMu.Lock()
		g.stopListen = cancel
		g.listenMu.Unlock()
		err := g.bcast.Listen(lctx, g.self, g.cfg.Local.PingEvery, tierListener{g})
		cancel()
		if ctx.Err() != nil {
			return
		}
		g.fail(layerLocal, "listen", err)
		sleep(ctx, g.cfg.Probe)
	}
}

// tierListener is the Listener of the local tier's subscription: the tier,
// and the acknowledgements both ways.
type tierListener struct{ g *Guard }

// Subscribed starts a subscription, which the tier serves from only once
// confirmSubscription has found it on the server writers publish to.
func (l tierListener) Subscribed() {
	l.g.local.Subscribed()
	sub := l.g.local.subscription()
	go l.g.confirmSubscription(sub)
}

func (l tierListener) Lost()               { l.g.local.Lost() }
func (l tierListener) Wanted() bool        { return l.g.local.Wanted() }
func (l tierListener) Tag() string         { return l.g.local.Tag() }
func (l tierListener) Answered(tag string) { l.g.local.Answered(tag) }
func (l tierListener) Acked(id string) {
	if id != probeID {
		l.g.acks.ack(id)
	}
}

// Invalidated applies msg to the tier, then acknowledges it: this
// process's own writes at once, others' through the acknowledgement
// sender, which never blocks the subscription.
func (l tierListener) Invalidated(msg Invalidation) {
	l.g.local.invalidate(msg.Gens)
	switch {
	case msg.From == "":
	case msg.From == l.g.self:
		l.g.acks.ack(msg.ID)
	default:
		select {
		case l.g.outbox <- Ack{To: msg.From, ID: msg.ID}:
		default:
			// Full: the writer waits its whole write wait instead.
		}
	}
}

// confirmSubscription checks that subscription sub of the local tier is
// on the server writers publish to (a probe on this process's own channel,
// sent through the client, reaches it), and lets the tier serve. A
// subscription that the probe does not reach is on a server that is no
// longer the master (demoted by a failover that left it open): the writers'
// PUBLISH does not count it, so it is ended, and listen subscribes again.
// The Guard probes on every new subscription and on every refresh.
func (g *Guard) confirmSubscription(sub uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.Timeout)
	n, err := g.bcast.Probe(ctx, g.self)
	cancel()
	switch {
	case err != nil:
		g.fail(layerLocal, "probe", err)
	case n >= 1:
		g.local.confirm(sub)
	case sub == g.local.subscription():
		// The shared cache is still right; only this subscription is not.
		g.metrics.failed(layerLocal, "probe")
		g.log.Warn("the local tier's subscription is not on the cache's master, subscribing again")
		g.resubscribe()
	}
}

// sendAcks sends the acknowledgements the subscription queued, all that
// are waiting in one round trip.
func (g *Guard) sendAcks(ctx context.Context) {
	defer g.done.Done()
	batch := make([]Ack, 0, 64)
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-g.outbox:
			batch = append(batch[:0], a)
		}
		for more := true; more && len(batch) < cap(batch); {
			select {
			case a := <-g.outbox:
				batch = append(batch, a)
			default:
				more = false
			}
		}
		actx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
		if err := g.bcast.Ack(actx, batch); err != nil {
			g.fail(layerLocal, "ack", err)
		}
		cancel()
	}
}

// ackWaits are the writes of this process waiting for acknowledgements.
type ackWaits struct {
	mu      sync.Mutex
	next    uint64
	waiting map[string]*ackWait
}

// ackWait counts the acknowledgements of one write; need is -1 until the
// publish answered how many to expect.
type ackWait struct {
	got, want int64
	done      chan struct{}
}

// expect registers a write before its publish: an acknowledgement can
// arrive before the publish's answer.
func (a *ackWaits) expect() (string, *ackWait) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	id := strconv.FormatUint(a.next, 36)
	w := &ackWait{want: -1, done: make(chan struct{})}
	if a.waiting == nil {
		a.waiting = map[string]*ackWait{}
	}
	a.waiting[id] = w
	return id, w
}

// need sets how many acknowledgements w waits for; false when they are all
// in already.
func (a *ackWaits) need(w *ackWait, n int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.want = n
	return w.got < n
}

func (a *ackWaits) forget(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.waiting, id)
}

// ack counts one acknowledgement of write id.
func (a *ackWaits) ack(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w, ok := a.waiting[id]
	if !ok {
		return
	}
	w.got++
	if w.want >= 0 && w.got == w.want {
		close(w.done)
	}
}
