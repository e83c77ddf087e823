package postgres

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/domain"
)

// NotifyChannel is the channel an insert into the outbox notifies, so a
// relay that LISTENs on it wakes at once instead of at its next poll.
const NotifyChannel = "etalase_outbox"

// sentRetention is how long a sent job stays in the outbox, for operators
// tracing a job, before a relay prunes it.
const sentRetention = 24 * time.Hour

// pruneBatch bounds the sent rows one relay step deletes.
const pruneBatch = 1000

// pruneEvery spaces the prunes of one store's relays: a busy relay steps
// hundreds of times a second, and a prune per step would be a statement per
// step that almost never finds a row a day old.
const pruneEvery = time.Second

// Outbox keeps jobs in table outbox until a relay has handed them to the
// queue.
type Outbox struct {
	db     querier
	pruned *atomic.Int64 // when this store's relays last pruned, in Unix nanoseconds
}

var _ domain.Outbox = (*Outbox)(nil)

// outboxRow is a row of outbox.
type outboxRow struct {
	ID      int64
	JobID   string
	JobType string
	Queue   string
	Payload []byte
}

func (r outboxRow) toDomain() domain.Job {
	return domain.Job{ID: r.JobID, Type: r.JobType, Queue: r.Queue, Payload: r.Payload}
}

// Add writes job to the outbox, in the caller's transaction if there is one.
func (o *Outbox) Add(ctx context.Context, job domain.Job) error {
	const q = `INSERT INTO outbox (job_id, job_type, queue, payload) VALUES ($1, $2, $3, $4)`
	payload := job.Payload
	if payload == nil {
		payload = []byte{}
	}
	// In a transaction the insert travels with the next statement or COMMIT.
	if err := execLater(ctx, o.db, q, job.ID, job.Type, job.Queue, payload); err != nil {
		return mapError("postgres: add to outbox", err)
	}
	return nil
}

// Relay claims up to limit unsent jobs in one transaction, skipping rows
// another relay holds, calls send for each and marks sent those send
// accepted. Jobs send refused stay unsent for a later relay: that is not an
// error of Relay, whose caller sees send's errors itself. The error reports
// the database only. A step that finds the outbox drained also prunes jobs
// sent longer than sentRetention ago, at most once per pruneEvery, so the
// table does not grow forever.
func (o *Outbox) Relay(ctx context.Context, limit int, send func(context.Context, domain.Job) error) (int, error) {
	const (
		claim = `SELECT id, job_id, job_type, queue, payload FROM outbox
			WHERE sent_at IS NULL
			ORDER BY id
			LIMIT $1
			FOR UPDATE SKIP LOCKED`
		markSent = `UPDATE outbox SET sent_at = now() WHERE id = ANY($1)`
		prune    = `DELETE FROM outbox WHERE id IN (
				SELECT id FROM outbox
				WHERE sent_at < now() - $1::interval
				ORDER BY sent_at
				LIMIT $2
				FOR UPDATE SKIP LOCKED)`
	)
	if limit <= 0 {
		return 0, nil
	}
	var sent []int64
	err := withTx(ctx, o.db, func(tx querier) error {
		rows, err := tx.Query(ctx, claim, limit)
		if err != nil {
			return err
		}
		claimed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (outboxRow, error) {
			var r outboxRow
			err := row.Scan(&r.ID, &r.JobID, &r.JobType, &r.Queue, &r.Payload)
			return r, err
		})
		if err != nil {
			return err
		}
		for _, r := range claimed {
			if ctx.Err() != nil {
				break
			}
			if send(ctx, r.toDomain()) == nil {
				sent = append(sent, r.ID)
			}
		}
		// Both travel with the COMMIT.
		if len(sent) > 0 {
			if err := execLater(ctx, tx, markSent, sent); err != nil {
				return err
			}
		}
		if len(claimed) < limit && o.pruneDue() {
			if err := execLater(ctx, tx, prune, sentRetention, pruneBatch); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, mapError("postgres: relay outbox", err)
	}
	return len(sent), nil
}

// pruneDue reports whether this relay step should prune, claiming the
// prune for the next pruneEvery.
func (o *Outbox) pruneDue() bool {
	if o.pruned == nil {
		return true
	}
	now, last := time.Now().UnixNano(), o.pruned.Load()
	return now-last >= int64(pruneEvery) && o.pruned.CompareAndSwap(last, now)
}

// Backlog counts unsent jobs and returns when the oldest was written (the
// zero time when there is none).
func (o *Outbox) Backlog(ctx context.Context) (int, time.Time, error) {
	const q = `SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL`
	var (
		count  int64
		oldest *time.Time
	)
	if err := o.db.QueryRow(ctx, q).Scan(&count, &oldest); err != nil {
		return 0, time.Time{}, mapError("postgres: outbox backlog", err)
	}
	if oldest == nil {
		return int(count), time.Time{}, nil
	}
	return int(count), oldest.UTC(), nil
}
