package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// callerKey marks the contexts of the test's calls: a statement run with
// one is a call's own, after a refusal, not one of the batcher's slots.
type callerKey struct{}

// TestBatcherAnswersEveryCall runs many concurrent calls through a batcher
// whose statements are functions: every call gets its own answer, no
// statement exceeds batchMax calls, at most batchSlots run at once in the
// batcher's slots (a refused statement's calls then run on their own), calls that
// arrive while the slots are busy share statements, a refused shared
// statement sends its calls to run alone, and any other error is every
// call's.
func TestBatcherAnswersEveryCall(t *testing.T) {
	var inFlight, most atomic.Int32
	enter := func() func() {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // a round trip, so calls pile up behind the slots
		return func() { inFlight.Add(-1) }
	}
	var alone, together, largest atomic.Int32
	b := newBatcher(
		func(ctx context.Context, in int) (string, error) {
			if ctx.Value(callerKey{}) == nil {
				defer enter()()
			}
			alone.Add(1)
			if in%97 == 13 {
				return "", fmt.Errorf("call %d fails alone", in)
			}
			return fmt.Sprint("answer ", in), nil
		},
		func(_ context.Context, ins []int) ([]string, error) {
			defer enter()()
			together.Add(1)
			for {
				m := largest.Load()
				if int32(len(ins)) <= m || largest.CompareAndSwap(m, int32(len(ins))) {
					break
				}
			}
			out := make([]string, len(ins))
			for i, in := range ins {
				if in%97 == 13 {
					return nil, &pgconn.PgError{Code: "23514"} // refused: each runs alone
				}
				out[i] = fmt.Sprint("answer ", in)
			}
			return out, nil
		})

	const calls = 2000
	ctx := context.WithValue(context.Background(), callerKey{}, true)
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Go(func() {
			got, err := b.do(ctx, i)
			switch {
			case i%97 == 13 && err == nil:
				errs <- fmt.Errorf("call %d answered %q, want its own error", i, got)
			case i%97 != 13 && (err != nil || got != fmt.Sprint("answer ", i)):
				errs <- fmt.Errorf("call %d answered %q, %v", i, got, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, waiting, running := b.snapshot()
	if st.calls != calls || waiting != 0 || running != 0 {
		t.Errorf("stats %+v, %d waiting, %d running; want %d calls answered and nothing left", st, waiting, running, calls)
	}
	if most.Load() > batchSlots {
		t.Errorf("%d statements ran at once, want at most %d", most.Load(), batchSlots)
	}
	if together.Load() == 0 || largest.Load() < 2 || largest.Load() > batchMax {
		t.Errorf("%d shared statements, the largest of %d calls; want some, of at most %d", together.Load(), largest.Load(), batchMax)
	}

	// Any other error is every call's answer, and nobody runs alone.
	failing := newBatcher(
		func(context.Context, int) (string, error) { return "", errors.New("lost") },
		func(context.Context, []int) ([]string, error) { return nil, errors.New("lost") })
	for range 200 {
		wg.Go(func() {
			if _, err := failing.do(context.Background(), 1); err == nil || err.Error() != "lost" {
				t.Errorf("answered %v, want the statement's error", err)
			}
		})
	}
	wg.Wait()
}

// TestBatcherCallerMayLeave checks that a call whose context ends returns
// at once while its statement still runs for the others.
func TestBatcherCallerMayLeave(t *testing.T) {
	release := make(chan struct{})
	var ran atomic.Int32
	b := newBatcher(
		func(_ context.Context, in int) (int, error) {
			<-release
			ran.Add(1)
			return in, nil
		},
		func(_ context.Context, ins []int) ([]int, error) {
			ran.Add(int32(len(ins)))
			return ins, nil
		})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.do(ctx, 1)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a call whose context ended answered %v", err)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for ran.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if ran.Load() != 1 {
		t.Errorf("the statement of a call that left ran %d times, want once", ran.Load())
	}
}
