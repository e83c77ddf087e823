package postgres

// Concurrent writes of one kind share their statement. On a busy process
// each creation and each report job is one short statement and a commit,
// and a commit costs PostgreSQL more than the rows it writes (a transaction,
// a snapshot, a commit record, a WAL flush) and a round trip: a process
// sending many at once pays that many times over. A batcher keeps at most
// batchSlots statements of its kind in flight: a call that finds a slot
// free runs at once with the statement it always had (alone, unless others
// arrived in the same instant); calls that arrive while every slot is busy
// wait for the next free one and then run together, up to batchMax in one
// statement and one commit. An idle process so adds no wait, and a busy one
// commits many writes at a time.
//
// A shared statement does for each call what the call's own would have,
// and answers each as its own would have. It commits all its calls or none:
// when PostgreSQL refuses it (one row breaks a constraint or holds a bad
// value, a deadlock, a serialization failure: an ERROR of the statement,
// see refused), each call then runs its own statement and gets its own
// answer and error. Any other error (a lost connection, a server shutting
// down, the timeout) may have come after the commit, so it is every call's
// answer, as it would be of a call alone, and nothing is written twice.
//
// A call whose context ends returns at once; if its statement has not
// started it never will. A shared statement runs on a context of its own
// (no caller may cancel it for the others), bounded by batchTimeout. The
// price of sharing: while both slots wait (on a row lock, say), every call
// of the kind in the process waits behind them, up to that bound.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// batchSlots bounds a batcher's statements in flight. Two keep
	// PostgreSQL's two halves of a commit (the work and the flush)
	// overlapping; more would only split the batches smaller.
	batchSlots = 2
	// batchMax bounds the calls of one statement.
	batchMax = 64
	// batchTimeout bounds a statement, which no single caller's context
	// may cancel for the others.
	batchTimeout = 30 * time.Second
)

// batcher shares statements of one kind between concurrent calls: In is a
// call's input, Out its answer. The zero value is not usable; build it with
// newBatcher.
type batcher[In, Out any] struct {
	// alone is a call's own statement; together is the shared one, which
	// answers one Out per In, in order.
	alone    func(ctx context.Context, in In) (Out, error)
	together func(ctx context.Context, ins []In) ([]Out, error)
	// key, when set, names a call's row: calls with the same key that wait
	// together share one answer (a job delivered twice).
	key func(In) int64
	// op names the write in the errors of calls whose context ended.
	op string

	mu      sync.Mutex
	running int                           // statements in flight
	waiting []*batchCall[In, Out]         // calls for the next statement, in arrival order
	byKey   map[int64]*batchCall[In, Out] // the same, by key
	stats   batchStats
}

// batchStats counts a batcher's statements and the calls they answered.
type batchStats struct{ statements, calls int }

// batchCall is a call waiting for its statement's answer.
type batchCall[In, Out any] struct {
	in    In
	ctx   context.Context // the caller's: a call whose context ended is not run
	done  chan struct{}
	out   Out
	err   error
	alone bool // no answer for the callers (refused, or its caller left): run alone
}

func newBatcher[In, Out any](op string, alone func(context.Context, In) (Out, error), together func(context.Context, []In) ([]Out, error)) *batcher[In, Out] {
	return &batcher[In, Out]{op: op, alone: alone, together: together, byKey: make(map[int64]*batchCall[In, Out])}
}

// do answers in from a statement that began after do was called, its own or
// a shared one. It returns when ctx ends, but the statement goes on for the
// calls that share it.
func (b *batcher[In, Out]) do(ctx context.Context, in In) (Out, error) {
	var zero Out
	if err := ctx.Err(); err != nil {
		return zero, mapError(b.op, err)
	}
	b.mu.Lock()
	var call *batchCall[In, Out]
	if b.key != nil {
		call = b.byKey[b.key(in)]
	}
	if call == nil {
		call = &batchCall[In, Out]{in: in, ctx: ctx, done: make(chan struct{})}
		b.waiting = append(b.waiting, call)
		if b.key != nil {
			b.byKey[b.key(in)] = call
		}
	}
	if b.running < batchSlots {
		b.running++
		go b.drain()
	}
	b.mu.Unlock()
	select {
	case <-call.done:
	case <-ctx.Done():
		return zero, mapError(b.op, ctx.Err())
	}
	if call.alone {
		return b.alone(ctx, in)
	}
	return call.out, call.err
}

// drain holds a slot: it runs the waiting calls, a statement at a time,
// until none waits, and then frees the slot.
func (b *batcher[In, Out]) drain() {
	for {
		b.mu.Lock()
		n := min(len(b.waiting), batchMax)
		if n == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		var calls []*batchCall[In, Out]
		for _, c := range b.waiting[:n] {
			if b.key != nil {
				delete(b.byKey, b.key(c.in))
			}
			if c.ctx.Err() != nil {
				// Its caller has left: it is not run. A caller that shared
				// it by key runs its own.
				c.alone = true
				close(c.done)
				continue
			}
			calls = append(calls, c)
		}
		rest := copy(b.waiting, b.waiting[n:])
		clear(b.waiting[rest:]) // no finished call stays reachable
		b.waiting = b.waiting[:rest]
		if len(calls) > 0 {
			b.stats.statements++
			b.stats.calls += len(calls)
		}
		b.mu.Unlock()
		if len(calls) > 0 {
			b.run(calls)
		}
	}
}

// run answers every call of calls from one statement: a lone call's runs on
// its caller's context, as it did before statements were shared.
func (b *batcher[In, Out]) run(calls []*batchCall[In, Out]) {
	defer func() {
		for _, c := range calls {
			close(c.done)
		}
	}()
	if len(calls) == 1 {
		c := calls[0]
		c.out, c.err = b.alone(c.ctx, c.in)
		// Cut short by its caller's leaving: a caller that shared it by key
		// runs its own.
		c.alone = c.err != nil && c.ctx.Err() != nil
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	ins := make([]In, len(calls))
	for i, c := range calls {
		ins[i] = c.in
	}
	outs, err := b.together(ctx, ins)
	if err == nil && len(outs) != len(calls) {
		err = fmt.Errorf("%s: the shared statement answered %d of %d calls", b.op, len(outs), len(calls))
	}
	for i, c := range calls {
		switch {
		case refused(err):
			c.alone = true
		case err != nil:
			c.err = err
		default:
			c.out = outs[i]
		}
	}
}

// refused reports whether err is PostgreSQL's refusal of the statement
// itself, after which nothing of it committed: an ERROR (not a FATAL, which
// ends the session and may follow the commit) of a class a row or a
// concurrent transaction causes. Errors of the connection, of a pooler or
// of a server shutting down are not, whatever their SQLSTATE.
func refused(err error) bool {
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	if err == nil || !errors.As(err, &pe) || errors.As(err, &ce) || pe.Severity != "ERROR" {
		return false
	}
	return strings.HasPrefix(pe.Code, "22") || // data exception: a value out of range
		strings.HasPrefix(pe.Code, "23") || // integrity: a taken SKU, a missing category
		pe.Code == "40001" || pe.Code == "40P01" // serialization failure, deadlock
}

// snapshot returns the batcher's counts and, now, the calls waiting and
// the slots held.
func (b *batcher[In, Out]) snapshot() (s batchStats, waiting, running int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats, len(b.waiting), b.running
}

// sharedError is the error a shared statement returns: a refusal as it is,
// for the batcher to run each call alone; any other mapped with op, as a
// call alone's would be.
func sharedError(op string, err error) error {
	if err == nil || refused(err) {
		return err
	}
	return mapError(op, err)
}
