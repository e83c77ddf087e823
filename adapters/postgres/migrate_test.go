package postgres_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/test/pgtest"
)

// TestMigrationsRoundTrip applies every migration, rolls all of them back,
// and applies them again: each Down undoes its Up completely.
func TestMigrationsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dsn := pgtest.NewEmptyDatabase(t)
	tables := []string{"categories", "products", "reports", "outbox", "idempotency_keys"}

	for round := 1; round <= 2; round++ {
		var out bytes.Buffer
		if err := postgres.Migrate(ctx, dsn, postgres.MigrateUp, &out); err != nil {
			t.Fatalf("round %d: up: %v", round, err)
		}
		if !strings.Contains(out.String(), "00001_catalog.sql") {
			t.Errorf("round %d: up output does not name 00001_catalog.sql:\n%s", round, out.String())
		}
		for _, table := range tables {
			if !tableExists(ctx, t, dsn, table) {
				t.Errorf("round %d: table %s missing after up", round, table)
			}
		}
		out.Reset()
		if err := postgres.Migrate(ctx, dsn, postgres.MigrateStatus, &out); err != nil {
			t.Fatalf("round %d: status: %v", round, err)
		}
		if strings.Contains(out.String(), "pending") || !strings.Contains(out.String(), "applied") {
			t.Errorf("round %d: status after up is not all applied:\n%s", round, out.String())
		}
		out.Reset()
		if err := postgres.Migrate(ctx, dsn, postgres.MigrateUp, &out); err != nil || !strings.Contains(out.String(), "no migrations to apply") {
			t.Errorf("round %d: second up: err %v, output %q", round, err, out.String())
		}

		for step := 0; ; step++ {
			if step > 100 {
				t.Fatalf("round %d: down never reached the first migration", round)
			}
			out.Reset()
			if err := postgres.Migrate(ctx, dsn, postgres.MigrateDown, &out); err != nil {
				t.Fatalf("round %d: down: %v", round, err)
			}
			if strings.Contains(out.String(), "no migrations to roll back") {
				break
			}
		}
		for _, table := range tables {
			if tableExists(ctx, t, dsn, table) {
				t.Errorf("round %d: table %s left after down", round, table)
			}
		}
	}
	if err := postgres.Migrate(ctx, dsn, "sideways", &bytes.Buffer{}); err == nil {
		t.Error("Migrate accepted an unknown command")
	}
}

// TestEnsureDatabase creates a missing database once and leaves an existing
// one alone.
func TestEnsureDatabase(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	scratch := pgtest.NewEmptyDatabase(t) // a name that exists, to derive one that does not
	dsn := strings.Replace(scratch, "etalase_test_", "etalase_ensure_", 1)
	if dsn == scratch {
		t.Fatalf("cannot derive a database name from the test DSN")
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), pgtest.ServerURL())
		if err != nil {
			t.Errorf("connect for cleanup: %v", err)
			return
		}
		defer conn.Close(context.Background())
		cfg, _ := pgx.ParseConfig(dsn)
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{cfg.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", cfg.Database, err)
		}
	})
	for i := 0; i < 2; i++ {
		if err := postgres.EnsureDatabase(ctx, dsn); err != nil {
			t.Fatalf("EnsureDatabase call %d: %v", i+1, err)
		}
	}
	pool, err := postgres.NewPool(ctx, dsn)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	defer pool.Close()
	if err := postgres.NewStore(pool).Ping(ctx); err != nil {
		t.Fatalf("Ping the ensured database: %v", err)
	}
}

// TestSecretsStayOut checks that no error quotes a password of the DSN.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	const secret = "s3cr3t-pw"
	bad := []string{
		"postgres://user:" + secret + "@127.0.0.1:notaport/db",
		"host=127.0.0.1 password=" + secret + " port=notaport",
	}
	for _, dsn := range bad {
		if _, err := postgres.NewPool(ctx, dsn); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("NewPool error %v: want an error without the password", err)
		}
		if err := postgres.Migrate(ctx, dsn, postgres.MigrateStatus, &bytes.Buffer{}); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Migrate error %v: want an error without the password", err)
		}
		if err := postgres.EnsureDatabase(ctx, dsn); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("EnsureDatabase error %v: want an error without the password", err)
		}
	}
}

// TestConcurrentMigrateUp starts several processes' worth of migrations at
// once, as api and worker processes starting together do: they take turns
// and all succeed.
func TestConcurrentMigrateUp(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dsn := pgtest.NewEmptyDatabase(t)
	const runs = 4
	errs := make(chan error, runs)
	for i := 0; i < runs; i++ {
		go func() { errs <- postgres.Migrate(ctx, dsn, postgres.MigrateUp, &bytes.Buffer{}) }()
	}
	for i := 0; i < runs; i++ {
		if err := <-errs; err != nil {
			t.Errorf("concurrent up: %v", err)
		}
	}
	if !tableExists(ctx, t, dsn, "products") {
		t.Error("products missing after concurrent ups")
	}
}
