package postgres

// Concurrent report jobs share their finishing statement (batch.go): a
// job's statement (Run or Finish) is one UPDATE and a commit.
//
// The shared statement does for each job what the single one does: it
// counts the attempt (Run), computes the summary and completes the report
// unless it is completed; a job whose product is missing, or whose report
// is completed or gone, changes nothing and gets the single statement's
// answer. When it is refused (a total beyond a price's range, a deadlock
// with a duplicate delivery in another process), each of its jobs runs its
// own statement, and gets its own answer and error; a job delivered twice
// while waiting waits once. A job statement is idempotent, so the
// batcher's rule for other errors (they are every call's) costs at most a
// retry.

import (
	"context"
	"errors"
)

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

// newFinishBatcher shares the finishing statements of report jobs run on
// db, the pool.
func newFinishBatcher(db querier) *batcher[finishCall, finished] {
	b := newBatcher("postgres: finish report",
		func(ctx context.Context, c finishCall) (finished, error) { return finishAlone(ctx, db, c) },
		func(ctx context.Context, calls []finishCall) ([]finished, error) {
			return finishTogether(ctx, db, calls)
		})
	// A Run and a Finish of one report never wait together: a process runs
	// one or the other (REPORT_DELAY decides), so the report alone is the key.
	b.key = func(c finishCall) int64 { return c.reportID }
	return b
}

// finishTogether runs finishBatch for calls.
func finishTogether(ctx context.Context, db querier, calls []finishCall) ([]finished, error) {
	reports, products, counts := make([]int64, len(calls)), make([]int64, len(calls)), make([]bool, len(calls))
	for i, c := range calls {
		reports[i], products[i], counts[i] = c.reportID, c.productID, c.counts
	}
	const op = "postgres: finish reports"
	rows, err := db.Query(ctx, finishBatch, reports, products, counts)
	if err != nil {
		return nil, sharedError(op, err)
	}
	defer rows.Close()
	out := make([]finished, 0, len(calls))
	for rows.Next() {
		var f finished
		if err := rows.Scan(f.dest()...); err != nil {
			return nil, sharedError(op, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, sharedError(op, err)
	}
	if len(out) != len(calls) {
		return nil, errors.New("postgres: the shared statement answered another number of rows than it had calls")
	}
	return out, nil
}
