package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/domain"
)

// countingStore counts the reads that reach the store it wraps.
type countingStore struct {
	domain.Store
	productGets, productLists, categoryGets, categoryLists atomic.Int64
}

func (s *countingStore) Products() domain.ProductRepository {
	return &countingProducts{ProductRepository: s.Store.Products(), s: s}
}

func (s *countingStore) Categories() domain.CategoryRepository {
	return &countingCategories{CategoryRepository: s.Store.Categories(), s: s}
}

// CreateProductWithReport passes through, so the cache decorator over a
// counting store keeps the one-statement creation of the store it counts.
func (s *countingStore) CreateProductWithReport(ctx context.Context, f domain.ProductFields, requestedBy, requestID string) (domain.Product, domain.Report, error) {
	creator, ok := s.Store.(domain.ProductReportCreator)
	if !ok {
		return domain.Product{}, domain.Report{}, errors.ErrUnsupported
	}
	return creator.CreateProductWithReport(ctx, f, requestedBy, requestID)
}

func (s *countingStore) InTx(ctx context.Context, fn func(tx domain.Store) error) error {
	return s.Store.InTx(ctx, func(tx domain.Store) error {
		return fn(&countingStore{Store: tx})
	})
}

type countingProducts struct {
	domain.ProductRepository
	s *countingStore
}

func (r *countingProducts) Get(ctx context.Context, id int64) (domain.Product, error) {
	r.s.productGets.Add(1)
	return r.ProductRepository.Get(ctx, id)
}

func (r *countingProducts) List(ctx context.Context, q domain.ProductQuery) (domain.ProductPage, error) {
	r.s.productLists.Add(1)
	return r.ProductRepository.List(ctx, q)
}

type countingCategories struct {
	domain.CategoryRepository
	s *countingStore
}

func (r *countingCategories) Get(ctx context.Context, id int64) (domain.Category, error) {
	r.s.categoryGets.Add(1)
	return r.CategoryRepository.Get(ctx, id)
}

func (r *countingCategories) List(ctx context.Context, q domain.CategoryQuery) (domain.CategoryPage, error) {
	r.s.categoryLists.Add(1)
	return r.CategoryRepository.List(ctx, q)
}

var errCacheDown = errors.New("cache down")

// flakyCache is a cache that can be switched off: every call fails while
// down, as a dead Redis would. While lost, Bump does nothing but reports
// success, as a bump that Redis acknowledged and then lost would.
type flakyCache struct {
	domain.Cache
	down atomic.Bool
}

func (c *flakyCache) Read(ctx context.Context, key string, gens []string) ([]int64, []byte, error) {
	if c.down.Load() {
		return nil, nil, errCacheDown
	}
	return c.Cache.Read(ctx, key, gens)
}

func (c *flakyCache) Write(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if c.down.Load() {
		return errCacheDown
	}
	return c.Cache.Write(ctx, key, value, ttl)
}

func (c *flakyCache) Bump(ctx context.Context, gens ...string) error {
	if c.down.Load() {
		return errCacheDown
	}
	return c.Cache.Bump(ctx, gens...)
}

func (c *flakyCache) Ping(ctx context.Context) error {
	if c.down.Load() {
		return errCacheDown
	}
	return c.Cache.Ping(ctx)
}

// startGuard starts a Guard with fast probes and waits until it trusts the
// cache.
func startGuard(t *testing.T, c domain.Cache, e domain.CacheEpoch) *cache.Guard {
	t.Helper()
	return startGuardWith(t, c, e, cache.LocalConfig{})
}

// startGuardWith is startGuard with the local tier configured by local.
func startGuardWith(t *testing.T, c domain.Cache, e domain.CacheEpoch, local cache.LocalConfig) *cache.Guard {
	t.Helper()
	g := cache.NewGuard(c, e, nil, nil, cache.GuardConfig{TTL: time.Minute, Probe: 5 * time.Millisecond,
		Refresh: 50 * time.Millisecond, Local: local})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Start(ctx); err != nil {
		t.Fatalf("start guard: %v", err)
	}
	t.Cleanup(func() { _ = g.Stop(context.Background()) })
	waitTrusted(t, g, true)
	return g
}

// waitTrusted waits until the Guard's trust is want.
func waitTrusted(t *testing.T, g *cache.Guard, want bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for g.Trusted() != want {
		if time.Now().After(deadline) {
			t.Fatalf("guard trusted = %v, want %v after 5s", g.Trusted(), want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// seed creates a category and n products in it through s.
func seed(t *testing.T, s domain.Store, n int) (domain.Category, []domain.Product) {
	t.Helper()
	ctx := context.Background()
	cat, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "Books"})
	if err != nil {
		t.Fatalf("create category: %v", err)
	}
	var ps []domain.Product
	for i := 0; i < n; i++ {
		p, err := s.Products().Create(ctx, domain.ProductFields{
			Name: "product " + string(rune('a'+i%26)), Price: domain.Price(100 + i), Stock: int64(i), CategoryID: cat.ID})
		if err != nil {
			t.Fatalf("create product: %v", err)
		}
		ps = append(ps, p)
	}
	return cat, ps
}
