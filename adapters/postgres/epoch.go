package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/domain"
)

// epochChannel is the NOTIFY channel the cache_epoch trigger speaks on.
const epochChannel = "etalase_cache_epoch"

// CacheEpoch is domain.CacheEpoch on the cache_epoch table: bumps are
// durable and announced with NOTIFY by a trigger.
type CacheEpoch struct {
	pool *pgxpool.Pool
}

var _ domain.CacheEpoch = (*CacheEpoch)(nil)

// NewCacheEpoch returns the epoch kept in the database behind pool.
func NewCacheEpoch(pool *pgxpool.Pool) *CacheEpoch { return &CacheEpoch{pool: pool} }

// Identity is the token the identity migration made, joined with the
// database's OID: a dump restored elsewhere keeps the token, a copy made
// from a template keeps it too, but neither keeps the OID.
func (e *CacheEpoch) Identity(ctx context.Context) (string, error) {
	const q = `SELECT c.token || '-' || to_hex(d.oid::bigint)
		FROM cache_epoch c, pg_database d
		WHERE c.id = 1 AND d.datname = current_database()`
	var id string
	if err := e.pool.QueryRow(ctx, q).Scan(&id); err != nil {
		return "", mapError("read database identity", err)
	}
	return id, nil
}

// Current returns the epoch.
func (e *CacheEpoch) Current(ctx context.Context) (int64, error) {
	const q = `SELECT epoch FROM cache_epoch WHERE id = 1`
	var n int64
	if err := e.pool.QueryRow(ctx, q).Scan(&n); err != nil {
		return 0, mapError("read cache epoch", err)
	}
	return n, nil
}

// Bump advances the epoch to at least PostgreSQL's clock in microseconds;
// the trigger notifies every listener when the update commits.
func (e *CacheEpoch) Bump(ctx context.Context) (int64, error) {
	const q = `UPDATE cache_epoch
		SET epoch = greatest(epoch + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
		WHERE id = 1 RETURNING epoch`
	var n int64
	if err := e.pool.QueryRow(ctx, q).Scan(&n); err != nil {
		return 0, mapError("bump cache epoch", err)
	}
	return n, nil
}

// Watch listens on its own connection (not one of the pool's, which must
// not keep a LISTEN), reads the epoch once the subscription is live, and
// then reports every notified value until ctx ends or the connection fails.
func (e *CacheEpoch) Watch(ctx context.Context, fn func(int64)) error {
	conn, err := pgx.ConnectConfig(ctx, e.pool.Config().ConnConfig.Copy())
	if err != nil {
		return mapError("listen for cache epoch", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+epochChannel); err != nil {
		return mapError("listen for cache epoch", err)
	}
	const q = `SELECT epoch FROM cache_epoch WHERE id = 1`
	var cur int64
	if err := conn.QueryRow(ctx, q).Scan(&cur); err != nil {
		return mapError("read cache epoch", err)
	}
	fn(cur)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return mapError("wait for cache epoch", err)
		}
		v, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			return fmt.Errorf("cache epoch notification %q: %w", n.Payload, err)
		}
		fn(v)
	}
}
