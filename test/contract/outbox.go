package contract

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

func job(id string) domain.Job {
	return domain.Job{ID: id, Type: domain.JobGenerateReport, Queue: domain.QueueReport,
		Payload: []byte(`{"productId":1,"reportId":1,"requestedBy":"` + id + `"}`)}
}

func (f *fixture) add(jobs ...domain.Job) {
	f.t.Helper()
	for _, j := range jobs {
		if err := f.s.Outbox().Add(f.ctx, j); err != nil {
			f.t.Fatalf("Add(%s): %v", j.ID, err)
		}
	}
}

// relay runs one Relay whose send accepts every job but those named in
// refuse, and returns what was offered to send, by job id: send may be
// called from several goroutines at once, in any order.
func (f *fixture) relay(limit int, wantSent int, refuse ...string) []domain.Job {
	f.t.Helper()
	var (
		mu      sync.Mutex
		offered []domain.Job
	)
	n, err := f.s.Outbox().Relay(f.ctx, limit, func(_ context.Context, j domain.Job) error {
		mu.Lock()
		offered = append(offered, j)
		mu.Unlock()
		for _, r := range refuse {
			if j.ID == r {
				return errors.New("queue refused the job")
			}
		}
		return nil
	})
	if len(refuse) == 0 && err != nil {
		f.t.Fatalf("Relay: %v", err)
	}
	if n != wantSent {
		f.t.Fatalf("Relay sent %d jobs, want %d", n, wantSent)
	}
	slices.SortFunc(offered, func(a, b domain.Job) int { return strings.Compare(a.ID, b.ID) })
	return offered
}

func (f *fixture) backlog(want int) time.Time {
	f.t.Helper()
	n, oldest, err := f.s.Outbox().Backlog(f.ctx)
	if err != nil {
		f.t.Fatalf("Backlog: %v", err)
	}
	if n != want {
		f.t.Fatalf("Backlog counts %d jobs, want %d", n, want)
	}
	return oldest
}

func checkJobs(t *testing.T, what string, got, want []domain.Job) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d jobs %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Type != w.Type || g.Queue != w.Queue || !bytes.Equal(g.Payload, w.Payload) {
			t.Fatalf("%s: job %d is %+v, want %+v", what, i, g, w)
		}
	}
}

func testOutboxRelay(f *fixture) {
	t := f.t
	f.backlog(0)
	j1, j2, j3 := job("job-1"), job("job-2"), job("job-3")
	start := time.Now()
	f.add(j1, j2, j3)
	end := time.Now()
	between(t, "oldest unsent job", f.backlog(3), start, end)

	checkJobs(t, "first relay, limit 2", f.relay(2, 2), []domain.Job{j1, j2})
	f.backlog(1)
	checkJobs(t, "second relay", f.relay(10, 1), []domain.Job{j3})
	f.backlog(0)
	checkJobs(t, "relay of an empty outbox", f.relay(10, 0), nil)
}

func testOutboxSendError(f *fixture) {
	t := f.t
	j1, j2, j3 := job("job-1"), job("job-2"), job("job-3")
	f.add(j1, j2, j3)
	checkJobs(t, "relay refusing job-2", f.relay(10, 2, "job-2"), []domain.Job{j1, j2, j3})
	f.backlog(1)
	checkJobs(t, "relay after a refusal", f.relay(10, 1), []domain.Job{j2})
	f.backlog(0)
}

