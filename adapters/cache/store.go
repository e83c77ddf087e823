package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/etalase/etalase/domain"
)

// Store is the caching decorator of a domain.Store. Reads of products and
// categories (items and list pages) go through the cache (cache-aside, one
// loader per key and stamp); writes pass through and invalidate after they
// return, before the caller can acknowledge them. InTx hands fn a store
// whose reads are never cached and invalidates what fn wrote only after the
// commit.
type Store struct {
	inner  domain.Store
	guard  *Guard
	ttl    time.Duration
	flight singleflight.Group
	// recent keeps what scoped loads returned for a moment, so a request
	// that missed the response before the first one filled it, but asks
	// after that one's flight ended, does not load again.
	recent recentLoads
}

var (
	_ domain.Store                = (*Store)(nil)
	_ domain.ProductReportCreator = (*Store)(nil)
)

// NewStore decorates inner with the cache behind guard; entries live for
// ttl (0: the Guard's TTL) plus jitter.
func NewStore(inner domain.Store, guard *Guard, ttl time.Duration) *Store {
	return &Store{inner: inner, guard: guard, ttl: ttl}
}

// Products returns the cached product repository.
func (s *Store) Products() domain.ProductRepository {
	return &productRepo{s: s, inner: s.inner.Products(), after: s.guard.Invalidate}
}

// Categories returns the cached category repository.
func (s *Store) Categories() domain.CategoryRepository {
	return &categoryRepo{s: s, inner: s.inner.Categories(), after: s.guard.Invalidate}
}

// Reports is not cached.
func (s *Store) Reports() domain.ReportRepository { return s.inner.Reports() }

// Outbox is not cached.
func (s *Store) Outbox() domain.Outbox { return s.inner.Outbox() }

// Idempotency is not cached.
func (s *Store) Idempotency() domain.IdempotencyStore { return s.inner.Idempotency() }

// Ping checks the inner store; the cache is never a reason to be unready.
func (s *Store) Ping(ctx context.Context) error { return s.inner.Ping(ctx) }

// InTx runs fn in a transaction of the inner store. fn's reads skip the
// cache (an uncommitted row must never be cached); its writes are recorded
// and invalidated once the transaction has committed, before InTx returns.
// A rolled-back transaction invalidates nothing.
func (s *Store) InTx(ctx context.Context, fn func(tx domain.Store) error) error {
	rec := &recorder{}
	err := s.inner.InTx(ctx, func(tx domain.Store) error {
		return fn(&txStore{inner: tx, rec: rec})
	})
	if err != nil {
		return err
	}
	return s.guard.Invalidate(ctx, rec.deps())
}

// CreateProductWithReport passes the creation to the inner store, when it
// can make a product and its report in one step, and invalidates what a
// product's creation retires, as Products().Create does. Otherwise it
// returns errors.ErrUnsupported, having done nothing.
func (s *Store) CreateProductWithReport(ctx context.Context, f domain.ProductFields, requestedBy, requestID string) (domain.Product, domain.Report, error) {
	creator, ok := s.inner.(domain.ProductReportCreator)
	if !ok {
		return domain.Product{}, domain.Report{}, errors.ErrUnsupported
	}
	p, r, err := creator.CreateProductWithReport(ctx, f, requestedBy, requestID)
	return p, r, invalidated(ctx, s.guard.Invalidate, productWritten(p.ID), err)
}

// recorder collects the generations a transaction's writes retire.
type recorder struct {
	mu  sync.Mutex
	set map[string]struct{}
}

func (r *recorder) add(_ context.Context, deps []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		r.set = make(map[string]struct{})
	}
	for _, d := range deps {
		r.set[d] = struct{}{}
	}
	return nil
}

func (r *recorder) deps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.set))
	for d := range r.set {
		out = append(out, d)
	}
	return out
}

// txStore is the store inside a transaction: uncached reads, recorded
// writes.
type txStore struct {
	inner domain.Store
	rec   *recorder
}

func (t *txStore) Products() domain.ProductRepository {
	return &productRepo{inner: t.inner.Products(), after: t.rec.add}
}

func (t *txStore) Categories() domain.CategoryRepository {
	return &categoryRepo{inner: t.inner.Categories(), after: t.rec.add}
}

