package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/domain"
)

// OutboxWakeups is domain.OutboxWakeups on PostgreSQL's LISTEN/NOTIFY: the
// outbox's insert trigger notifies NotifyChannel when the transaction that
// added a job commits.
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
