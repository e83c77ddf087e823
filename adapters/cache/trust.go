package cache

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// The trust state machine. A Guard trusts the cache (serves and fills it)
// only while the cache answers, the epoch watch is live, and it has bumped
// and re-read the epoch since it last doubted: any error distrusts it
// (fail), maintain probes until recover can trust again, and refresh,
// while trusting, re-reads the epoch, the database's identity and the
// cache server's run id (a failover moves the local tier's subscription).

// The layers of errors that are not a lookup's.
const (
	layerWrite   = "write"  // invalidation after a write
	layerServer  = "server" // the cache moved to another server
	layerEpoch   = "epoch"  // the epoch watch
	layerLocal   = "local"  // the local tier's subscription
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
// local tier's subscription.
func (g *Guard) failover(was, now string) {
	g.fail(layerServer, "failover", fmt.Errorf("the cache moved from server %s to %s", was, now))
	g.resubscribe()
}

// resubscribe ends the local tier's subscription; listen starts a new
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
	if g.local != nil {
		g.confirmSubscription(g.local.subscription())
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
