package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/domain"
)

// defaultConnectTimeout bounds a connection attempt when the DSN sets none,
// so an unreachable server is a quick 503 rather than a hung request.
const defaultConnectTimeout = 5 * time.Second

// defaultMaxConns sizes the pool when the DSN has no pool_max_conns. pgx's
// own default (the number of CPUs, at least 4) starves a process that serves
// requests and runs WORKER_CONCURRENCY jobs at once; 16 still lets five
// processes share a server's default 100 connections (README: Running at
// scale).
const defaultMaxConns = 16

// NewPool parses dsn and returns a connection pool. Connections are opened
// lazily: an unreachable server is reported by the first query or by Ping,
// not here. Errors never quote the DSN, which may hold a password.
func NewPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	return newPool(ctx, dsn, false)
}

// NewPoolForPooler is NewPool for a dsn that reaches PostgreSQL through a
// transaction-mode pooler such as PgBouncer, which hands each transaction
// (each statement outside one) to any of its server connections. pgx's
// default mode prepares named statements on one server connection and
// runs them later on whichever it gets, so unless dsn sets
// default_query_exec_mode itself, statements run with pgx's description
// cache instead: every execution parses an unnamed statement in the same
// round trip. That costs the server a parse and plan per statement, which
// is why NewPool keeps the default.
func NewPoolForPooler(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	return newPool(ctx, dsn, true)
}

func newPool(ctx context.Context, dsn string, pooler bool) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: the database URL is not a valid connection string")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if pooler && !strings.Contains(dsn, "default_query_exec_mode") {
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	return pool, nil
}

// querier is what repositories run SQL on: the pool outside a transaction,
// the transaction inside one. Begin on a transaction opens a savepoint.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Store is the unit of work over a pool. The zero value is not usable;
// build it with NewStore.
type Store struct {
	pool *pgxpool.Pool
	db   querier
	inTx bool
	// relays wakes the relays after a commit that queued a job; inside a
	// transaction queued records that one did, for InTx to wake them once
	// the outermost transaction commits.
	relays *relayWaker
	queued *bool
	// creates and finishes share the statements of concurrent creations
	// and report jobs outside a transaction (batch.go).
	creates  *batcher[creation, created]
	finishes *batcher[finishCall, finished]
}

var (
	_ domain.Store                = (*Store)(nil)
	_ domain.ProductReportCreator = (*Store)(nil)
)

// NewStore returns a store whose calls each commit on their own.
func NewStore(pool *pgxpool.Pool) *Store {
	relays := &relayWaker{pool: pool}
	return &Store{pool: pool, db: pool, relays: relays,
		creates: newCreateBatcher(pool, relays.wake), finishes: newFinishBatcher(pool)}
}

// Pool returns the pool the store runs on, for callers that need a
// dedicated connection (LISTEN).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Products returns the product repository bound to this store's connection.
func (s *Store) Products() domain.ProductRepository { return &ProductRepo{db: s.db} }

// Categories returns the category repository bound to this store's connection.
func (s *Store) Categories() domain.CategoryRepository { return &CategoryRepo{db: s.db} }

// Reports returns the report repository bound to this store's connection.
func (s *Store) Reports() domain.ReportRepository {
	r := &ReportRepo{db: s.db, queued: s.jobQueued}
	if !s.inTx {
		r.batches = s.finishes
	}
	return r
}

// Outbox returns the outbox bound to this store's connection.
func (s *Store) Outbox() domain.Outbox { return &Outbox{db: s.db, queued: s.jobQueued} }

// jobQueued is called after a statement that queued a job (a report, an
// outbox row) succeeded: outside a transaction it has committed and the
// relays are woken now; inside one they are woken when it commits.
func (s *Store) jobQueued() {
	if s.queued != nil {
		*s.queued = true
		return
	}
	s.relays.wake()
}

// Idempotency returns the idempotency store bound to this store's connection.
func (s *Store) Idempotency() domain.IdempotencyStore {
	return &IdempotencyStore{db: s.db, inTx: s.inTx}
}

// InTx runs fn in a transaction that commits when fn returns nil and rolls
// back otherwise. Inside a transaction it nests with a savepoint.
func (s *Store) InTx(ctx context.Context, fn func(tx domain.Store) error) error {
	queued, outermost := s.queued, s.queued == nil
	if outermost {
		queued = new(bool)
	}
	var fnErr error
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		fnErr = fn(&Store{pool: s.pool, db: tx, inTx: true, relays: s.relays, queued: queued})
		return fnErr
	})
	if err == nil {
		if outermost && *queued {
			s.relays.wake()
		}
		return nil
	}
	if fnErr != nil {
		// fn's own error, already mapped by the repository that made it;
		// a rollback that failed after it (the connection gone) adds nothing.
		return fnErr
	}
	return mapError("postgres: transaction", err)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return mapError("postgres: ping", err)
	}
	return nil
}
