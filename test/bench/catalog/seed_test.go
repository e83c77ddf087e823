package catalog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Size of the seeded catalog.
const (
	seedProducts   = 1_000_000
	seedCategories = 20
)

// seed fills a freshly migrated database with seedCategories categories and
// seedProducts products spread over them. The product indexes are dropped
// for the load and built again from their own definitions afterwards: one
// sort per index is far faster than a million index insertions.
func seed(tb testing.TB, dsn string) {
	tb.Helper()
	const (
		indexDefs = `SELECT indexname, indexdef FROM pg_indexes
			WHERE schemaname = current_schema() AND tablename = 'products'
			AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'products'::regclass)`
		insertCategories = `INSERT INTO categories (name)
			SELECT 'Category ' || lpad(g::text, 2, '0') FROM generate_series(1, $1::int) AS g`
		// Prices and names are spread so that no sort follows the id order;
		// created_at rises with the id, one second apart.
		insertProducts = `INSERT INTO products (sku, name, description, price_cents, stock, category_id, created_at, updated_at)
			SELECT 'SKU-' || g,
			       'Product ' || substr(md5(g::text), 1, 12),
			       CASE WHEN g % 3 = 0 THEN 'Seeded product number ' || g END,
			       (g::bigint * 7919) % 1000000,
			       g % 1000,
			       c.first + g % $2::int,
			       t.base + make_interval(secs => g),
			       t.base + make_interval(secs => g)
			FROM generate_series(1, $1::int) AS g,
			     (SELECT min(id) AS first FROM categories) AS c,
			     (SELECT now() - interval '30 days' AS base) AS t`
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("seed: connect: %v", err)
	}
	defer conn.Close(ctx)

	start := time.Now()
	rows, err := conn.Query(ctx, indexDefs)
	if err != nil {
		tb.Fatalf("seed: list indexes: %v", err)
	}
	type index struct{ name, def string }
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var i index
		err := r.Scan(&i.name, &i.def)
		return i, err
	})
	if err != nil {
		tb.Fatalf("seed: list indexes: %v", err)
	}
	for _, stmt := range []string{"SET maintenance_work_mem = '256MB'", "SET synchronous_commit = off"} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			tb.Fatalf("seed: %s: %v", stmt, err)
		}
	}
	for _, i := range indexes {
		if _, err := conn.Exec(ctx, "DROP INDEX "+pgx.Identifier{i.name}.Sanitize()); err != nil {
			tb.Fatalf("seed: drop index %s: %v", i.name, err)
		}
	}
	if _, err := conn.Exec(ctx, insertCategories, seedCategories); err != nil {
		tb.Fatalf("seed: categories: %v", err)
	}
	if _, err := conn.Exec(ctx, insertProducts, seedProducts, seedCategories); err != nil {
		tb.Fatalf("seed: products: %v", err)
	}
	for _, i := range indexes {
		if _, err := conn.Exec(ctx, i.def); err != nil {
			tb.Fatalf("seed: rebuild index %s: %v", i.name, err)
		}
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE products"); err != nil {
		tb.Fatalf("seed: vacuum analyze: %v", err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE categories"); err != nil {
		tb.Fatalf("seed: analyze: %v", err)
	}
	msg := fmt.Sprintf("seeded %d products in %d categories in %s (%d indexes rebuilt)",
		seedProducts, seedCategories, time.Since(start).Round(time.Millisecond), len(indexes))
	tb.Log(msg)
	fmt.Println("bench: " + msg)
}
