package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// TestRelaySkipLocked runs relays concurrently over one outbox: every job is
// sent exactly once.
func TestRelaySkipLocked(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	const jobs, relays, batch = 300, 6, 7
	err := s.InTx(ctx, func(tx domain.Store) error {
		for i := 0; i < jobs; i++ {
			job := domain.Job{ID: fmt.Sprintf("job-%d", i), Type: domain.JobGenerateReport,
				Queue: domain.QueueReport, Payload: []byte(`{"n":` + fmt.Sprint(i) + `}`)}
			if err := tx.Outbox().Add(ctx, job); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fill outbox: %v", err)
	}

	var (
		mu     sync.Mutex
		sent   = map[string]int{}
		counts = make([]int, relays)
		wg     sync.WaitGroup
	)
	send := func(_ context.Context, j domain.Job) error {
		mu.Lock()
		sent[j.ID]++
		mu.Unlock()
		time.Sleep(time.Millisecond) // hold the claimed rows while the other relays run
		return nil
	}
	errs := make(chan error, relays)
	for r := 0; r < relays; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			for {
				n, err := s.Outbox().Relay(ctx, batch, send)
				if err != nil {
					errs <- err
					return
				}
				counts[r] += n
				backlog, _, err := s.Outbox().Backlog(ctx)
				if err != nil {
					errs <- err
					return
				}
				if n == 0 && backlog == 0 {
					return
				}
			}
		}(r)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("relay: %v", err)
	}
	total, busy := 0, 0
	for _, c := range counts {
		total += c
		if c > 0 {
			busy++
		}
	}
	if total != jobs || len(sent) != jobs {
		t.Errorf("relays sent %d jobs, %d distinct; want %d", total, len(sent), jobs)
	}
	for id, n := range sent {
		if n != 1 {
			t.Errorf("job %s sent %d times", id, n)
		}
	}
	if busy < 2 {
		t.Errorf("only %d relay(s) sent anything: the relays did not run concurrently", busy)
	}
	count, oldest, err := s.Outbox().Backlog(ctx)
	if err != nil || count != 0 || !oldest.IsZero() {
		t.Errorf("Backlog after relaying = %d, %v, %v; want 0, zero time, nil", count, oldest, err)
	}
}

// TestRelayPrunesOldSentJobs checks that a drained relay deletes jobs sent
// more than a day ago and keeps recent and unsent ones.
func TestRelayPrunesOldSentJobs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	for i := 0; i < 4; i++ {
		job := domain.Job{ID: fmt.Sprintf("job-%d", i), Type: domain.JobGenerateReport, Queue: domain.QueueReport, Payload: []byte(`{}`)}
		if err := s.Outbox().Add(ctx, job); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	const age = `UPDATE outbox SET sent_at = now() - $2::interval WHERE job_id = $1`
	for job, ago := range map[string]time.Duration{"job-0": 48 * time.Hour, "job-1": 25 * time.Hour, "job-2": time.Hour} {
		if _, err := s.Pool().Exec(ctx, age, job, ago); err != nil {
			t.Fatalf("age %s: %v", job, err)
		}
	}
	var offered []string
	n, err := s.Outbox().Relay(ctx, 10, func(_ context.Context, j domain.Job) error {
		offered = append(offered, j.ID)
		return errors.New("queue is down")
	})
	if err != nil || n != 0 || len(offered) != 1 || offered[0] != "job-3" {
		t.Fatalf("Relay = %d, %v, offered %v; want 0, nil, [job-3]", n, err, offered)
	}
	rows, err := s.Pool().Query(ctx, `SELECT job_id FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(left, ",") != "job-2,job-3" {
		t.Errorf("outbox holds %v after pruning, want [job-2 job-3]", left)
	}
}
