package contract

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

// RunOutboxWakeups runs the specification of domain.OutboxWakeups: newPair
// returns an empty store and the wake-ups of its outbox.
func RunOutboxWakeups(t *testing.T, newPair func(t *testing.T) (domain.Store, domain.OutboxWakeups)) {
	t.Helper()
	t.Run("wakes when live and after committed jobs", func(t *testing.T) {
		store, wakeups := newPair(t)
		w := watchWakeups(t, wakeups)
		w.waitFor(t, "the first wake-up, once the subscription is live", 1)

		ctx := context.Background()
		if err := store.InTx(ctx, func(tx domain.Store) error {
			return tx.Outbox().Add(ctx, job("in-tx"))
		}); err != nil {
			t.Fatal(err)
		}
		w.waitFor(t, "a wake-up after a committed transaction added a job", 2)

		if err := store.Outbox().Add(ctx, job("alone")); err != nil {
			t.Fatal(err)
		}
		w.waitFor(t, "a wake-up after a job added outside a transaction", 3)
	})
	t.Run("wakes after committed reports", func(t *testing.T) {
		store, wakeups := newPair(t)
		ctx := context.Background()
		cat, err := store.Categories().Create(ctx, domain.CategoryFields{Name: "books"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := store.Products().Create(ctx, fields(cat.ID, "atlas", 100, 1))
		if err != nil {
			t.Fatal(err)
		}
		w := watchWakeups(t, wakeups)
		w.waitFor(t, "the first wake-up, once the subscription is live", 1)
		if _, err := store.Reports().Create(ctx, p.ID, "tester", ""); err != nil {
			t.Fatal(err)
		}
		w.waitFor(t, "a wake-up after a report requested outside a transaction", 2)
		if err := store.InTx(ctx, func(tx domain.Store) error {
			_, err := tx.Reports().Create(ctx, p.ID, "tester", "")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		w.waitFor(t, "a wake-up after a transaction requested a report", 3)
		creator, ok := store.(domain.ProductReportCreator)
		if !ok {
			return
		}
		if _, _, err := creator.CreateProductWithReport(ctx, fields(cat.ID, "globe", 200, 1), "tester", ""); err != nil {
			t.Fatal(err)
		}
		w.waitFor(t, "a wake-up after a product was created with its report", 4)
	})
	t.Run("wakes every wakeWatcher", func(t *testing.T) {
		store, wakeups := newPair(t)
		a, b := watchWakeups(t, wakeups), watchWakeups(t, wakeups)
		a.waitFor(t, "wakeWatcher a live", 1)
		b.waitFor(t, "wakeWatcher b live", 1)
		if err := store.Outbox().Add(context.Background(), job("both")); err != nil {
			t.Fatal(err)
		}
		a.waitFor(t, "wakeWatcher a woken", 2)
		b.waitFor(t, "wakeWatcher b woken", 2)
	})
	t.Run("ends with its context", func(t *testing.T) {
		_, wakeups := newPair(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- wakeups.Watch(ctx, func() { cancel() }) }()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Watch returned nil after its context ended; want why it stopped")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Watch did not return after its context ended")
		}
	})
}

// wakeWatcher counts the wake-ups of one Watch running until the test ends.
type wakeWatcher struct{ n atomic.Int64 }

func watchWakeups(t *testing.T, w domain.OutboxWakeups) *wakeWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	wt := &wakeWatcher{}
	go func() {
		defer close(done)
		_ = w.Watch(ctx, func() { wt.n.Add(1) })
	}()
	t.Cleanup(func() { cancel(); <-done })
	return wt
}

// waitFor waits until at least n wake-ups arrived.
func (w *wakeWatcher) waitFor(t *testing.T, what string, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for w.n.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%d wake-ups, want %d)", what, w.n.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
