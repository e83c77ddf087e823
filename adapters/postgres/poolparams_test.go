package postgres_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/test/pgtest"
)

// TestDirectConnectionsTakePoolParameters checks that a DSN carrying pgx
// pool options (pool_max_conns, as the README suggests for DATABASE_URL,
// which DATABASE_DIRECT_URL defaults to) still opens the connections of
// their own: migrations and the epoch's LISTEN. PostgreSQL refuses
// parameters it does not know, so they must not reach it.
func TestDirectConnectionsTakePoolParameters(t *testing.T) {
	dsn := pgtest.NewEmptyDatabase(t) + "&pool_max_conns=3&pool_min_conns=0"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := postgres.EnsureDatabase(ctx, dsn); err != nil {
		t.Fatalf("EnsureDatabase: %v", err)
	}
	if err := postgres.Migrate(ctx, dsn, postgres.MigrateUp, io.Discard); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	pool, err := postgres.NewPool(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if got := pool.Config().MaxConns; got != 3 {
		t.Fatalf("pool max conns = %d, want 3", got)
	}
	epoch := postgres.NewCacheEpoch(pool, dsn)
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	live := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- epoch.Watch(wctx, func(int64) {
			select {
			case live <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-live:
	case err := <-errc:
		t.Fatalf("Watch on a DSN with pool parameters: %v", err)
	case <-ctx.Done():
		t.Fatal("Watch never went live")
	}
}
