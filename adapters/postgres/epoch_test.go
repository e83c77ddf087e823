package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
	"github.com/etalase/etalase/test/pgtest"
)

func newEpoch(t *testing.T) (*postgres.CacheEpoch, *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(testContext(t), pgtest.NewDatabase(t)+"&pool_max_conns=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return postgres.NewCacheEpoch(pool, ""), pool
}

// TestEpochNeverReturnsAfterRestore: a database restored from a backup holds
// an older epoch; its next bump must still pass every value the original
// ever had, or the entries stamped with those values would be served again.
func TestEpochNeverReturnsAfterRestore(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	epochs, pool := newEpoch(t)
	before, err := epochs.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var highest int64
	for range 3 {
		e, err := epochs.Bump(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e <= highest {
			t.Fatalf("bump went from %d to %d", highest, e)
		}
		highest = e
	}
	if _, err := pool.Exec(ctx, `UPDATE cache_epoch SET epoch = $1`, before); err != nil {
		t.Fatal(err)
	}
	if e, err := epochs.Bump(ctx); err != nil || e <= highest {
		t.Fatalf("after a restore to %d the bump gave %d (%v), want more than %d", before, e, err, highest)
	}
}

// TestIdentityNamesOneDatabase: the identity is stable for a database and
// differs between databases, even one copied from the other.
func TestIdentityNamesOneDatabase(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	a, pool := newEpoch(t)
	b, _ := newEpoch(t)
	idA, err := a.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := a.Identity(ctx); again != idA {
		t.Fatalf("identity changed from %s to %s", idA, again)
	}
	idB, err := b.Identity(ctx)
	if err != nil || idB == idA {
		t.Fatalf("two databases share the identity %s (%v)", idA, err)
	}
	// A copy keeps the token (as a restored dump does) but not the OID.
	var token string
	if err := pool.QueryRow(ctx, `SELECT token FROM cache_epoch`).Scan(&token); err != nil {
		t.Fatal(err)
	}
	_, poolB := newEpoch(t)
	if _, err := poolB.Exec(ctx, `UPDATE cache_epoch SET token = $1`, token); err != nil {
		t.Fatal(err)
	}
	c := postgres.NewCacheEpoch(poolB, "")
	if idC, _ := c.Identity(ctx); idC == idA {
		t.Fatalf("a database with the same token shares the identity %s", idA)
	}
}

// TestCacheEpochContract holds the epoch to the promises the memory twin
// keeps too.
func TestCacheEpochContract(t *testing.T) {
	t.Parallel()
	contract.RunCacheEpoch(t, func(t *testing.T) domain.CacheEpoch {
		e, _ := newEpoch(t)
		return e
	})
}
