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
	b := newBatcher("test",
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
					return nil, &pgconn.PgError{Severity: "ERROR", Code: "23514"} // refused: each runs alone
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

	// Any other error is every call's answer, and nobody runs alone: not a
	// FATAL (it may follow the commit), nor an error of the connection.
	for _, other := range []error{errors.New("lost"), &pgconn.PgError{Severity: "FATAL", Code: "57P01"},
		&pgconn.PgError{Severity: "ERROR", Code: "08P01"}} {
		var ranAlone atomic.Int32
		failing := newBatcher("test",
			func(context.Context, int) (string, error) {
				ranAlone.Add(1)
				time.Sleep(time.Millisecond)
				return "", errors.New("alone")
			},
			func(context.Context, []int) ([]string, error) { return nil, other })
		for range 200 {
			wg.Go(func() {
				if _, err := failing.do(context.Background(), 1); err == nil {
					t.Errorf("answered no error, want one")
				}
			})
		}
		wg.Wait()
		st, _, _ := failing.snapshot()
		if alone := int(ranAlone.Load()); alone >= st.calls || st.statements == alone {
			t.Errorf("%v: %d calls in %d statements, %d alone: want shared statements and no call re-run alone", other, st.calls, st.statements, alone)
		}
	}
}

// TestBatcherCallerMayLeave checks that a call whose context ends returns
// at once and, when its statement had not started, is never run, while the
// others' statements run.
func TestBatcherCallerMayLeave(t *testing.T) {
	release := make(chan struct{})
	var ran atomic.Int32
	b := newBatcher("test",
		func(_ context.Context, in int) (int, error) {
			<-release
			ran.Add(1)
			return in, nil
		},
		func(_ context.Context, ins []int) ([]int, error) {
			ran.Add(int32(len(ins)))
			return ins, nil
		})
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.do(gone, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("a call whose context had ended answered %v", err)
	}

	// Two holders take both slots, one at a time (arriving together they
	// would share one); a third call waits, and leaves.
	var wg sync.WaitGroup
	holdSlots(t, b, &wg, 10)
	leaving, leave := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.do(leaving, 3)
		done <- err
	}()
	for _, waiting, _ := b.snapshot(); waiting != 1; _, waiting, _ = b.snapshot() {
		time.Sleep(time.Millisecond)
	}
	leave()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a call whose context ended while it waited answered %v", err)
	}
	close(release)
	wg.Wait()
	for _, waiting, running := b.snapshot(); waiting != 0 || running != 0; _, waiting, running = b.snapshot() {
		time.Sleep(time.Millisecond)
	}
	if ran.Load() != batchSlots {
		t.Errorf("%d calls ran, want the %d holders only", ran.Load(), batchSlots)
	}
}

// TestBatcherSharerOfALeavingCaller checks that a call sharing a waiting
// call by key still gets its answer when the caller it shares with leaves.
func TestBatcherSharerOfALeavingCaller(t *testing.T) {
	release := make(chan struct{})
	b := newBatcher("test",
		func(_ context.Context, in int) (int, error) {
			<-release
			if in != 7 {
				return in, nil // a holder's
			}
			return in * 10, nil
		},
		func(_ context.Context, ins []int) ([]int, error) {
			out := make([]int, len(ins))
			for i, in := range ins {
				out[i] = in * 10
			}
			return out, nil
		})
	b.key = func(in int) int64 { return int64(in) }
	var wg sync.WaitGroup
	holdSlots(t, b, &wg, 10)
	leaving, leave := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() {
		_, err := b.do(leaving, 7)
		left <- err
	}()
	for _, waiting, _ := b.snapshot(); waiting != 1; _, waiting, _ = b.snapshot() {
		time.Sleep(time.Millisecond)
	}
	answer := make(chan error, 1)
	go func() {
		got, err := b.do(context.Background(), 7) // shares the waiting call
		if err == nil && got != 70 {
			err = fmt.Errorf("answered %d, want 70", got)
		}
		answer <- err
	}()
	time.Sleep(10 * time.Millisecond) // let it join the waiting call
	leave()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("the leaving caller answered %v", err)
	}
	close(release)
	if err := <-answer; err != nil {
		t.Errorf("the call sharing with a caller that left: %v", err)
	}
	wg.Wait()
}

// holdSlots starts a call for each of b's slots, inputs from first on, one
// at a time (calls arriving together would share one), each answering its
// input once b's statements return, and waits until they hold the slots.
func holdSlots(t *testing.T, b *batcher[int, int], wg *sync.WaitGroup, first int) {
	t.Helper()
	for i := range batchSlots {
		wg.Go(func() {
			if got, err := b.do(context.Background(), first+i); err != nil || got != first+i {
				t.Errorf("a holder answered %d, %v", got, err)
			}
		})
		deadline := time.Now().Add(5 * time.Second)
		for _, waiting, running := b.snapshot(); running != i+1 || waiting != 0; _, waiting, running = b.snapshot() {
			if time.Now().After(deadline) {
				t.Fatal("the holders did not take the slots")
			}
			time.Sleep(time.Millisecond)
		}
	}
}
