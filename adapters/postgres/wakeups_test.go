package postgres_test

import (
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
	"github.com/etalase/etalase/test/pgtest"
)

func TestOutboxWakeupsContract(t *testing.T) {
	t.Parallel()
	contract.RunOutboxWakeups(t, func(t *testing.T) (domain.Store, domain.OutboxWakeups) {
		s := pgtest.NewStore(t)
		return s, postgres.NewOutboxWakeups(s.Pool(), "")
	})
}

// TestOutboxWakeupsEndWithTheirConnection: a LISTEN connection that dies
// ends Watch with an error, so the relay knows to subscribe again.
func TestOutboxWakeupsEndWithTheirConnection(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	w := postgres.NewOutboxWakeups(s.Pool(), "")
	live := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- w.Watch(ctx, func() {
			select {
			case live <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-live:
	case <-ctx.Done():
		t.Fatal("no first wake-up")
	}
	if _, err := s.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Watch returned nil after its connection was killed")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Watch still running after its connection was killed")
	}
}
