package cache

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/domain"
)

// memFixture is a cached store over memory with the reads it lets through
// counted.
type memFixture struct {
	inner  *countingStore
	store  *cache.Store
	guard  *cache.Guard
	cache  *flakyCache
	epochs *memory.CacheEpoch
}

func newMemFixture(t *testing.T) *memFixture {
	t.Helper()
	f := &memFixture{
		inner:  &countingStore{Store: memory.New()},
		cache:  &flakyCache{Cache: memory.NewCache()},
		epochs: memory.NewCacheEpoch(),
	}
	f.guard = startGuard(t, f.cache, f.epochs)
	f.store = cache.NewStore(f.inner, f.guard, 0)
	return f
}

func firstPage(t *testing.T, s domain.Store) domain.ProductPage {
	t.Helper()
	page, err := s.Products().List(context.Background(), domain.ProductQuery{Limit: 20, Sort: domain.Sort{Field: domain.SortByID}})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	return page
}

func find(page domain.ProductPage, id int64) (domain.Product, bool) {
	for _, p := range page.Items {
		if p.ID == id {
			return p, true
		}
	}
	return domain.Product{}, false
}

// TestWritesRetireItemsAndLists warms the item and the list, makes a write,
// and checks that both show it at once.
func TestWritesRetireItemsAndLists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name  string
		write func(s domain.Store, cat domain.Category, p domain.Product) error
		check func(t *testing.T, item domain.Product, itemErr error, inList bool, listed domain.Product)
	}{
		{
			name: "product update",
			write: func(s domain.Store, _ domain.Category, p domain.Product) error {
				f := p.Fields()
				f.Stock = 99
				_, err := s.Products().Update(ctx, p.ID, p.Revision(), f)
				return err
			},
			check: func(t *testing.T, item domain.Product, err error, inList bool, listed domain.Product) {
				if err != nil || item.Stock != 99 || item.Version != 2 {
					t.Errorf("item = stock %d version %d (%v), want stock 99 version 2", item.Stock, item.Version, err)
				}
				if !inList || listed.Stock != 99 {
					t.Errorf("listed = %v stock %d, want stock 99", inList, listed.Stock)
				}
			},
		},
		{
			name: "product update in a transaction",
			write: func(s domain.Store, _ domain.Category, p domain.Product) error {
				return s.InTx(ctx, func(tx domain.Store) error {
					f := p.Fields()
					f.Stock = 42
					_, err := tx.Products().Update(ctx, p.ID, p.Revision(), f)
					return err
				})
			},
			check: func(t *testing.T, item domain.Product, err error, inList bool, listed domain.Product) {
				if err != nil || item.Stock != 42 {
					t.Errorf("item = stock %d (%v), want 42", item.Stock, err)
				}
				if !inList || listed.Stock != 42 {
					t.Errorf("listed = %v stock %d, want 42", inList, listed.Stock)
				}
			},
		},
		{
			name: "category rename",
			write: func(s domain.Store, cat domain.Category, _ domain.Product) error {
				_, err := s.Categories().Update(ctx, cat.ID, cat.Version, domain.CategoryFields{Name: "Novels"})
				return err
			},
			check: func(t *testing.T, item domain.Product, err error, inList bool, listed domain.Product) {
				if err != nil || item.CategoryName != "Novels" {
					t.Errorf("item category = %q (%v), want Novels", item.CategoryName, err)
				}
				if !inList || listed.CategoryName != "Novels" {
					t.Errorf("listed category = %q, want Novels", listed.CategoryName)
				}
			},
		},
		{
			name: "product delete",
			write: func(s domain.Store, _ domain.Category, p domain.Product) error {
				return s.Products().Delete(ctx, p.ID)
			},
			check: func(t *testing.T, _ domain.Product, err error, inList bool, _ domain.Product) {
				if domain.KindOf(err) != domain.KindNotFound {
					t.Errorf("get after delete: %v, want not found", err)
				}
				if inList {
					t.Errorf("the deleted product is still listed")
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newMemFixture(t)
			cat, ps := seed(t, f.store, 3)
			p := ps[1]
			for i := 0; i < 2; i++ {
				if _, err := f.store.Products().Get(ctx, p.ID); err != nil {
					t.Fatalf("get: %v", err)
				}
				firstPage(t, f.store)
			}
			if got := f.inner.productGets.Load() + f.inner.productLists.Load(); got != 2 {
				t.Fatalf("warming read the store %d times, want 2 (the second round from the cache)", got)
			}
			if err := tc.write(f.store, cat, p); err != nil {
				t.Fatalf("write: %v", err)
			}
			item, err := f.store.Products().Get(ctx, p.ID)
			listed, inList := find(firstPage(t, f.store), p.ID)
			tc.check(t, item, err, inList, listed)
		})
	}
}

