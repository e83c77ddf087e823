package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// NotifyChannel is the channel an insert into the outbox notifies, so a
// relay that LISTENs on it wakes at once instead of at its next poll.
const NotifyChannel = "etalase_outbox"

// sentRetention is how long a sent job stays in the outbox, for operators
// tracing a job, before a relay prunes it.
const sentRetention = 24 * time.Hour

// pruneBatch bounds the sent rows one relay step deletes.
const pruneBatch = 500

// Outbox keeps jobs in table outbox until a relay has handed them to the
// queue.
type Outbox struct {
	db querier
}

var (
	_ domain.Outbox           = (*Outbox)(nil)
	_ application.RelayLagger = (*Outbox)(nil)
)

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
	if _, err := o.db.Exec(ctx, q, job.ID, job.Type, job.Queue, payload); err != nil {
		return mapError("postgres: add to outbox", err)
	}
	return nil
}

// Relay claims up to limit unsent jobs in one transaction, skipping rows
// another relay holds, calls send for each and marks sent those send
// accepted. Jobs send refused stay unsent for a later relay: that is not an
// error of Relay, whose caller sees send's errors itself. The error reports
// the database only. A step that finds the outbox drained also prunes jobs
// sent longer than sentRetention ago, so the table does not grow forever.
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
	err := pgx.BeginFunc(ctx, o.db, func(tx pgx.Tx) error {
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
		if len(sent) > 0 {
			if _, err := tx.Exec(ctx, markSent, sent); err != nil {
				return err
			}
		}
		if len(claimed) < limit {
			if _, err := tx.Exec(ctx, prune, sentRetention, pruneBatch); err != nil {
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

// RelayLag returns how long the slowest of the jobs sent since since
// waited in the outbox, and how many were sent.
func (o *Outbox) RelayLag(ctx context.Context, since time.Time) (time.Duration, int, error) {
	const q = `SELECT coalesce(extract(epoch FROM max(sent_at - created_at)), 0)::float8, count(*)
		FROM outbox WHERE sent_at > $1`
	var (
		secs float64
		n    int64
	)
	if err := o.db.QueryRow(ctx, q, since).Scan(&secs, &n); err != nil {
		return 0, 0, mapError("postgres: outbox relay lag", err)
	}
	return time.Duration(secs * float64(time.Second)), int(n), nil
}
