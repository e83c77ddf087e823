package cache

import (
	"context"
	"slices"
	"time"

	"github.com/etalase/etalase/domain"
)

// Responses is the store behind the HTTP response cache. It keys a
// response by the view it renders, under the same generations and epoch as
// the repository entries, so the writes that retire a product retire every
// response that shows it.
type Responses struct {
	guard *Guard
}

// NewResponses returns the response store on guard.
func NewResponses(guard *Guard) *Responses { return &Responses{guard: guard} }

// Lookup finds the response cached for view. A hit returns the stored
// bytes; a miss returns a fill function that stores the response computed
// now (with ttl, 0 for the default); a view it does not serve, or a cache
// it does not trust, returns neither (the caller bypasses the cache).
func (r *Responses) Lookup(ctx context.Context, view domain.View) ([]byte, func(context.Context, []byte, time.Duration)) {
	deps, ok := viewDeps(view)
	if !ok {
		r.guard.metrics.bypass(LayerResponse)
		return nil, nil
	}
	l := r.guard.lookup(ctx, LayerResponse, responseKey(view), deps)
	switch l.state {
	case stateHit:
		return l.value, nil
	case stateMiss:
		if sc, ok := ctx.Value(scopeKey{}).(*responseScope); ok {
			sc.deps, sc.stamp = deps, l.stamp
		}
		return nil, func(ctx context.Context, value []byte, ttl time.Duration) {
			r.guard.fill(ctx, l, value, ttl)
		}
	default:
		return nil, nil
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
