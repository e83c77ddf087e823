package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// txConn is a transaction on one pooled connection that spends no round
// trip of its own: BEGIN travels in one pipeline with the first statement,
// and statements whose only result is an error (an outbox insert, marking
// jobs sent) wait to travel with the next statement or with COMMIT. Every
// later statement is sent after them, so the transaction still reads its
// own writes; only the error of a waiting statement arrives late, with the
// statement or the commit that carries it.
type txConn struct {
	conn  *pgxpool.Conn
	tx    pgx.Tx // the transaction once BEGIN has run; it makes savepoints
	later []*pgx.QueuedQuery
	// lost is the error of a batch that carried waiting statements and
	// failed: they may not have run, so the transaction must not commit.
	lost error
	done bool
}

var _ querier = (*txConn)(nil)

// runTx runs fn in a transaction on a connection of pool, committing when fn
// returns nil and rolling back otherwise; a transaction that ran no
// statement costs no round trip at all.
func runTx(ctx context.Context, pool *pgxpool.Pool, fn func(t *txConn) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	t := &txConn{conn: conn}
	defer func() {
		if !t.done {
			t.rollback(ctx)
		}
		conn.Release()
	}()
	if err := fn(t); err != nil {
		return err
	}
	return t.commit(ctx)
}

// withTx runs fn in a transaction: a txConn on a pool, a savepoint inside a
// transaction.
func withTx(ctx context.Context, db querier, fn func(tx querier) error) error {
	if pool, ok := db.(*pgxpool.Pool); ok {
		return runTx(ctx, pool, func(tx *txConn) error { return fn(tx) })
	}
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return fn(tx) })
}

// deferExec queues a statement to be sent with the next one.
func (t *txConn) deferExec(sql string, args ...any) {
	t.later = append(t.later, &pgx.QueuedQuery{SQL: sql, Arguments: args})
}

// batch returns BEGIN, if it has not run yet, and the waiting statements,
// which it takes.
func (t *txConn) batch() *pgx.Batch {
	b := &pgx.Batch{}
	if t.tx == nil {
		b.BeginTx(pgx.TxOptions{})
	}
	b.QueuedQueries = append(b.QueuedQueries, t.later...)
	t.later = nil
	return b
}

// send sends b, reads the results of what batch put first and returns the
// results positioned at the statement the caller queued after them.
func (t *txConn) send(ctx context.Context, b *pgx.Batch) (*txResults, error) {
	ahead := len(b.QueuedQueries) - 1
	carried := ahead > 0 && (t.tx != nil || ahead > 1)
	r := &txResults{t: t, br: t.conn.SendBatch(ctx, b), carried: carried}
	if t.tx == nil {
		t.tx = r.br.Tx()
	}
	for i := 0; i < ahead; i++ {
		if _, err := r.br.Exec(); err != nil {
			return nil, r.close(err)
		}
	}
	return r, nil
}

// txResults are the results of one batch of a txConn.
type txResults struct {
	t       *txConn
	br      pgx.BatchResults
	carried bool // the batch carried waiting statements
}

// close closes the batch and returns err, else the batch's error. A batch
// that left the connection outside a transaction never ran its BEGIN: the
// next statement sends it again. A failed batch that carried waiting
// statements dooms the transaction.
func (r *txResults) close(err error) error {
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	if r.t.conn.Conn().PgConn().TxStatus() == 'I' {
		r.t.tx = nil
	}
	if err != nil && r.carried && r.t.lost == nil {
		r.t.lost = err
	}
	return err
}

// pending reports whether a statement must travel with what is sent next.
func (t *txConn) pending() bool { return t.tx == nil || len(t.later) > 0 }

// Exec runs sql in the transaction.
func (t *txConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if !t.pending() {
		return t.conn.Exec(ctx, sql, args...)
	}
	b := t.batch()
	b.Queue(sql, args...)
	br, err := t.send(ctx, b)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.br.Exec()
	return tag, br.close(err)
}

// Query runs sql in the transaction.
func (t *txConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if !t.pending() {
		return t.conn.Query(ctx, sql, args...)
	}
	b := t.batch()
	b.Queue(sql, args...)
	br, err := t.send(ctx, b)
	if err != nil {
		return nil, err
	}
	rows, err := br.br.Query()
	if err != nil {
		return nil, br.close(err)
	}
	return &batchRows{Rows: rows, r: br}, nil
}

// QueryRow runs sql in the transaction.
func (t *txConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if !t.pending() {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	b := t.batch()
	b.Queue(sql, args...)
	br, err := t.send(ctx, b)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.br.QueryRow(), r: br}
}

// Begin opens a savepoint, after sending what waits.
func (t *txConn) Begin(ctx context.Context) (pgx.Tx, error) {
	if t.pending() {
		br, err := t.send(ctx, t.batch())
		if err != nil {
			return nil, err
		}
		if err := br.close(nil); err != nil {
			return nil, err
		}
	}
	return t.tx.Begin(ctx)
}

// commit sends what waits and COMMIT in one pipeline. A transaction that
// failed earlier answers COMMIT with ROLLBACK: that is an error, as it is
// for pgx.Tx.
func (t *txConn) commit(ctx context.Context) error {
	if t.lost != nil {
		return t.lost
	}
	if t.tx == nil && len(t.later) == 0 {
		t.done = true
		return nil
	}
	b := t.batch()
	b.Queue("commit")
	br, err := t.send(ctx, b)
	if err != nil {
		return err
	}
	tag, err := br.br.Exec()
	if err := br.close(err); err != nil {
		return err
	}
	t.done = true
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// rollback ends a transaction that began on the server; a connection left
// inside one is closed by the pool on release rather than reused.
func (t *txConn) rollback(ctx context.Context) {
	t.done = true
	if t.tx == nil || t.conn.Conn().PgConn().TxStatus() == 'I' {
		return
	}
	_, _ = t.conn.Exec(context.WithoutCancel(ctx), "rollback")
}

// execLater runs a statement whose only result is an error: in a txConn it
// waits for the next statement or the commit, elsewhere it runs now.
func execLater(ctx context.Context, db querier, sql string, args ...any) error {
	if t, ok := db.(*txConn); ok {
		t.deferExec(sql, args...)
		return nil
	}
	_, err := db.Exec(ctx, sql, args...)
	return err
}

// batchRow is the row of a statement sent in a batch: scanning it also
// closes the batch, freeing the connection.
type batchRow struct {
	row pgx.Row
	r   *txResults
}

func (r batchRow) Scan(dest ...any) error {
	return r.r.close(r.row.Scan(dest...))
}

// batchRows are the rows of a statement sent in a batch: closing them also
// closes the batch.
type batchRows struct {
	pgx.Rows
	r   *txResults
	err error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if r.r != nil {
		r.err = r.r.close(r.Rows.Err())
		r.r = nil
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// errRow is a row whose statement could not be sent.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