// TestCreationWithItsReportRetiresLists warms the list, creates a product
// with its report in one step through the cached store, and checks that
// the list shows it at once.
func TestCreationWithItsReportRetiresLists(t *testing.T) {
	t.Parallel()
	f := newMemFixture(t)
	cat, _ := seed(t, f.store, 2)
	for range 2 {
		firstPage(t, f.store)
	}
	if got := f.inner.productLists.Load(); got != 1 {
		t.Fatalf("warming listed the store %d times, want 1 (the second from the cache)", got)
	}
	p, r, err := f.store.CreateProductWithReport(context.Background(),
		domain.ProductFields{Name: "new", Price: 100, Stock: 1, CategoryID: cat.ID}, "writer", "")
	if err != nil {
		t.Fatalf("create with report: %v", err)
	}
	if r.ProductID != p.ID || r.Status != domain.ReportQueued {
		t.Errorf("report %+v, want queued for product %d", r, p.ID)
	}
	if _, ok := find(firstPage(t, f.store), p.ID); !ok {
		t.Errorf("the list does not show product %d created with its report", p.ID)
	}
}

// TestTransactionsNeverFillAndRollbacksRetireNothing checks the two halves
// of the transaction rule.
func TestTransactionsNeverFillAndRollbacksRetireNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMemFixture(t)
	_, ps := seed(t, f.store, 1)
	p := ps[0]

	err := f.store.InTx(ctx, func(tx domain.Store) error {
		for i := 0; i < 2; i++ {
			if _, err := tx.Products().Get(ctx, p.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read in a transaction: %v", err)
	}
	if _, err := f.store.Products().Get(ctx, p.ID); err != nil {
		t.Fatalf("get: %v", err)
	}
	if got := f.inner.productGets.Load(); got != 1 {
		t.Fatalf("after a transaction's reads, a plain get reached the store %d times, want 1: the transaction filled the cache", got)
	}

	boom := errors.New("boom")
	err = f.store.InTx(ctx, func(tx domain.Store) error {
		fields := p.Fields()
		fields.Stock = 1234
		if _, err := tx.Products().Update(ctx, p.ID, p.Revision(), fields); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rolled-back transaction returned %v, want boom", err)
	}
	got, err := f.store.Products().Get(ctx, p.ID)
	if err != nil || got.Stock != p.Stock || got.Version != p.Version {
		t.Fatalf("after rollback get = stock %d version %d (%v), want the original", got.Stock, got.Version, err)
	}
	if n := f.inner.productGets.Load(); n != 1 {
		t.Fatalf("a rollback retired the entry: the store was read %d times, want 1", n)
	}
}

// slowStore holds the first Get after it has read the row, so a write can
// commit and invalidate before the slow reader fills the cache.
type slowStore struct {
	domain.Store
	once    sync.Once
	read    chan struct{} // closed when the slow reader has its row
	release chan struct{}
}

func (s *slowStore) Products() domain.ProductRepository {
	return &slowProducts{ProductRepository: s.Store.Products(), s: s}
}

type slowProducts struct {
	domain.ProductRepository
	s *slowStore
}

func (r *slowProducts) Get(ctx context.Context, id int64) (domain.Product, error) {
	p, err := r.ProductRepository.Get(ctx, id)
	first := false
	r.s.once.Do(func() { first = true })
	if first {
		close(r.s.read)
		<-r.s.release
	}
	return p, err
}

// TestSlowReaderCannotCacheOldData is the stale-set race of cache-aside: a
// reader loads the old row, a write commits and invalidates, then the
// reader fills. The fill must land where no later reader looks.
func TestSlowReaderCannotCacheOldData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := memory.New()
	slow := &slowStore{Store: base, read: make(chan struct{}), release: make(chan struct{})}
	g := startGuard(t, memory.NewCache(), memory.NewCacheEpoch())
	reader := cache.NewStore(slow, g, 0)
	writer := cache.NewStore(base, g, 0)
	_, ps := seed(t, writer, 1)
	p := ps[0]

	done := make(chan domain.Product)
	go func() {
		old, _ := reader.Products().Get(ctx, p.ID)
		done <- old
	}()
	<-slow.read
	fields := p.Fields()
	fields.Stock = 777
	if _, err := writer.Products().Update(ctx, p.ID, p.Revision(), fields); err != nil {
		t.Fatalf("update: %v", err)
	}
	close(slow.release)
	if old := <-done; old.Version != p.Version {
		t.Fatalf("the slow reader read version %d, want the old %d (the test did not interleave)", old.Version, p.Version)
	}
	got, err := reader.Products().Get(ctx, p.ID)
	if err != nil || got.Version != p.Version+1 || got.Stock != 777 {
		t.Fatalf("get after the write = version %d stock %d (%v), want version %d stock 777", got.Version, got.Stock, err, p.Version+1)
	}
}

// TestOutageWritesRetireEntriesForEveryProcess takes the cache away, writes
// while it is gone (so no generation can be bumped), brings it back, and
// reads from the writing process and from one that saw no error at all.
func TestOutageWritesRetireEntriesForEveryProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := memory.New()
	shared := memory.NewCache()
	epochs := memory.NewCacheEpoch()
	aCache := &flakyCache{Cache: shared}
	bCache := &flakyCache{Cache: shared}
	aGuard := startGuard(t, aCache, epochs)
	a := cache.NewStore(base, aGuard, 0)
	bGuard := startGuard(t, bCache, epochs)
	b := cache.NewStore(base, bGuard, 0)
	_, ps := seed(t, a, 2)

	for _, s := range []domain.Store{a, b} {
		for _, p := range ps {
			if _, err := s.Products().Get(ctx, p.ID); err != nil {
				t.Fatalf("warm: %v", err)
			}
		}
		firstPage(t, s)
	}

	aCache.down.Store(true)
	fields := ps[0].Fields()
	fields.Stock = 555
	updated, err := a.Products().Update(ctx, ps[0].ID, ps[0].Revision(), fields)
	if err != nil {
		t.Fatalf("a write with the cache down must succeed: %v", err)
	}
	if got, err := a.Products().Get(ctx, ps[0].ID); err != nil || got.Version != updated.Version {
		t.Fatalf("read during the outage = version %d (%v), want %d from the store", got.Version, err, updated.Version)
	}
	if aGuard.Trusted() {
		t.Fatalf("the writer still trusts a cache that failed")
	}
	aCache.down.Store(false)
	waitTrusted(t, aGuard, true)

	for name, s := range map[string]domain.Store{"writer": a, "bystander": b} {
		got, err := s.Products().Get(ctx, ps[0].ID)
		if err != nil || got.Version != updated.Version || got.Stock != 555 {
			t.Errorf("%s after the outage: version %d stock %d (%v), want version %d stock 555", name, got.Version, got.Stock, err, updated.Version)
		}
		listed, ok := find(firstPage(t, s), ps[0].ID)
		if !ok || listed.Version != updated.Version {
			t.Errorf("%s list after the outage shows version %d, want %d", name, listed.Version, updated.Version)
		}
	}
	if !bGuard.Trusted() {
		t.Errorf("the bystander stopped trusting a cache it never saw fail")
	}
}

// TestBurstOfMissesLoadsOnce sends 200 concurrent reads of one cold key.
func TestBurstOfMissesLoadsOnce(t *testing.T) {
	t.Parallel()
	f := newMemFixture(t)
	_, ps := seed(t, f.store, 1)
	burst(t, f.store, ps[0].ID, 200)
	if got := f.inner.productGets.Load(); got != 1 {
		t.Fatalf("200 concurrent gets of a cold key reached the store %d times, want 1", got)
	}
}

// burst reads product id n times at once and checks every answer.
func burst(t *testing.T, s domain.Store, id int64, n int) {
	t.Helper()
	if err := burstErr(s, id, n); err != nil {
		t.Fatalf("get: %v", err)
	}
}

// burstErr is burst for goroutines other than the test's: it returns the
// first failure.
func burstErr(s domain.Store, id int64, n int) error {
	var start, wg sync.WaitGroup
	start.Add(1)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			p, err := s.Products().Get(context.Background(), id)
			if err == nil && p.ID != id {
				err = errors.New("wrong product")
			}
			errs <- err
		}()
	}
	start.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// unpingable is a cache whose Ping fails while everything else works: the
