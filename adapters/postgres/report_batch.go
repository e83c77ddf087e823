package postgres

// Concurrent report jobs share their statement. A job's statement (Run or
// Finish) is one UPDATE and a commit, and with WORKER_CONCURRENCY jobs at
// once a worker sends that many of them, each paying a transaction, a
// snapshot, a commit record and a round trip for one row. The batcher keeps
// at most finishSlots statements of a process in flight: a job that finds a
// slot free runs at once, alone, with the same statement as before; jobs
// that arrive while every slot is busy wait for the next free one and then
// run together, up to finishBatchMax in one statement and one commit. An
// idle worker so adds no wait, and a busy one commits many jobs at a time.
//
// The batched statement does for each job what the single one does: it
// counts the attempt (Run), computes the summary and completes the report
// unless it is completed; a job whose product is missing, or whose report
// is completed or gone, changes nothing and gets the single statement's
// answer. It is one statement, so it commits all its jobs or none: when it
// fails (a total beyond a price's range, a deadlock with a duplicate
// delivery in another process, a lost connection), each of its jobs runs
// its own statement, and gets its own answer and error.

import (
	"context"
	"errors"
	"sync"
	"time"
)

const (
	// finishSlots bounds a process's finishing statements in flight. Two
	// keep PostgreSQL's two halves of a commit (the work and the flush)
	// overlapping; more would only split the batches smaller.
	finishSlots = 2
	// finishBatchMax bounds the jobs of one statement.
	finishBatchMax = 64
	// finishBatchTimeout bounds a shared statement, which no single job's
	// context may cancel for the others.
	finishBatchTimeout = 30 * time.Second
)

// errRunAlone tells a job whose shared statement failed to run its own.
var errRunAlone = errors.New("postgres: the shared statement failed; run alone")

// finishBatch is finishReport for many reports: $1 the reports, $2 their
// products, $3 whether each counts an attempt (Run) or not (Finish). It
// answers a row per report, in the order given, with finishReport's columns.
var finishBatch = `WITH j AS (
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::boolean[]) WITH ORDINALITY AS j(report_id, product_id, counts, n)),
		s AS (
			SELECT j.report_id, j.counts, x.* FROM j CROSS JOIN LATERAL (` + summaryOf("j.product_id") + `) x),
		u AS (
			UPDATE reports
			SET status = 'completed', error = NULL, finished_at = now(), updated_at = now(),
				attempts = reports.attempts + s.counts::int,
				started_at = CASE WHEN s.counts THEN now() ELSE reports.started_at END,
				result = ` + resultDocument + `
			FROM s
			WHERE reports.id = s.report_id AND reports.status <> 'completed'
			RETURNING reports.*)
		SELECT s.report_id IS NOT NULL, u.id, u.product_id, u.status, u.requested_by, u.request_id, u.attempts,
			u.error, u.created_at, u.started_at, u.finished_at, u.result
		FROM j LEFT JOIN s ON s.report_id = j.report_id LEFT JOIN u ON u.id = j.report_id
		ORDER BY j.n`

// finishBatcher shares finishing statements between concurrent jobs of one
// process. The zero value is not usable; build it with newFinishBatcher.
type finishBatcher struct {
	db querier // the pool: a batch is its own transaction

	mu      sync.Mutex
	running int                            // statements in flight
	waiting []*waitingFinish               // jobs for the next statement, in arrival order
	byID    map[int64]*waitingFinish       // the same, by report: a duplicate delivery shares the answer
	stats   struct{ statements, jobs int } // for the tests: how the jobs were grouped
}

// waitingFinish is a job waiting for its statement's answer.
type waitingFinish struct {
	call finishCall
	done chan struct{}
	out  finished
	err  error
}

func newFinishBatcher(db querier) *finishBatcher {
	return &finishBatcher{db: db, byID: make(map[int64]*waitingFinish)}
}

// do returns c's answer from a statement that began after do was called,
// c's alone or shared; errRunAlone when a shared one failed. It returns
// when ctx ends, but the statement goes on for the jobs that share it.
func (b *finishBatcher) do(ctx context.Context, c finishCall) (finished, error) {
	b.mu.Lock()
	w := b.byID[c.reportID]
	if w == nil {
		w = &waitingFinish{call: c, done: make(chan struct{})}
		b.waiting = append(b.waiting, w)
		b.byID[c.reportID] = w
	}
	if b.running < finishSlots {
		b.running++
		go b.drain()
	}
	b.mu.Unlock()
	select {
	case <-w.done:
		return w.out, w.err
	case <-ctx.Done():
		return finished{}, ctx.Err()
	}
}

// drain holds a slot: it runs the waiting jobs, a statement at a time,
// until none waits, and then frees the slot.
func (b *finishBatcher) drain() {
	for {
		b.mu.Lock()
		n := min(len(b.waiting), finishBatchMax)
		if n == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		batch := append([]*waitingFinish(nil), b.waiting[:n]...)
		b.waiting = append(b.waiting[:0], b.waiting[n:]...)
		for _, w := range batch {
			delete(b.byID, w.call.reportID)
		}
		b.stats.statements++
		b.stats.jobs += n
		b.mu.Unlock()
		b.run(batch)
	}
}

// run answers every job of batch, from one statement.
func (b *finishBatcher) run(batch []*waitingFinish) {
	ctx, cancel := context.WithTimeout(context.Background(), finishBatchTimeout)
	defer cancel()
	defer func() {
		for _, w := range batch {
			close(w.done)
		}
	}()
	if len(batch) == 1 {
		w := batch[0]
		w.out, w.err = finishAlone(ctx, b.db, w.call)
		return
	}
	reports, products, counts := make([]int64, len(batch)), make([]int64, len(batch)), make([]bool, len(batch))
	for i, w := range batch {
		reports[i], products[i], counts[i] = w.call.reportID, w.call.productID, w.call.counts
	}
	rows, err := b.db.Query(ctx, finishBatch, reports, products, counts)
	if err == nil {
		i := 0
		for rows.Next() && i < len(batch) {
			if err = rows.Scan(batch[i].out.dest()...); err != nil {
				break
			}
			i++
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err == nil && i != len(batch) {
			err = errors.New("postgres: the shared statement answered fewer rows than it had jobs")
		}
	}
	for _, w := range batch {
		if err != nil {
			w.out, w.err = finished{}, errRunAlone
		}
	}
}
