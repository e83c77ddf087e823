package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// TestReportJobsShareAStatement holds every finishing slot of a store on a
// row lock, queues report jobs behind them and checks that they then ran in
// one statement and each got what its own statement would have answered:
// a completed report with the attempt counted (Run) or not (Finish), the
// completed report unchanged, not found for a missing product or report,
// one answer for a job delivered twice. A second round with a product whose
// total overflows a price makes the shared statement fail: that job gets
// its own error and the others still complete.
func TestReportJobsShareAStatement(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	repo := s.Reports().(domain.ReportFinisher)
	cat, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "batch"})
	if err != nil {
		t.Fatalf("create category: %v", err)
	}
	product := func(name string, price domain.Price, stock int64, category int64) domain.Product {
		t.Helper()
		p, err := s.Products().Create(ctx, domain.ProductFields{Name: name, Price: price, Stock: stock, CategoryID: category})
		if err != nil {
			t.Fatalf("create product: %v", err)
		}
		return p
	}
	report := func(p domain.Product) domain.Report {
		t.Helper()
		r, err := s.Reports().Create(ctx, p.ID, "admin", "")
		if err != nil {
			t.Fatalf("create report: %v", err)
		}
		return r
	}
	var products []domain.Product
	for i := range 6 {
		products = append(products, product(fmt.Sprintf("item %d", i), domain.Price(1000+100*(i%3)), int64(i), cat.ID))
	}

	// job is one call and its answer.
	type job struct {
		name      string
		report    int64
		product   int64
		run       bool // Run, else Finish
		got       domain.Report
		err       error
		wantNone  bool // of the product or report: a KindNotFound error
		wantTries int  // attempts of the answer
	}
	done := report(products[0])
	if _, err := repo.Run(ctx, done.ID, products[0].ID); err != nil {
		t.Fatalf("complete a report first: %v", err)
	}
	dup := report(products[1])
	jobs := []*job{
		{name: "run", report: report(products[2]).ID, product: products[2].ID, run: true, wantTries: 1},
		{name: "finish", report: report(products[3]).ID, product: products[3].ID, wantTries: 0},
		{name: "run, another", report: report(products[4]).ID, product: products[4].ID, run: true, wantTries: 1},
		{name: "completed", report: done.ID, product: products[0].ID, run: true, wantTries: 1},
		{name: "missing product", report: report(products[5]).ID, product: 1 << 60, run: true, wantNone: true},
		{name: "missing report", report: 1 << 60, product: products[5].ID, run: true, wantNone: true},
		{name: "delivered once", report: dup.ID, product: products[1].ID, run: true, wantTries: 1},
		{name: "delivered twice", report: dup.ID, product: products[1].ID, run: true, wantTries: 1},
	}
	statements, answered := runBehindHeldSlots(ctx, t, s, func(call func(func())) {
		for _, j := range jobs {
			call(func() {
				if j.run {
					j.got, j.err = repo.Run(ctx, j.report, j.product)
				} else {
					j.got, j.err = repo.Finish(ctx, j.report, j.product)
				}
			})
		}
	}, len(jobs)-1) // the duplicate waits on its twin
	if statements != 1 || answered != len(jobs)-1 {
		t.Errorf("the queued jobs ran in %d statements answering %d jobs, want 1 statement for %d", statements, answered, len(jobs)-1)
	}
	for _, j := range jobs {
		if j.wantNone {
			if domain.KindOf(j.err) != domain.KindNotFound {
				t.Errorf("%s: error %v, want not found", j.name, j.err)
			}
			continue
		}
		if j.err != nil {
			t.Errorf("%s: %v", j.name, j.err)
			continue
		}
		if j.got.ID != j.report || j.got.Status != domain.ReportCompleted || j.got.Attempts != j.wantTries || j.got.Result == nil {
			t.Errorf("%s: answered %+v, want report %d completed after %d attempts", j.name, j.got, j.report, j.wantTries)
			continue
		}
		want, err := s.Reports().Compute(ctx, j.product)
		if err != nil {
			t.Fatalf("Compute(%d): %v", j.product, err)
		}
		res := *j.got.Result
		res.ComputedAt, want.ComputedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(res, want) {
			t.Errorf("%s: stored %+v, Compute gives %+v", j.name, res, want)
		}
		if stored, err := s.Reports().Get(ctx, j.report); err != nil || !reflect.DeepEqual(stored, j.got) {
			t.Errorf("%s: stored %+v, %v; answered %+v", j.name, stored, err, j.got)
		}
	}
	if r, err := s.Reports().Get(ctx, jobs[4].report); err != nil || r.Status != domain.ReportQueued || r.Attempts != 0 {
		t.Errorf("the report of the missing product is %+v, %v; want it queued, untouched", r, err)
	}

	// A total beyond a price fails the shared statement; each job then runs
	// its own.
	huge := product("huge", domain.MaxPrice, 1<<31-1, mustCategory(ctx, t, s, "overflow").ID)
	over := report(huge)
	fine := []domain.Report{report(products[2]), report(products[3])}
	var overErr error
	var fineErr [2]error
	statements, answered = runBehindHeldSlots(ctx, t, s, func(call func(func())) {
		call(func() { _, overErr = repo.Run(ctx, over.ID, huge.ID) })
		for i, r := range fine {
			call(func() { _, fineErr[i] = repo.Run(ctx, r.ID, r.ProductID) })
		}
	}, 3)
	if statements != 1 || answered != 3 {
		t.Errorf("the queued jobs ran in %d shared statements answering %d jobs, want 1 for 3", statements, answered)
	}
	if overErr == nil || !strings.Contains(overErr.Error(), "exceeds the range of a price") {
		t.Errorf("the overflowing job answered %v, want its range error", overErr)
	}
	if r, err := s.Reports().Get(ctx, over.ID); err != nil || r.Status != domain.ReportQueued || r.Attempts != 0 {
		t.Errorf("the overflowing report is %+v, %v; want it queued, untouched", r, err)
	}
	for i, r := range fine {
		got, err := s.Reports().Get(ctx, r.ID)
		if fineErr[i] != nil || err != nil || got.Status != domain.ReportCompleted || got.Attempts != 1 {
			t.Errorf("a job beside the overflow: %v; its report %+v, %v; want completed after 1 attempt", fineErr[i], got, err)
		}
	}
}

