package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// TestIdempotencyKeyHeldAcrossTransactions holds a key in one real
// transaction while another asks for it, then releases it by committing.
func TestIdempotencyKeyHeldAcrossTransactions(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	cat, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "tools"})
	if err != nil {
		t.Fatalf("create category: %v", err)
	}
	notBefore := time.Now().Add(-time.Hour)

	if _, _, err := s.Idempotency().Begin(ctx, "alice", "k1", notBefore); err == nil {
		t.Fatal("Begin outside a transaction succeeded")
	}

	held, release := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- s.InTx(ctx, func(tx domain.Store) error {
			if _, found, err := tx.Idempotency().Begin(ctx, "alice", "k1", notBefore); err != nil || found {
				return fmt.Errorf("first Begin: found %v, err %v", found, err)
			}
			p, err := tx.Products().Create(ctx, domain.ProductFields{Name: "hammer", Price: 999, CategoryID: cat.ID})
			if err != nil {
				return err
			}
			close(held)
			<-release
			return tx.Idempotency().Save(ctx, domain.IdempotencyRecord{Scope: "alice", Key: "k1",
				Fingerprint: "fp", Product: p, CreatedAt: time.Now()})
		})
	}()
	select {
	case <-held:
	case err := <-firstDone:
		t.Fatalf("first transaction ended early: %v", err)
	}

	attempts := []struct {
		scope, key string
		kind       domain.Kind
	}{
		{"alice", "k1", domain.KindConflict}, // held by the first transaction
		{"bob", "k1", domain.KindInternal},   // another client's key of the same name is free
		{"alice", "k2", domain.KindInternal}, // another key is free
	}
	for _, a := range attempts {
		err := s.InTx(ctx, func(tx domain.Store) error {
			_, _, err := tx.Idempotency().Begin(ctx, a.scope, a.key, notBefore)
			return err
		})
		if a.kind == domain.KindInternal && err != nil {
			t.Errorf("Begin %s/%s while alice/k1 is held: %v", a.scope, a.key, err)
		}
		if a.kind != domain.KindInternal && domain.KindOf(err) != a.kind {
			t.Errorf("Begin %s/%s while held: %v, want kind %v", a.scope, a.key, err, a.kind)
		}
	}

	close(release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	err = s.InTx(ctx, func(tx domain.Store) error {
		rec, found, err := tx.Idempotency().Begin(ctx, "alice", "k1", notBefore)
		if err != nil || !found {
			return fmt.Errorf("Begin after commit: found %v, err %v", found, err)
		}
		if rec.Fingerprint != "fp" || rec.Product.Name != "hammer" || rec.Product.CategoryName != "tools" {
			return fmt.Errorf("Begin after commit returned %+v", rec)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
