package cache

import (
	"context"
	"math/rand/v2"
	"time"
)

// Lookup and fill: a lookup reads the local tier, then the shared cache
// (the generations and the entry in one round trip), and serves an entry
// only when its stamp is current; a miss re-reads inside the process's
// flight while claiming a lease across processes (one round trip), loads,
// and fills both tiers.

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
	// For the local tier: what the entry depends on, the epoch it was
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
	if g.local != nil && layer != "" {
		if v, ok := g.local.get(key, epoch); ok {
			g.metrics.hit(layer)
			g.metrics.localHit(layer)
			return lookup{state: stateHit, layer: layer, key: key, value: v}
		}
		mark = g.local.mark()
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	gens, raw, err := g.cache.Read(ctx, key, deps)
	cancel()
	if err != nil {
		g.fail(layerOrRecheck(layer), "read", err)
		g.metrics.bypass(layer)
		return lookup{state: stateBypass}
	}
	if g.local != nil {
		g.local.observe(deps, gens)
	}
	l := lookup{state: stateMiss, layer: layer, key: key, stamp: stamp(g.identityOf(), epoch, gens), deps: deps, epoch: epoch, mark: mark}
	if v, ok := unwrap(raw, l.stamp); ok {
		l.state, l.value = stateHit, v
		g.metrics.hit(layer)
		if g.local != nil && layer != "" {
			g.local.put(key, deps, v, epoch, g.cfg.TTL, mark)
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
	if g.local != nil && l.layer != "" {
		g.local.put(l.key, l.deps, value, l.epoch, ttl, l.mark)
	}
}

// readClaimer is a cache that can re-read an entry and claim its lease in
// one round trip (Redis: a pipeline).
type readClaimer interface {
	ReadClaim(ctx context.Context, key string, gens []string, lease string, ttl time.Duration) ([]int64, []byte, bool, error)
}

// recheck reads l's entry again, inside the flight, and asks for the right
// to load it; claimed false means another process holds it. Trouble with
// the cache grants it: the caller loads.
func (g *Guard) recheck(ctx context.Context, l lookup) (value []byte, hit, claimed bool) {
	if l.state != stateMiss || !g.trusted.Load() {
		return nil, false, true
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	lease := leaseKey(l.key, l.stamp)
	if rc, ok := g.cache.(readClaimer); ok {
		gens, raw, claimed, err := rc.ReadClaim(ctx, l.key, l.deps, lease, g.cfg.Lease)
		if err != nil {
			g.fail(layerRecheck, "claim", err)
			return nil, false, true
		}
		if g.local != nil {
			g.local.observe(l.deps, gens)
		}
		if stamp(g.identityOf(), g.epoch.Load(), gens) == l.stamp {
			if v, ok := unwrap(raw, l.stamp); ok {
				return v, true, claimed
			}
		}
		return nil, false, claimed
	}
	if again := g.lookup(ctx, "", l.key, l.deps); again.state == stateHit && again.stamp == l.stamp {
		return again.value, true, true
	}
	claimed, err := g.cache.Claim(ctx, lease, g.cfg.Lease)
	if err != nil {
		g.fail(layerRecheck, "claim", err)
		return nil, false, true
	}
	return nil, false, claimed
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
