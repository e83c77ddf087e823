package cache

import (
	"context"
	"slices"
	"strings"
	"time"
)

// The states a response lookup reports, as the X-Cache header shows them.
const (
	ResponseHit    = "HIT"
	ResponseMiss   = "MISS"
	ResponseBypass = "BYPASS"
)

// Responses is the store behind the HTTP response cache. It keys a
// response by its normalized target under the same generations and epoch
// as the repository entries, so the writes that retire a product retire
// every response that shows it.
type Responses struct {
	guard *Guard
}

// NewResponses returns the response store on guard.
func NewResponses(guard *Guard) *Responses { return &Responses{guard: guard} }

// Lookup finds the response cached for target (path, then "?" and the
// normalized query if any). It returns the stored bytes and ResponseHit;
// ResponseMiss and a fill function to store the response computed now
// (with ttl, 0 for the default); or ResponseBypass for a path it does not
// cache or a cache it does not trust.
func (r *Responses) Lookup(ctx context.Context, target string) ([]byte, string, func(context.Context, []byte, time.Duration)) {
	path, _, _ := strings.Cut(target, "?")
	deps, ok := responseDeps(path)
	if !ok {
		r.guard.metrics.bypass(LayerResponse)
		return nil, ResponseBypass, nil
	}
	l := r.guard.lookup(ctx, LayerResponse, responseKey(target), deps)
	switch l.state {
	case stateHit:
		return l.value, ResponseHit, nil
	case stateMiss:
		if sc, ok := ctx.Value(scopeKey{}).(*responseScope); ok {
			sc.deps, sc.stamp = deps, l.stamp
		}
		return nil, ResponseMiss, func(ctx context.Context, value []byte, ttl time.Duration) {
			r.guard.fill(ctx, l, value, ttl)
		}
	default:
		return nil, ResponseBypass, nil
	}
}

// Scope returns ctx for a request whose response Lookup is about to look
// up: when the lookup misses, the repository reads of the same generations
// that compute the response skip their own entries (see cached), so Redis
// holds one shape of an item (its response) and a cold miss costs two round
// trips (three when its generations are new) instead of five.
func (r *Responses) Scope(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, &responseScope{})
}

type scopeKey struct{}

// responseScope is what a response lookup that missed tells the reads
// under it: the generations the response depends on and its stamp.
type responseScope struct {
	deps  []string
	stamp string
}

// missedResponse returns the stamp of the response being computed under
// ctx, when it depends on exactly deps.
func missedResponse(ctx context.Context, deps []string) (string, bool) {
	sc, ok := ctx.Value(scopeKey{}).(*responseScope)
	if !ok || sc.stamp == "" || !slices.Equal(sc.deps, deps) {
		return "", false
	}
	return sc.stamp, true
}
