package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// BenchmarkQueryExecMode compares, on a direct connection, pgx's default
// mode (named prepared statements, which a transaction-mode PgBouncer
// before 1.21 cannot carry) with the description cache NewPoolForPooler
// uses (an unnamed statement parsed and planned at every execution): a
// product by id, a page of twenty products, and the create transaction.
// ns/op is the time of both; describe/statement is the ratio.
func BenchmarkQueryExecMode(b *testing.B) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(b)
	seed := storeWithMode(b, dsn, pgx.QueryExecModeCacheStatement)
	cat, err := seed.Categories().Create(ctx, domain.CategoryFields{Name: "bench"})
	if err != nil {
		b.Fatalf("create category: %v", err)
	}
	const products = 2000
	err = seed.InTx(ctx, func(tx domain.Store) error {
		for i := 0; i < products; i++ {
			f := domain.ProductFields{Name: fmt.Sprintf("bench %04d", i), Price: domain.Price(i), Stock: 1, CategoryID: cat.ID}
			if _, err := tx.Products().Create(ctx, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("seed products: %v", err)
	}
	// Statistics as a running service has them: a custom plan (each
	// execution of an unnamed statement) depends on them, a generic one less.
	if _, err := seed.Pool().Exec(ctx, `ANALYZE`); err != nil {
		b.Fatalf("analyze: %v", err)
	}

	ops := []struct {
		name string
		run  func(s *postgres.Store, i int) error
	}{
		{"get", func(s *postgres.Store, i int) error {
			_, err := s.Products().Get(ctx, int64(1+i%products))
			return err
		}},
		{"list", func(s *postgres.Store, i int) error {
			_, err := s.Products().List(ctx, domain.ProductQuery{Limit: 20, CategoryID: cat.ID,
				Sort: domain.Sort{Field: domain.SortByName}})
			return err
		}},
		{"create", func(s *postgres.Store, i int) error {
			_, err := application.NewCatalog(s).CreateProduct(ctx, application.CreateProduct{RequestedBy: "bench",
				Fields: domain.ProductFields{Name: fmt.Sprintf("new %d", i), Price: 100, CategoryID: cat.ID}})
			return err
		}},
	}
	// The modes alternate op by op, so that both see the same load on a
	// shared machine; the ratio is the figure to read.
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			prepared := storeWithMode(b, dsn, pgx.QueryExecModeCacheStatement)
			described := storeWithMode(b, dsn, pgx.QueryExecModeCacheDescribe)
			for i := 0; i < 20; i++ { // fill the caches before timing
				if err := op.run(prepared, i); err != nil {
					b.Fatal(err)
				}
				if err := op.run(described, i); err != nil {
					b.Fatal(err)
				}
			}
			var inPrepared, inDescribed time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if err := op.run(prepared, i); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if err := op.run(described, i); err != nil {
					b.Fatal(err)
				}
				inPrepared += mid.Sub(start)
				inDescribed += time.Since(mid)
			}
			b.ReportMetric(float64(inPrepared.Nanoseconds())/float64(b.N), "ns/cache_statement")
			b.ReportMetric(float64(inDescribed.Nanoseconds())/float64(b.N), "ns/cache_describe")
			b.ReportMetric(float64(inDescribed)/float64(inPrepared), "describe/statement")
		})
	}
}

func storeWithMode(b *testing.B, dsn string, mode pgx.QueryExecMode) *postgres.Store {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 2
	cfg.ConnConfig.DefaultQueryExecMode = mode
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return postgres.NewStore(pool)
}
