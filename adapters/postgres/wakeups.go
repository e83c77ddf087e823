package postgres

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/domain"
)

// OutboxWakeups is domain.OutboxWakeups on PostgreSQL's LISTEN/NOTIFY: a
// Store notifies NotifyChannel after a commit that queued a job (see
// relayWaker).
type OutboxWakeups struct {
	pool      *pgxpool.Pool
	listenDSN string
}

var _ domain.OutboxWakeups = (*OutboxWakeups)(nil)

// NewOutboxWakeups returns the wake-ups of the outbox behind pool. Watch
// listens on a connection of its own to listenDSN, or to the pool's server
// when listenDSN is "". listenDSN must reach PostgreSQL directly: a
// transaction-mode pooler would run the LISTEN on one of its server
// connections and deliver that connection's notifications to nobody.
func NewOutboxWakeups(pool *pgxpool.Pool, listenDSN string) *OutboxWakeups {
	return &OutboxWakeups{pool: pool, listenDSN: listenDSN}
}

// Watch holds one connection (never one of the pool's, which must not keep
// a LISTEN) until ctx ends or the connection fails.
func (w *OutboxWakeups) Watch(ctx context.Context, wake func()) error {
	cfg := w.pool.Config().ConnConfig.Copy()
	if w.listenDSN != "" {
		var err error
		if cfg, err = directConfig(w.listenDSN); err != nil {
			return err
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return mapError("listen for outbox jobs", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+NotifyChannel); err != nil {
		return mapError("listen for outbox jobs", err)
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return mapError("wait for outbox jobs", err)
		}
		wake()
	}
}

// notifyTimeout bounds one NOTIFY: a wake-up is a hint, and the relays poll.
const notifyTimeout = 5 * time.Second

// relayWaker notifies NotifyChannel after commits that queued a job, from
// a transaction of its own and at most one at a time per Store: commits
// while one is being sent fold into the next, so a burst of creations
// costs a few notifications rather than one each, and no creation waits
// for one.
//
// The notification used to come from an insert trigger, inside the
// creating transaction. PostgreSQL serializes the commits of transactions
// that NOTIFY (each holds a database-wide lock until its commit record is
// flushed), so every creation's commit queued behind the others':
// creations alone ran at 2,850/s with the trigger and 5,500 to 6,900/s
// without it (pgbench, 16 clients). A wake-up sent after the commit is as
// timely (a trigger's notification is delivered at commit too) and, like
// one, only a hint: a NOTIFY that fails leaves the jobs to the next poll.
type relayWaker struct {
	pool    *pgxpool.Pool
	pending atomic.Bool // a job was queued since the last NOTIFY began
	sending atomic.Bool // a goroutine is sending NOTIFYs
}

// wake asks for a NOTIFY after the current one, if any, and starts the
// sender when none runs.
func (w *relayWaker) wake() {
	w.pending.Store(true)
	if w.sending.CompareAndSwap(false, true) {
		go w.send()
	}
}

// send notifies while wake-ups are pending, then stops; a wake-up that came
// after its last check and found it still sending is taken up again here.
func (w *relayWaker) send() {
	for {
		for w.pending.Swap(false) {
			ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
			_, _ = w.pool.Exec(ctx, `SELECT pg_notify($1, '')`, NotifyChannel)
			cancel()
		}
		w.sending.Store(false)
		if !w.pending.Load() || !w.sending.CompareAndSwap(false, true) {
			return
		}
	}
}
