package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
	"github.com/etalase/etalase/test/pgbouncerproc"
	"github.com/etalase/etalase/test/pgtest"
)

// poolerStore returns a store on a fresh database through bouncer, with the
// pool NewPoolForPooler opens, and the database's direct DSN.
func poolerStore(t *testing.T, bouncer *pgbouncerproc.Server) (*postgres.Store, string) {
	t.Helper()
	direct := pgtest.NewDatabase(t)
	pool, err := postgres.NewPoolForPooler(context.Background(), bouncer.URLFor(t, direct))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return postgres.NewStore(pool), direct
}

// TestStoreContractThroughPgBouncer runs the Store specification through a
// PgBouncer in transaction mode.
func TestStoreContractThroughPgBouncer(t *testing.T) {
	t.Parallel()
	bouncer := pgbouncerproc.StartWith(t, pgbouncerproc.Options{PoolSize: 2})
	contract.RunStore(t, func(t *testing.T) domain.Store {
		s, _ := poolerStore(t, bouncer)
		return s
	})
}

// TestPoolForPoolerConcurrently runs the catalog's statements from more
// goroutines than PgBouncer has server connections, so that a client
// connection's statements land on every server connection: named prepared
// statements (pgx's default) fail here with "prepared statement ... does
// not exist".
func TestPoolForPoolerConcurrently(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	bouncer := pgbouncerproc.StartWith(t, pgbouncerproc.Options{PoolSize: 2})
	s, _ := poolerStore(t, bouncer)
	catalog := application.NewCatalog(s)
	cat, err := catalog.CreateCategory(ctx, domain.CategoryFields{Name: "pooled"})
	if err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 12, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				p, err := catalog.CreateProduct(ctx, application.CreateProduct{RequestedBy: "t",
					Fields: domain.ProductFields{Name: fmt.Sprintf("p %d-%d", w, i), Price: 100, CategoryID: cat.ID}})
				if err == nil {
					_, err = s.Products().Get(ctx, p.Product.ID)
				}
				if err == nil {
					_, err = s.Products().List(ctx, domain.ProductQuery{Limit: 5, CategoryID: cat.ID,
						Sort: domain.Sort{Field: domain.SortByPrice, Desc: true}})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("through pgbouncer: %v", err)
	}
	page, err := s.Products().List(ctx, domain.ProductQuery{Limit: 100, CategoryID: cat.ID, Sort: domain.Sort{Field: domain.SortByID}})
	if err != nil {
		t.Fatal(err)
	}
	if !t.Failed() && (len(page.Items) != 100 || page.Next == nil) {
		t.Fatalf("listed %d products and next %v after %d creates", len(page.Items), page.Next, workers*rounds)
	}
}

// TestPoolForPoolerKeepsTheDSNsMode leaves a mode the DSN chooses alone:
// PgBouncer 1.21 and later can carry named statements
// (max_prepared_statements).
func TestPoolForPoolerKeepsTheDSNsMode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const dsn = "postgres://u@127.0.0.1:1/x?sslmode=disable"
	for _, tt := range []struct {
		dsn    string
		pooler bool
		want   pgx.QueryExecMode
	}{
		{dsn, false, pgx.QueryExecModeCacheStatement},
		{dsn, true, pgx.QueryExecModeCacheDescribe},
		{dsn + "&default_query_exec_mode=cache_statement", true, pgx.QueryExecModeCacheStatement},
		{dsn + "&default_query_exec_mode=exec", false, pgx.QueryExecModeExec},
	} {
		open := postgres.NewPool
		if tt.pooler {
			open = postgres.NewPoolForPooler
		}
		pool, err := open(ctx, tt.dsn)
		if err != nil {
			t.Fatal(err)
		}
		if got := pool.Config().ConnConfig.DefaultQueryExecMode; got != tt.want {
			t.Errorf("%s (pooler %t): mode %v, want %v", tt.dsn, tt.pooler, got, tt.want)
		}
		pool.Close()
	}
}

// TestCacheEpochWatchesDirectly keeps the epoch through PgBouncer and
// watches it on the direct DSN: a bump made through the pooler reaches the
// watcher.
func TestCacheEpochWatchesDirectly(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	bouncer := pgbouncerproc.StartWith(t, pgbouncerproc.Options{PoolSize: 2})
	s, direct := poolerStore(t, bouncer)
	epoch := postgres.NewCacheEpoch(s.Pool(), direct)

	seen := make(chan int64, 16)
	watchCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- epoch.Watch(watchCtx, func(e int64) { seen <- e }) }()
	defer func() {
		stop()
		<-done
	}()
	first := next(t, seen, done)
	bumped, err := epoch.Bump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bumped <= first {
		t.Fatalf("bump returned %d after %d", bumped, first)
	}
	for e := first; e < bumped; {
		e = next(t, seen, done)
	}
}

// next returns the next epoch the watcher reports; a watcher that ends or
// stays silent for a long minute fails the test.
func next(t *testing.T, seen <-chan int64, done <-chan error) int64 {
	t.Helper()
	select {
	case e := <-seen:
		return e
	case err := <-done:
		t.Fatalf("the watch ended: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no epoch reported")
	}
	return 0
}
