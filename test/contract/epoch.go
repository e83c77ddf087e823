package contract

import (
	"context"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

// RunCacheEpoch runs the specification of domain.CacheEpoch. Every subtest
// calls newEpoch for an epoch of its own database (a fresh one each call:
// two calls are two databases).
//
// Decisions the port leaves open and this suite fixes:
//   - The epoch is positive; Bump returns a value larger than any before it
//     and at least the clock in microseconds when it was called, and
//     Current returns it afterwards.
//   - Watch calls fn first with the current epoch, then with every value a
//     Bump acknowledged afterwards (a watcher may see a value more than
//     once, never an older one after a newer); it returns once ctx ends.
func RunCacheEpoch(t *testing.T, newEpoch func(t *testing.T) domain.CacheEpoch) {
	t.Helper()
	specs := []struct {
		name string
		run  func(t *testing.T, e domain.CacheEpoch)
	}{
		{"identity is stable", testEpochIdentity},
		{"bump advances past the clock", testEpochBump},
		{"watch sees the current epoch and every bump", testEpochWatch},
		{"watch ends with its context", testEpochWatchEnds},
	}
	for _, spec := range specs {
		t.Run(spec.name, func(t *testing.T) {
			spec.run(t, newEpoch(t))
		})
	}
	t.Run("identities of two databases differ", func(t *testing.T) {
		a, err := newEpoch(t).Identity(cacheCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		b, err := newEpoch(t).Identity(cacheCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if a == b {
			t.Fatalf("two databases share the identity %q", a)
		}
	})
}

func testEpochIdentity(t *testing.T, e domain.CacheEpoch) {
	ctx := cacheCtx(t)
	a, err := e.Identity(ctx)
	if err != nil || a == "" {
		t.Fatalf("Identity = %q, %v; want a name", a, err)
	}
	if _, err := e.Bump(ctx); err != nil {
		t.Fatal(err)
	}
	if b, err := e.Identity(ctx); err != nil || b != a {
		t.Fatalf("Identity after a bump = %q, %v; want %q", b, err, a)
	}
}

func testEpochBump(t *testing.T, e domain.CacheEpoch) {
	ctx := cacheCtx(t)
	cur, err := e.Current(ctx)
	if err != nil || cur <= 0 {
		t.Fatalf("Current = %d, %v; want positive", cur, err)
	}
	prev := cur
	for range 3 {
		// The store's clock may be another machine's; a second of slack.
		clock := time.Now().Add(-time.Second).UnixMicro()
		n, err := e.Bump(ctx)
		if err != nil {
			t.Fatalf("Bump: %v", err)
		}
		if n <= prev || n < clock {
			t.Fatalf("Bump after %d returned %d (clock %d)", prev, n, clock)
		}
		if got, err := e.Current(ctx); err != nil || got != n {
			t.Fatalf("Current after Bump = %d, %v; want %d", got, err, n)
		}
		prev = n
	}
}

// watch is one running Watch.
type watch struct {
	seen     chan int64
	finished chan struct{} // closed when Watch has returned
	err      error         // what it returned, once finished is closed
	cancel   context.CancelFunc
}

// watcher runs Watch until the test ends, passing on what fn sees.
func watcher(t *testing.T, e domain.CacheEpoch) *watch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watch{seen: make(chan int64, 64), finished: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(w.finished)
		w.err = e.Watch(ctx, func(n int64) { w.seen <- n })
	}()
	t.Cleanup(func() {
		cancel()
		<-w.finished
	})
	return w
}

// next returns the next value the watcher saw, failing after 30 s.
func (w *watch) next(t *testing.T) int64 {
	t.Helper()
	select {
	case n := <-w.seen:
		return n
	case <-w.finished:
		t.Fatalf("Watch returned: %v", w.err)
	case <-time.After(30 * time.Second):
		t.Fatal("the watcher heard nothing for 30 s")
	}
	return 0
}

func testEpochWatch(t *testing.T, e domain.CacheEpoch) {
	ctx := cacheCtx(t)
	cur, err := e.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	watchers := []*watch{watcher(t, e), watcher(t, e)}
	for i, w := range watchers {
		if first := w.next(t); first != cur {
			t.Fatalf("watcher %d: first call of fn = %d, want the current epoch %d", i, first, cur)
		}
	}
	for range 2 {
		n, err := e.Bump(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range watchers {
			for {
				got := w.next(t)
				if got > n {
					t.Fatalf("watcher %d saw %d before the bump to %d", i, got, n)
				}
				if got == n {
					break
				}
			}
		}
	}
}

func testEpochWatchEnds(t *testing.T, e domain.CacheEpoch) {
	w := watcher(t, e)
	w.next(t)
	w.cancel()
	select {
	case <-w.finished:
	case <-time.After(30 * time.Second):
		t.Fatal("Watch did not return within 30 s of its context's end")
	}
}
