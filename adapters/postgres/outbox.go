package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// NotifyChannel is the channel notified after a commit that queued a job
// (a report, an outbox row), so a relay that LISTENs on it wakes at once
// instead of at its next poll.
const NotifyChannel = "etalase_outbox"

// sentRetention is how long a sent job stays in the outbox, for operators
// tracing a job, before a relay prunes it.
const sentRetention = 24 * time.Hour

// pruneBatch bounds the sent rows one relay step deletes.
const pruneBatch = 500

// Outbox keeps jobs in table outbox until a relay has handed them to the
// queue.
type Outbox struct {
	db     querier
	queued func() // wakes the relays once the new job commits
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
	o.queued()
	return nil
}

// Relay claims up to limit unsent jobs in one transaction, skipping rows
// another relay holds, calls send for each and marks sent those send
// accepted. The jobs are those added with Add and those of reports not yet
// relayed (a report row is its own outbox row), oldest first within each;
// both claims go in one round trip, as do both marks. send is called from
// several goroutines at once, so the queue's round trips overlap rather
// than add up. Jobs send refused stay unsent for a later relay: that is not
// an error of Relay, whose caller sees send's errors itself. The error
// reports the database only. A step that finds the outbox drained also
// prunes jobs sent longer than sentRetention ago, so the table does not
// grow forever.
func (o *Outbox) Relay(ctx context.Context, limit int, send func(context.Context, domain.Job) error) (int, error) {
	const (
		claimReports = `SELECT id, product_id, requested_by, coalesce(request_id, '') FROM reports
			WHERE relayed_at IS NULL
			ORDER BY id
			LIMIT $1
			FOR UPDATE SKIP LOCKED`
		claimJobs = `SELECT id, job_id, job_type, queue, payload FROM outbox
			WHERE sent_at IS NULL
			ORDER BY id
			LIMIT $1
			FOR UPDATE SKIP LOCKED`
		markReports = `UPDATE reports SET relayed_at = now() WHERE id = ANY($1)`
		markJobs    = `UPDATE outbox SET sent_at = now() WHERE id = ANY($1)`
		prune       = `DELETE FROM outbox WHERE id IN (
				SELECT id FROM outbox
				WHERE sent_at < now() - $1::interval
				ORDER BY sent_at
				LIMIT $2
				FOR UPDATE SKIP LOCKED)`
	)
	if limit <= 0 {
		return 0, nil
	}
	sent := 0
	err := pgx.BeginFunc(ctx, o.db, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		var claimed []claimedJob
		batch.Queue(claimReports, limit).Query(func(rows pgx.Rows) error {
			var r domain.Report
			_, err := pgx.ForEachRow(rows, []any{&r.ID, &r.ProductID, &r.RequestedBy, &r.RequestID}, func() error {
				claimed = append(claimed, claimedJob{id: r.ID, report: true, job: application.ReportJob(r)})
				return nil
			})
			return err
		})
		batch.Queue(claimJobs, limit).Query(func(rows pgx.Rows) error {
			var row outboxRow
			_, err := pgx.ForEachRow(rows, []any{&row.ID, &row.JobID, &row.JobType, &row.Queue, &row.Payload}, func() error {
				job := row.toDomain()
				job.Payload = append([]byte(nil), row.Payload...)
				claimed = append(claimed, claimedJob{id: row.ID, job: job})
				return nil
			})
			return err
		})
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		sendAll(ctx, claimed, send)
		var reports, jobs []int64
		jobsClaimed := 0
		for _, c := range claimed {
			if !c.report {
				jobsClaimed++
			}
			switch {
			case !c.ok:
			case c.report:
				reports = append(reports, c.id)
			default:
				jobs = append(jobs, c.id)
			}
		}
		sent = len(reports) + len(jobs)
		batch = &pgx.Batch{}
		if len(reports) > 0 {
			batch.Queue(markReports, reports)
		}
		if len(jobs) > 0 {
			batch.Queue(markJobs, jobs)
		}
		if jobsClaimed < limit {
			batch.Queue(prune, sentRetention, pruneBatch)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return 0, mapError("postgres: relay outbox", err)
	}
	return sent, nil
}

// claimedJob is a job a relay step holds: an outbox row's, or a report's
// when report is set; ok says send accepted it.
type claimedJob struct {
	id     int64
	report bool
	job    domain.Job
	ok     bool
}

// relayParallelism bounds the sends of one relay step in flight at once.
const relayParallelism = 32

// sendAll offers every claimed job to send, several at once, and records
// which it accepted. A job is not offered once ctx has ended.
func sendAll(ctx context.Context, claimed []claimedJob, send func(context.Context, domain.Job) error) {
	if len(claimed) == 1 {
		claimed[0].ok = ctx.Err() == nil && send(ctx, claimed[0].job) == nil
		return
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, relayParallelism)
	for i := range claimed {
		if ctx.Err() != nil {
			break
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			claimed[i].ok = send(ctx, claimed[i].job) == nil
		})
	}
	wg.Wait()
}

// Backlog counts unsent jobs, reports' included, and returns when the
// oldest was written (the zero time when there is none).
func (o *Outbox) Backlog(ctx context.Context) (int, time.Time, error) {
	const q = `SELECT sum(n)::bigint, min(oldest) FROM (
			SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE sent_at IS NULL
			UNION ALL
			SELECT count(*), min(created_at) FROM reports WHERE relayed_at IS NULL) b`
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
// waited in the outbox, reports' own jobs included, and how many were sent.
func (o *Outbox) RelayLag(ctx context.Context, since time.Time) (time.Duration, int, error) {
	const q = `SELECT coalesce(extract(epoch FROM max(waited)), 0)::float8, count(*) FROM (
			SELECT sent_at - created_at AS waited FROM outbox WHERE sent_at > $1
			UNION ALL
			SELECT relayed_at - created_at FROM reports WHERE relayed_at > $1
		) AS sent`
	var (
		secs float64
		n    int64
	)
	if err := o.db.QueryRow(ctx, q, since).Scan(&secs, &n); err != nil {
		return 0, 0, mapError("postgres: outbox relay lag", err)
	}
	return time.Duration(secs * float64(time.Second)), int(n), nil
}
