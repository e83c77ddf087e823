package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
)

const adminDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// freshDatabase creates a randomly named database and drops it after the
// test: notifications are per database, so other tests cannot wake ours.
func freshDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		t.Fatalf("these tests need PostgreSQL at 127.0.0.1:5432 (user postgres): %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "etalase_worker_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(context.Background())
	})
	return "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"
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

func TestRelayLoopWakesOnNotify(t *testing.T) {
	t.Parallel()
	dsn := freshDatabase(t)
	ctx := context.Background()
	d := &countingDrainer{}
	// The listener's DSN is usually the pool's, pool options and all.
	loop := NewRelayLoop(d, dsn+"&pool_max_conns=2", time.Hour, zap.NewNop())
	loop.Start()
	t.Cleanup(func() { _ = loop.Stop(context.Background()) })

	// The first drain happens once the listener is up.
	waitFor(t, "the catch-up drain after LISTEN", func() bool { return d.calls.Load() >= 1 })

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	notify := func() {
		if _, err := conn.Exec(ctx, "SELECT pg_notify('"+OutboxChannel+"', '')"); err != nil {
			t.Fatal(err)
		}
	}
	before := d.calls.Load()
	notify()
	waitFor(t, "a drain after NOTIFY", func() bool { return d.calls.Load() > before })

	// Kill the listening connection: the loop reconnects and listens again.
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	before = d.calls.Load()
	waitFor(t, "the catch-up drain after reconnecting", func() bool { return d.calls.Load() > before })
	before = d.calls.Load()
	notify()
	waitFor(t, "a drain after NOTIFY on the new connection", func() bool { return d.calls.Load() > before })
}

func TestRelayLoopPollsAndBacksOff(t *testing.T) {
	t.Parallel()
	d := &countingDrainer{}
	// No database answers here: only the poll drives the relay.
	loop := NewRelayLoop(d, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", 20*time.Millisecond, zap.NewNop())
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
