package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// planNode is the part of EXPLAIN (FORMAT JSON) this test reads.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	HeapFetches  float64    `json:"Heap Fetches"` // EXPLAIN ANALYZE only
	ActualRows   float64    `json:"Actual Rows"`  // EXPLAIN ANALYZE only (fractional from PostgreSQL 18)
	Plans        []planNode `json:"Plans"`
}

// walk calls fn on n and every node below it.
func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// explain returns the plan of sql run with EXPLAIN (options), which must
// include FORMAT JSON.
func explain(ctx context.Context, t *testing.T, pool *pgxpool.Pool, options, sql string, args ...any) planNode {
	t.Helper()
	var raw []byte
	if err := pool.QueryRow(ctx, "EXPLAIN ("+options+") "+sql, args...).Scan(&raw); err != nil {
		t.Fatalf("explain: %v", err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("decode plan: %v", err)
	}
	return plans[0].Plan
}

// TestKeysetPlansUseIndexes fills 10k products and checks that a deep page
// of every sort, filtered by category or not, is read from an index in
// order: no Sort node and no sequential scan of products.
func TestKeysetPlansUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	pool := s.Pool()
	const fill = `
		INSERT INTO categories (name) SELECT 'category ' || g FROM generate_series(1, 20) g;
		INSERT INTO products (sku, name, price_cents, stock, category_id, created_at)
		SELECT 'SKU-' || g, 'product ' || md5(g::text), (g * 7919) % 100000, g % 50,
			(SELECT min(id) FROM categories) + g % 20,
			now() - make_interval(secs => g)
		FROM generate_series(1, 10000) g;
		ANALYZE categories;
		ANALYZE products;`
	if _, err := pool.Exec(ctx, fill); err != nil {
		t.Fatalf("fill: %v", err)
	}
	var categoryID int64
	if err := pool.QueryRow(ctx, `SELECT min(id) FROM categories`).Scan(&categoryID); err != nil {
		t.Fatalf("category: %v", err)
	}

	for _, sortText := range []string{"id", "-id", "name", "-name", "price", "-price", "createdAt", "-createdAt"} {
		for _, cat := range []int64{0, categoryID} {
			sort, err := domain.ParseSort(sortText)
			if err != nil {
				t.Fatal(err)
			}
			// Walk to a deep page through the repository, as a client would.
			q := domain.ProductQuery{Limit: 100, Sort: sort, CategoryID: cat}
			pages := 0
			for ; pages < 40; pages++ {
				page, err := s.Products().List(ctx, q)
				if err != nil {
					t.Fatalf("sort %s category %d page %d: %v", sortText, cat, pages, err)
				}
				if page.Next == nil {
					break
				}
				q.After = page.Next
			}
			if q.After == nil {
				t.Fatalf("sort %s category %d: no second page", sortText, cat)
			}
			q.Limit = domain.DefaultPageSize
			sql, args, err := postgres.ListProductsQuery(q, q.Limit+1)
			if err != nil {
				t.Fatal(err)
			}
			var nodes []string
			usesIndex := false
			explain(ctx, t, pool, "FORMAT JSON", sql, args...).walk(func(n planNode) {
				nodes = append(nodes, n.NodeType+" "+n.RelationName+" "+n.IndexName)
				if n.NodeType == "Sort" || n.NodeType == "Incremental Sort" ||
					(n.NodeType == "Seq Scan" && n.RelationName == "products") {
					t.Errorf("sort %s category %d after %d pages: plan has %s on %q", sortText, cat, pages, n.NodeType, n.RelationName)
				}
				if strings.Contains(n.NodeType, "Index") && n.RelationName == "products" {
					usesIndex = true
				}
			})
			if !usesIndex {
				t.Errorf("sort %s category %d: products are not read through an index: %v", sortText, cat, nodes)
			}
		}
	}
}

// TestReportSummaryReadsOnlyTheIndex checks that a report's category
// figures come from an index-only scan of the category, not from one heap
// page per product: the summary runs once per report, and the category's
// products are spread over the whole table.
func TestReportSummaryReadsOnlyTheIndex(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pool := pgtest.NewStore(t).Pool()
	const fill = `
		INSERT INTO categories (name) SELECT 'category ' || g FROM generate_series(1, 20) g;
		INSERT INTO products (sku, name, price_cents, stock, category_id)
		SELECT 'SKU-' || g, 'product ' || g, (g * 7919) % 100000, g % 50, (SELECT min(id) FROM categories) + g % 20
		FROM generate_series(1, 10000) g`
	if _, err := pool.Exec(ctx, fill); err != nil {
		t.Fatalf("fill: %v", err)
	}
	// As autovacuum leaves an insert-mostly table: its pages all-visible.
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE products`); err != nil {
		t.Fatalf("vacuum: %v", err)
	}
	var productID int64
	if err := pool.QueryRow(ctx, `SELECT id FROM products ORDER BY id OFFSET 5000 LIMIT 1`).Scan(&productID); err != nil {
		t.Fatalf("product: %v", err)
	}
	var nodes []string
	categoryScans := 0
	explain(ctx, t, pool, "ANALYZE, FORMAT JSON", postgres.ReportSummaryQuery, productID).walk(func(n planNode) {
		nodes = append(nodes, n.NodeType+" "+n.RelationName+" "+n.IndexName)
		if n.RelationName != "products" || n.IndexName == "products_pkey" {
			return
		}
		categoryScans++
		if n.NodeType != "Index Only Scan" || n.HeapFetches != 0 || n.ActualRows != 500 {
			t.Errorf("the category is read by %s on %q with %g heap fetches, %g rows; want an index-only scan of its 500 products without any",
				n.NodeType, n.IndexName, n.HeapFetches, n.ActualRows)
		}
	})
	if categoryScans != 1 {
		t.Errorf("want one scan of the category, plan: %v", nodes)
	}
}
