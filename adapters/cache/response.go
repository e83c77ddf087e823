package cache

import (
	"context"
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
		return nil, ResponseMiss, func(ctx context.Context, value []byte, ttl time.Duration) {
			r.guard.fill(ctx, l, value, ttl)
		}
	default:
		return nil, ResponseBypass, nil
	}
}
