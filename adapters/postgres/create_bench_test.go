package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// BenchmarkCreateProduct measures the create use case on PostgreSQL alone:
// the transaction that inserts a product, its report and the report's
// outbox job, from concurrent callers.
func BenchmarkCreateProduct(b *testing.B) {
	ctx := context.Background()
	s := pgtest.NewStore(b)
	cat, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "bench"})
	if err != nil {
		b.Fatalf("create category: %v", err)
	}
	catalog := application.NewCatalog(s)
	var seq atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			_, err := catalog.CreateProduct(ctx, application.CreateProduct{RequestedBy: "bench",
				Fields: domain.ProductFields{Name: fmt.Sprintf("bench %d", n), Price: domain.Price(n % 10000), Stock: n % 50, CategoryID: cat.ID}})
			if err != nil {
				b.Errorf("CreateProduct: %v", err)
				return
			}
		}
	})
}
