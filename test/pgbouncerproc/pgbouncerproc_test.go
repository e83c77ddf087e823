package pgbouncerproc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/test/pgbouncerproc"
	"github.com/etalase/etalase/test/pgtest"
)

// TestTransactionMode shows that the private PgBouncer pools by
// transaction: a session's named prepared statement is gone once its next
// statement lands on another server connection, which the test forces by
// holding the statement's server in another client's transaction.
func TestTransactionMode(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bouncer := pgbouncerproc.StartWith(t, pgbouncerproc.Options{PoolSize: 2})
	dsn := bouncer.URLFor(t, pgtest.NewDatabase(t))
	connect := func() *pgx.Conn {
		t.Helper()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect through pgbouncer: %v", err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	a, b, c := connect(), connect(), connect()
	if _, err := a.Prepare(ctx, "pid", `SELECT pg_backend_pid()`); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	var pid int
	if err := a.QueryRow(ctx, "pid").Scan(&pid); err != nil {
		t.Fatalf("the prepared statement on its own server connection: %v", err)
	}

	// b and c hold both server connections; the one that is not pid's is
	// given back.
	var txs []pgx.Tx
	holdsPid := false
	for _, conn := range []*pgx.Conn{b, c} {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var p int
		if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&p); err != nil {
			t.Fatal(err)
		}
		if p == pid {
			holdsPid = true
			defer tx.Rollback(context.Background())
			continue
		}
		txs = append(txs, tx)
	}
	if !holdsPid {
		t.Fatalf("neither of two transactions runs on server %d: the pool is larger than 2", pid)
	}
	for _, tx := range txs {
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}

	err := a.QueryRow(ctx, "pid").Scan(&pid)
	if err == nil || !strings.Contains(err.Error(), `prepared statement "pid" does not exist`) {
		t.Fatalf("a named statement on another server connection: err = %v, want it to be unknown", err)
	}

	pools := bouncer.Show(t, "POOLS")
	found := false
	for _, p := range pools {
		if p["pool_mode"] == "transaction" && strings.HasPrefix(p["database"], "etalase_test_") {
			found = true
		}
	}
	if !found {
		t.Fatalf("SHOW POOLS lists no transaction-mode pool of the test database: %v", pools)
	}
}
