package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dsn, want string
	}{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/db1?sslmode=disable"},
		{"postgresql://u:p%40ss@h/other", "postgresql://u:p%40ss@h/db1"},
		{"postgres://h:5433", "postgres://h:5433/db1"},
		{"host=127.0.0.1 dbname=postgres", "host=127.0.0.1 dbname=postgres dbname=db1"},
	}
	for _, c := range cases {
		got, err := withDatabase(c.dsn, "db1")
		if err != nil || got != c.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", c.dsn, got, err, c.want)
			continue
		}
		cfg, err := pgx.ParseConfig(got)
		if err != nil || cfg.Database != "db1" {
			t.Errorf("withDatabase(%q) = %q names database %q (%v), want db1", c.dsn, got, cfg.Database, err)
		}
	}
}

// TestNewDatabase checks that a database is fresh, migrated, and gone once
// its test ends.
func TestNewDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var name string
	t.Run("use", func(t *testing.T) {
		dsn := NewDatabase(t)
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		var products int
		if err := conn.QueryRow(ctx, `SELECT current_database(), count(*) FROM products`).Scan(&name, &products); err != nil {
			t.Fatalf("query the migrated schema: %v", err)
		}
		if products != 0 {
			t.Errorf("a fresh database holds %d products", products)
		}
	})
	admin := connect(t, ServerURL())
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatalf("look up %s: %v", name, err)
	}
	if name == "" || exists {
		t.Errorf("database %q still exists after its test ended", name)
	}
}
