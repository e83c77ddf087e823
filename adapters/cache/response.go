package cache

import (
	"context"
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
		return nil, func(ctx context.Context, value []byte, ttl time.Duration) {
			r.guard.fill(ctx, l, value, ttl)
		}
	default:
		return nil, nil
	}
}