func testOutboxInTx(f *fixture) {
	t := f.t
	j1, j2 := job("job-1"), job("job-2")
	if err := f.s.InTx(f.ctx, func(tx domain.Store) error { return tx.Outbox().Add(f.ctx, j1) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
	errRollback := errors.New("roll back")
	err := f.s.InTx(f.ctx, func(tx domain.Store) error {
		if err := tx.Outbox().Add(f.ctx, j2); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	f.backlog(1)
	checkJobs(t, "relay after a rolled-back Add", f.relay(10, 1), []domain.Job{j1})
}

func testTxCommit(f *fixture) {
	t := f.t
	var (
		cat domain.Category
		p   domain.Product
		r   domain.Report
	)
	err := f.s.InTx(f.ctx, func(tx domain.Store) error {
		var err error
		if cat, err = tx.Categories().Create(f.ctx, domain.CategoryFields{Name: "books"}); err != nil {
			return err
		}
		if p, err = tx.Products().Create(f.ctx, fields(cat.ID, "atlas", 100, 1)); err != nil {
			return err
		}
		// The transaction sees its own writes.
		seen, err := tx.Products().Get(f.ctx, p.ID)
		if err != nil {
			return err
		}
		if seen.CategoryName != "books" {
			t.Errorf("inside the transaction the product's category is %q", seen.CategoryName)
		}
		if r, err = tx.Reports().Create(f.ctx, p.ID, "admin", ""); err != nil {
			return err
		}
		return tx.Outbox().Add(f.ctx, job("job-1"))
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	got, err := f.s.Products().Get(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("Get of a committed product: %v", err)
	}
	checkProduct(t, "committed product", got, p)
	if _, err := f.s.Categories().Get(f.ctx, cat.ID); err != nil {
		t.Fatalf("Get of a committed category: %v", err)
	}
	if _, err := f.s.Reports().Get(f.ctx, r.ID); err != nil {
		t.Fatalf("Get of a committed report: %v", err)
	}
	// job-1 and the report's own job.
	f.backlog(2)
	offered := f.relay(10, 2)
	if len(offered) != 2 || offered[0].ID != "job-1" || offered[1].ID != "report-"+strconv.FormatInt(r.ID, 10) {
		t.Fatalf("the relay offered %+v, want job-1 and the report's job", offered)
	}
}

func testTxRollback(f *fixture) {
	t := f.t
	kept := f.category("kept")
	var (
		cat domain.Category
		p   domain.Product
		r   domain.Report
	)
	errRollback := errors.New("roll back")
	err := f.s.InTx(f.ctx, func(tx domain.Store) error {
		var err error
		if cat, err = tx.Categories().Create(f.ctx, domain.CategoryFields{Name: "books"}); err != nil {
			return err
		}
		if p, err = tx.Products().Create(f.ctx, fields(cat.ID, "atlas", 100, 1)); err != nil {
			return err
		}
		if r, err = tx.Reports().Create(f.ctx, p.ID, "admin", ""); err != nil {
			return err
		}
		if _, err = tx.Categories().Update(f.ctx, kept.ID, kept.Version, domain.CategoryFields{Name: "renamed"}); err != nil {
			return err
		}
		if err := tx.Outbox().Add(f.ctx, job("job-1")); err != nil {
			return err
		}
		if _, _, err := tx.Idempotency().Begin(f.ctx, "alice", "key-1", time.Now().Add(-time.Hour)); err != nil {
			return err
		}
		rec := domain.IdempotencyRecord{Scope: "alice", Key: "key-1", Fingerprint: "fp", Product: p, CreatedAt: time.Now()}
		if err := tx.Idempotency().Save(f.ctx, rec); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	_, err = f.s.Products().Get(f.ctx, p.ID)
	wantKind(t, "Get of a rolled-back product", err, domain.KindNotFound, "")
	_, err = f.s.Categories().Get(f.ctx, cat.ID)
	wantKind(t, "Get of a rolled-back category", err, domain.KindNotFound, "")
	_, err = f.s.Reports().Get(f.ctx, r.ID)
	wantKind(t, "Get of a rolled-back report", err, domain.KindNotFound, "")
	got, err := f.s.Categories().Get(f.ctx, kept.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", kept.ID, err)
	}
	checkCategory(t, "category after a rolled-back rename", got, kept)
	f.backlog(0)
	if found := f.begin("alice", "key-1", time.Now().Add(-time.Hour)); found != nil {
		t.Fatalf("a rolled-back idempotency record was found: %+v", *found)
	}
	page, err := f.s.Products().List(f.ctx, domain.ProductQuery{Limit: 10, Sort: domain.Sort{Field: domain.SortByID}})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("List after a rollback: %d products, err %v", len(page.Items), err)
	}
}

func testTxKeepsErrorKind(f *fixture) {
	t := f.t
	c := f.category("books")
	f.product(domain.ProductFields{SKU: ptr("B-1"), Name: "atlas", Price: 100, CategoryID: c.ID})
	err := f.s.InTx(f.ctx, func(tx domain.Store) error {
		_, err := tx.Products().Create(f.ctx, domain.ProductFields{SKU: ptr("B-1"), Name: "bible", Price: 100, CategoryID: c.ID})
		return err
	})
	wantKind(t, "InTx whose fn failed on a taken sku", err, domain.KindConflict, "sku")
}

// testOutboxParallelRelays runs relays side by side, as several worker
// processes do: a job one relay holds is skipped by the others, so with no
// failures every job is sent exactly once.
func testOutboxParallelRelays(f *fixture) {
	t := f.t
	const jobs, relays = 40, 4
	var want []string
	for i := range jobs {
		j := job("job-" + itoa(int64(i)))
		want = append(want, j.ID)
		f.add(j)
	}
	var (
		mu   sync.Mutex
		sent = map[string]int{}
		wg   sync.WaitGroup
		errs = make(chan error, relays)
	)
	for range relays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := f.s.Outbox().Relay(f.ctx, 3, func(_ context.Context, j domain.Job) error {
					time.Sleep(time.Millisecond) // hold the claim while the others look
					mu.Lock()
					sent[j.ID]++
					mu.Unlock()
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Relay: %v", err)
	}
	for _, id := range want {
		if sent[id] != 1 {
			t.Fatalf("job %s was sent %d times, want once (all sends: %v)", id, sent[id], sent)
		}
	}
	f.backlog(0)
}
