package postgres_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// planNode is the part of EXPLAIN (FORMAT JSON) this test reads.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	Plans        []planNode `json:"Plans"`
}

// walk calls fn on n and every node below it.
func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
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
			var raw []byte
			if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&raw); err != nil {
				t.Fatalf("explain: %v", err)
			}
			var plans []struct {
				Plan planNode `json:"Plan"`
			}
			if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
				t.Fatalf("decode plan: %v", err)
			}
			var nodes []string
			usesIndex := false
			plans[0].Plan.walk(func(n planNode) {
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
