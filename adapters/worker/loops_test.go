package worker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
)

// fakeWakeups is a domain.OutboxWakeups driven by the test: each Watch is
// one subscription, which breaks when the test sends on breaks.
type fakeWakeups struct {
	wakes   chan struct{}
	breaks  chan struct{}
	watches atomic.Int64
}

func newFakeWakeups() *fakeWakeups {
	return &fakeWakeups{wakes: make(chan struct{}), breaks: make(chan struct{})}
}

func (f *fakeWakeups) Watch(ctx context.Context, wake func()) error {
	f.watches.Add(1)
	wake()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.breaks:
			return errors.New("subscription broke")
		case <-f.wakes:
			wake()
		}
	}
}

type countingDrainer struct {
	calls atomic.Int64
	fail  atomic.Bool
}

func (d *countingDrainer) Drain(context.Context) (int, error) {
	d.calls.Add(1)
	if d.fail.Load() {
		return 0, errors.New("queue down")
	}
	return 1, nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRelayLoopWakesOnWakeups(t *testing.T) {
	t.Parallel()
	d := &countingDrainer{}
	w := newFakeWakeups()
	loop := NewRelayLoop(d, w, time.Hour, zap.NewNop())
	loop.Start()
	t.Cleanup(func() { _ = loop.Stop(context.Background()) })

	// The first drain happens once the subscription is live.
	waitFor(t, "the catch-up drain after subscribing", func() bool { return d.calls.Load() >= 1 })
	before := d.calls.Load()
	w.wakes <- struct{}{}
	waitFor(t, "a drain after a wake-up", func() bool { return d.calls.Load() > before })

	// Break the subscription: the loop subscribes again and catches up.
	before = d.calls.Load()
	w.breaks <- struct{}{}
	waitFor(t, "a second subscription", func() bool { return w.watches.Load() == 2 })
	waitFor(t, "the catch-up drain after subscribing again", func() bool { return d.calls.Load() > before })
	before = d.calls.Load()
	w.wakes <- struct{}{}
	waitFor(t, "a drain after a wake-up on the new subscription", func() bool { return d.calls.Load() > before })
}

func TestRelayLoopPollsAndBacksOff(t *testing.T) {
	t.Parallel()
	d := &countingDrainer{}
	// No wake-ups: only the poll drives the relay.
	loop := NewRelayLoop(d, nil, 20*time.Millisecond, zap.NewNop())
	loop.Start()
	waitFor(t, "polled drains", func() bool { return d.calls.Load() >= 3 })
	d.fail.Store(true)
	time.Sleep(50 * time.Millisecond)
	n := d.calls.Load()
	time.Sleep(300 * time.Millisecond)
	if got := d.calls.Load() - n; got > 3 {
		t.Errorf("%d drains in 300 ms while failing; the loop should back off", got)
	}
	if err := loop.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type countingSweeper struct{ calls atomic.Int64 }

func (s *countingSweeper) Sweep(context.Context) (int, error) { s.calls.Add(1); return 0, nil }

func TestSweepLoop(t *testing.T) {
	t.Parallel()
	s := &countingSweeper{}
	loop := NewSweepLoop(s, 10*time.Millisecond, zap.NewNop())
	loop.Start()
	waitFor(t, "sweeps", func() bool { return s.calls.Load() >= 3 })
	if err := loop.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := s.calls.Load()
	time.Sleep(50 * time.Millisecond)
	if s.calls.Load() != n {
		t.Errorf("the sweeper ran after Stop")
	}
}
