package memory

import (
	"context"
	"time"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

var (
	_ domain.Outbox           = outbox{}
	_ application.RelayLagger = outbox{}
)

// outbox is the Outbox of a Store.
type outbox struct{ s *Store }

func (o outbox) Add(ctx context.Context, job domain.Job) error {
	return o.s.do(ctx, func(st *state) error {
		st.lastOutbox++
		job.Payload = append([]byte(nil), job.Payload...)
		st.outbox = append(st.outbox, outboxRow{id: st.lastOutbox, job: job, createdAt: o.s.now()})
		return nil
	})
}

// Relay claims the oldest unsent, unclaimed rows, calls send for each
// without holding the store's lock (send may be slow, or use the store),
// then marks the accepted ones sent and releases the others.
func (o outbox) Relay(ctx context.Context, limit int, send func(context.Context, domain.Job) error) (int, error) {
	var claimed []outboxRow
	err := o.s.do(ctx, func(st *state) error {
		for i := range st.outbox {
			if len(claimed) >= limit {
				break
			}
			if row := &st.outbox[i]; !row.sent && !row.claimed {
				row.claimed = true
				claimed = append(claimed, *row)
			}
		}
		return nil
	})
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	// accepted maps every claimed row to whether send took it.
	accepted := make(map[int64]bool, len(claimed))
	sent := 0
	for _, row := range claimed {
		accepted[row.id] = false
		if ctx.Err() != nil {
			continue
		}
		job := row.job
		job.Payload = append([]byte(nil), job.Payload...)
		if send(ctx, job) == nil {
			accepted[row.id] = true
			sent++
		}
	}
	// Release the claims even when ctx has ended: they must not outlive Relay.
	err = o.s.do(context.WithoutCancel(ctx), func(st *state) error {
		for i := range st.outbox {
			row := &st.outbox[i]
			if ok, mine := accepted[row.id]; mine {
				row.claimed = false
				row.sent = ok
				if ok {
					row.sentAt = o.s.now()
				}
			}
		}
		return nil
	})
	return sent, err
}

// Backlog counts the unsent rows and reports when the oldest was added.
func (o outbox) Backlog(ctx context.Context) (int, time.Time, error) {
	var (
		count  int
		oldest time.Time
	)
	err := o.s.do(ctx, func(st *state) error {
		for _, row := range st.outbox {
			if row.sent {
				continue
			}
			if count == 0 || row.createdAt.Before(oldest) {
				oldest = row.createdAt
			}
			count++
		}
		return nil
	})
	return count, oldest, err
}

// RelayLag returns how long the slowest of the jobs sent since since
// waited in the outbox, and how many were sent.
func (o outbox) RelayLag(ctx context.Context, since time.Time) (time.Duration, int, error) {
	var (
		lag time.Duration
		n   int
	)
	err := o.s.do(ctx, func(st *state) error {
		for _, row := range st.outbox {
			if row.sent && row.sentAt.After(since) {
				n++
				lag = max(lag, row.sentAt.Sub(row.createdAt))
			}
		}
		return nil
	})
	return lag, n, err
}
