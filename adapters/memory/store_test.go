package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
)

func TestStoreContract(t *testing.T) {
	t.Parallel()
	contract.RunStore(t, func(*testing.T) domain.Store { return memory.New() })
}

// TestStoreConcurrentCreates hammers one store from many goroutines, inside
// and outside transactions; run with -race it also checks the locking.
func TestStoreConcurrentCreates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memory.New()
	c, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "books"})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				sku := fmt.Sprintf("W%d-%d", w, i)
				f := domain.ProductFields{SKU: &sku, Name: "book", Price: 100, CategoryID: c.ID}
				if i%2 == 0 {
					_, err := s.Products().Create(ctx, f)
					errs <- err
					continue
				}
				errs <- s.InTx(ctx, func(tx domain.Store) error {
					p, err := tx.Products().Create(ctx, f)
					if err != nil {
						return err
					}
					_, err = tx.Reports().Create(ctx, p.ID, "admin", "")
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent create: %v", err)
		}
	}
	seen := map[int64]bool{}
	q := domain.ProductQuery{Limit: domain.MaxPageSize, Sort: domain.Sort{Field: domain.SortByID}}
	for {
		page, err := s.Products().List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Items {
			if seen[p.ID] {
				t.Fatalf("product %d listed twice", p.ID)
			}
			seen[p.ID] = true
		}
		if page.Next == nil {
			break
		}
		q.After = page.Next
	}
	if len(seen) != workers*each {
		t.Fatalf("listed %d products, want %d", len(seen), workers*each)
	}
}

func TestStoreTransactionEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memory.New()
	var leaked domain.Store
	if err := s.InTx(ctx, func(tx domain.Store) error { leaked = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := leaked.Categories().Create(ctx, domain.CategoryFields{Name: "late"}); err == nil {
		t.Fatal("a transaction's store still writes after InTx returned")
	}
	page, err := s.Categories().List(ctx, domain.CategoryQuery{Limit: 10})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("categories after a late write: %v, err %v", page.Items, err)
	}
}

func TestStoreNestedTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memory.New()
	errInner := errors.New("inner fails")
	err := s.InTx(ctx, func(tx domain.Store) error {
		if _, err := tx.Categories().Create(ctx, domain.CategoryFields{Name: "outer"}); err != nil {
			return err
		}
		err := tx.InTx(ctx, func(inner domain.Store) error {
			if _, err := inner.Categories().Create(ctx, domain.CategoryFields{Name: "inner"}); err != nil {
				return err
			}
			return errInner
		})
		if !errors.Is(err, errInner) {
			return fmt.Errorf("inner InTx returned %v", err)
		}
		return tx.InTx(ctx, func(inner domain.Store) error {
			_, err := inner.Categories().Create(ctx, domain.CategoryFields{Name: "second inner"})
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.Categories().List(ctx, domain.CategoryQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range page.Items {
		names = append(names, c.Name)
	}
	if fmt.Sprint(names) != "[outer second inner]" {
		t.Fatalf("categories %v, want [outer second inner]: the failed inner transaction must leave nothing", names)
	}
}

func TestIdempotencyBeginNeedsTransaction(t *testing.T) {
	t.Parallel()
	_, _, err := memory.New().Idempotency().Begin(context.Background(), "alice", "key", time.Time{})
	if err == nil {
		t.Fatal("Begin outside InTx succeeded; it must run inside a transaction")
	}
}