// Guard over it never trusts it, as a process still in doubt after an
// outage that others have already left behind.
type unpingable struct{ domain.Cache }

func (unpingable) Ping(context.Context) error { return errCacheDown }

// TestDoubtingWriterBumpsRedisToo: a process that does not trust the cache
// yet bumps the epoch for its writes, and also the generations, as well as
// Redis answers: another process that already trusts Redis again and has
// not heard the new epoch must not serve what the write retired.
func TestDoubtingWriterBumpsRedisToo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared := memory.NewCache()
	doubting := cache.NewGuard(unpingable{shared}, memory.NewCacheEpoch(), nil, nil, cache.GuardConfig{Probe: 5 * time.Millisecond})
	if err := doubting.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = doubting.Stop(ctx) })
	if doubting.Trusted() {
		t.Fatal("a Guard whose cache does not answer its ping trusts it")
	}
	gen := "etalase:gen:product:1"
	before, _, err := shared.Read(ctx, "etalase:product:1", []string{gen})
	if err != nil {
		t.Fatal(err)
	}
	if err := doubting.Invalidate(ctx, []string{gen}); err != nil {
		t.Fatalf("invalidate: %v", err)
	}
	after, _, _ := shared.Read(ctx, "etalase:product:1", []string{gen})
	if after[0] <= before[0] {
		t.Fatalf("generation %s went from %d to %d: the doubting writer did not bump it", gen, before[0], after[0])
	}
}