func (t *txStore) Reports() domain.ReportRepository     { return t.inner.Reports() }
func (t *txStore) Outbox() domain.Outbox                { return t.inner.Outbox() }
func (t *txStore) Idempotency() domain.IdempotencyStore { return t.inner.Idempotency() }
func (t *txStore) Ping(ctx context.Context) error       { return t.inner.Ping(ctx) }
func (t *txStore) InTx(ctx context.Context, fn func(tx domain.Store) error) error {
	return t.inner.InTx(ctx, func(tx domain.Store) error {
		return fn(&txStore{inner: tx, rec: t.rec})
	})
}

// cached is cache-aside for one key: a current entry is decoded and
// returned; a miss loads once per key and stamp in this process (a loader
// that started before a write has another stamp than a reader after it, so
// the later reader never joins it), re-checks the cache inside the flight
// so late arrivals of a burst do not load again, claims the load across
// processes (a process that loses the claim waits briefly for the
// winner's fill), and fills. With no Store
// (inside a transaction) or a bypassing Guard it just loads.
func cached[T any](ctx context.Context, s *Store, key string, deps []string,
	load func(context.Context) (T, error), enc func(T) ([]byte, error), dec func([]byte) (T, error)) (T, error) {
	if s == nil {
		return load(ctx)
	}
	if stamp, ok := missedResponse(ctx, deps); ok {
		// The response will be stored; an entry of its own would repeat it.
		// Loads still meet in one flight per key and stamp, and a load
		// that just finished under the same stamp is as current as an
		// entry carrying it.
		fk := key + "\x01" + stamp
		if v, ok := s.recent.get(fk); ok {
			return v.(T), nil
		}
		v, err, _ := s.flight.Do(fk, func() (any, error) {
			if v, ok := s.recent.get(fk); ok {
				return v, nil
			}
			v, err := load(context.WithoutCancel(ctx))
			if err == nil {
				s.recent.put(fk, v)
			}
			return v, err
		})
		if err != nil {
			var zero T
			return zero, err
		}
		return v.(T), nil
	}
	l := s.guard.lookup(ctx, LayerRepository, key, deps)
	switch l.state {
	case stateHit:
		if v, err := dec(l.value); err == nil {
			return v, nil
		}
		// An entry this version cannot read is replaced like a missing one.
		l.state, l.value = stateMiss, nil
	case stateBypass:
		return load(ctx)
	}
	v, err, _ := s.flight.Do(key+"\x00"+l.stamp, func() (any, error) {
		fctx := context.WithoutCancel(ctx)
		value, hit, claimed := s.guard.recheck(fctx, l)
		if hit {
			if v, err := dec(value); err == nil {
				return v, nil
			}
		}
		if !claimed {
			if b, ok := s.guard.await(fctx, l, deps); ok {
				if v, err := dec(b); err == nil {
					return v, nil
				}
			}
		}
		v, err := load(fctx)
		if err != nil {
			return v, err
		}
		if b, err := enc(v); err == nil {
			s.guard.fill(fctx, l, b, s.ttl)
		}
		return v, nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// recentFor is how long a scoped load's result answers later requests
// under the same stamp: long enough to cover the gap between its flight's
// end and the response's fill on a busy machine. A write moves the stamp,
// so it never serves across one.
const recentFor = time.Second

// recentLoads remembers scoped loads by key and stamp for recentFor.
type recentLoads struct {
	mu     sync.Mutex
	m      map[string]recentLoad
	pruned time.Time
}

type recentLoad struct {
	v     any
	until time.Time
}

func (r *recentLoads) get(k string) (any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[k]
	if !ok || time.Now().After(e.until) {
		return nil, false
	}
	return e.v, true
}

func (r *recentLoads) put(k string, v any) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[string]recentLoad)
	}
	// Drop the expired ones at most once per period, so the map holds
	// about one period's distinct misses.
	if now.Sub(r.pruned) > recentFor {
		for k, e := range r.m {
			if now.After(e.until) {
				delete(r.m, k)
			}
		}
		r.pruned = now
	}
	r.m[k] = recentLoad{v: v, until: now.Add(recentFor)}
}

// invalidated runs after a write: it retires deps unless the write was
// rejected before it could change anything (invalid, not found, conflict);
// a failed write of another kind may still have committed. The write's own
// error is reported first.
func invalidated(ctx context.Context, after func(context.Context, []string) error, deps []string, err error) error {
	switch domain.KindOf(err) {
	case domain.KindInvalid, domain.KindNotFound, domain.KindConflict:
		if err != nil {
			return err
		}
	}
	if ierr := after(ctx, deps); ierr != nil && err == nil {
		return fmt.Errorf("invalidate cache: %w", ierr)
	}
	return err
}