func mustCategory(ctx context.Context, t *testing.T, s *postgres.Store, name string) domain.Category {
	t.Helper()
	c, err := s.Categories().Create(ctx, domain.CategoryFields{Name: name})
	if err != nil {
		t.Fatalf("create category: %v", err)
	}
	return c
}

// runBehindHeldSlots occupies every finishing slot of s with a Run blocked
// on a row lock, lets queue start its calls (each through call, in its own
// goroutine), waits until queued of them wait for a statement, releases the
// lock and waits for every call. It returns how many statements the
// batcher ran for the queued jobs and how many jobs they answered.
func runBehindHeldSlots(ctx context.Context, t *testing.T, s *postgres.Store, queue func(call func(func())), queued int) (statements, answered int) {
	t.Helper()
	cat := mustCategory(ctx, t, s, fmt.Sprintf("holders %d", time.Now().UnixNano()))
	var blockers, products []int64
	for i := range postgres.BatchSlots {
		p, err := s.Products().Create(ctx, domain.ProductFields{Name: fmt.Sprintf("holder %d", i), Price: 100, CategoryID: cat.ID})
		if err != nil {
			t.Fatalf("create product: %v", err)
		}
		r, err := s.Reports().Create(ctx, p.ID, "admin", "")
		if err != nil {
			t.Fatalf("create report: %v", err)
		}
		blockers, products = append(blockers, r.ID), append(products, p.ID)
	}
	repo := s.Reports().(domain.ReportFinisher)
	return behindHeldSlots(ctx, t, s, heldSlots{
		lock: `SELECT 1 FROM reports WHERE id = ANY($1) FOR UPDATE`, arg: blockers,
		hold: func(i int) error {
			_, err := repo.Run(ctx, blockers[i], products[i])
			return err
		},
		stats: postgres.FinishBatches,
	}, queue, queued)
}

// heldSlots is how a test holds every slot of one of a store's batchers:
// lock (with arg) locks rows in a transaction of the test's, and hold(i) is
// the call of the slot's holder i, which waits on that lock.
type heldSlots struct {
	lock  string
	arg   any
	hold  func(i int) error
	stats func(*postgres.Store) (statements, calls, waiting, running int)
}

// behindHeldSlots holds every slot of a batcher as h says, lets queue start
// its calls (each through call, in its own goroutine), waits until queued
// of them wait for a statement, releases the lock and waits for every call.
// It returns how many statements the batcher ran for the queued calls and
// how many calls they answered.
func behindHeldSlots(ctx context.Context, t *testing.T, s *postgres.Store, h heldSlots, queue func(call func(func())), queued int) (statements, answered int) {
	t.Helper()
	lock, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback(context.Background()) }()
	if _, err := lock.Exec(ctx, h.lock, h.arg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the slots to be free", func() bool {
		_, _, _, running := h.stats(s)
		return running == 0
	})
	var wg sync.WaitGroup
	for i := range postgres.BatchSlots {
		// One at a time: holders that arrived together would share a
		// statement, and a slot.
		wg.Go(func() {
			if err := h.hold(i); err != nil {
				t.Errorf("a slot's holder: %v", err)
			}
		})
		waitFor(t, "a holder to wait on its lock", func() bool { return locksAwaited(ctx, t, s) == i+1 })
	}
	before, beforeCalls, _, _ := h.stats(s)
	queue(func(f func()) { wg.Go(f) })
	waitFor(t, fmt.Sprintf("%d calls to wait for a statement", queued), func() bool {
		_, _, waiting, _ := h.stats(s)
		return waiting == queued
	})
	if err := lock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	after, afterCalls, _, _ := h.stats(s)
	// The holders' own statements are not the queued calls'.
	return after - before, afterCalls - beforeCalls
}

// locksAwaited counts the backends of s's database waiting on a row lock.
func locksAwaited(ctx context.Context, t *testing.T, s *postgres.Store) int {
	var n int
	err := s.Pool().QueryRow(ctx, `SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE NOT l.granted AND a.datname = current_database()`).Scan(&n)
	if err != nil && err != pgx.ErrNoRows {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
