package contract

import (
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

func testReportLifecycle(f *fixture) {
	t := f.t
	c := f.category("books")
	p := f.product(domain.ProductFields{SKU: ptr("B-1"), Name: "atlas", Price: 4500, Stock: 2, CategoryID: c.ID})

	start := time.Now()
	r, err := f.s.Reports().Create(f.ctx, p.ID, "admin", "req-1")
	end := time.Now()
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if r.ID <= 0 || r.ProductID != p.ID || r.Status != domain.ReportQueued || r.RequestedBy != "admin" || r.RequestID != "req-1" ||
		r.Attempts != 0 || r.Error != nil || r.StartedAt != nil || r.FinishedAt != nil || r.Result != nil {
		t.Fatalf("created report %+v, want queued, 0 attempts, requested by admin in req-1, nothing else set", r)
	}
	between(t, "createdAt", r.CreatedAt, start, end)
	got, err := f.s.Reports().Get(f.ctx, r.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", r.ID, err)
	}
	checkReport(t, "Get after Create", got, r)

	start = time.Now()
	running, err := f.s.Reports().Start(f.ctx, r.ID)
	end = time.Now()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if running.Status != domain.ReportRunning || running.Attempts != 1 || running.StartedAt == nil || running.Result != nil {
		t.Fatalf("started report %+v, want running, 1 attempt, startedAt set", running)
	}
	between(t, "startedAt", *running.StartedAt, start, end)

	res, err := f.s.Reports().Compute(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	start = time.Now()
	done, err := f.s.Reports().Complete(f.ctx, r.ID, res)
	end = time.Now()
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if done.Status != domain.ReportCompleted || done.Attempts != 1 || done.Result == nil || done.FinishedAt == nil || done.Error != nil {
		t.Fatalf("completed report %+v, want completed, 1 attempt, result and finishedAt set, no error", done)
	}
	between(t, "finishedAt", *done.FinishedAt, start, end)
	checkResult(t, "completed report's result", *done.Result, res)
	got, err = f.s.Reports().Get(f.ctx, r.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", r.ID, err)
	}
	checkReport(t, "Get after Complete", got, done)

	// A completed report is final: a second Complete, a Start (a job run
	// twice) and a Fail change nothing.
	other := res
	other.Name, other.Stock = "changed", 99
	again, err := f.s.Reports().Complete(f.ctx, r.ID, other)
	if err != nil {
		t.Fatalf("second Complete: %v", err)
	}
	checkReport(t, "second Complete", again, done)
	restarted, err := f.s.Reports().Start(f.ctx, r.ID)
	if err != nil {
		t.Fatalf("Start of a completed report: %v", err)
	}
	checkReport(t, "Start of a completed report", restarted, done)
	if err := f.s.Reports().Fail(f.ctx, r.ID, "late failure", true); err != nil {
		t.Fatalf("Fail of a completed report: %v", err)
	}
	got, err = f.s.Reports().Get(f.ctx, r.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", r.ID, err)
	}
	checkReport(t, "completed report after Fail", got, done)
}

func testReportFailure(f *fixture) {
	t := f.t
	c := f.category("books")
	p := f.product(fields(c.ID, "atlas", 4500, 2))
	r := f.report(p.ID)
	if _, err := f.s.Reports().Start(f.ctx, r.ID); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := f.s.Reports().Fail(f.ctx, r.ID, "boom", false); err != nil {
		t.Fatalf("Fail, not final: %v", err)
	}
	got, err := f.s.Reports().Get(f.ctx, r.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", r.ID, err)
	}
	if got.Status != domain.ReportQueued && got.Status != domain.ReportRunning {
		t.Fatalf("after a failure that is not final the status is %q, want queued or running", got.Status)
	}
	if got.Error == nil || *got.Error != "boom" || got.Attempts != 1 || got.Result != nil {
		t.Fatalf("after a failure that is not final: %+v, want error boom, 1 attempt, no result", got)
	}

	retry, err := f.s.Reports().Start(f.ctx, r.ID)
	if err != nil {
		t.Fatalf("Start of a retried report: %v", err)
	}
	if retry.Status != domain.ReportRunning || retry.Attempts != 2 {
		t.Fatalf("retried report %+v, want running, 2 attempts", retry)
	}

	start := time.Now()
	if err := f.s.Reports().Fail(f.ctx, r.ID, "boom again", true); err != nil {
		t.Fatalf("Fail, final: %v", err)
	}
	end := time.Now()
	failed, err := f.s.Reports().Get(f.ctx, r.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", r.ID, err)
	}
	if failed.Status != domain.ReportFailed || failed.Error == nil || *failed.Error != "boom again" ||
		failed.Attempts != 2 || failed.FinishedAt == nil || failed.Result != nil {
		t.Fatalf("finally failed report %+v, want failed, error \"boom again\", 2 attempts, finishedAt set", failed)
	}
	between(t, "finishedAt", *failed.FinishedAt, start, end)

	// An operator's retry starts a failed report again.
	again, err := f.s.Reports().Start(f.ctx, r.ID)
	if err != nil {
		t.Fatalf("Start of a failed report: %v", err)
	}
	if again.Status != domain.ReportRunning || again.Attempts != 3 {
		t.Fatalf("restarted failed report %+v, want running, 3 attempts", again)
	}
	res, err := f.s.Reports().Compute(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	done, err := f.s.Reports().Complete(f.ctx, r.ID, res)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if done.Status != domain.ReportCompleted || done.Result == nil || done.Attempts != 3 {
		t.Fatalf("completed after retries %+v, want completed with a result, 3 attempts", done)
	}
}

func testReportMissing(f *fixture) {
	t := f.t
	c := f.category("books")
	p := f.product(fields(c.ID, "atlas", 4500, 2))
	r := f.report(p.ID)
	missingProduct, missingReport := p.ID+1000, r.ID+1000

	_, err := f.s.Reports().Create(f.ctx, missingProduct, "admin", "")
	wantKind(t, "Create for a missing product", err, domain.KindNotFound, "")
	_, err = f.s.Reports().Compute(f.ctx, missingProduct)
	wantKind(t, "Compute of a missing product", err, domain.KindNotFound, "")
	_, err = f.s.Reports().Get(f.ctx, missingReport)
	wantKind(t, "Get of a missing report", err, domain.KindNotFound, "")
	_, err = f.s.Reports().Start(f.ctx, missingReport)
	wantKind(t, "Start of a missing report", err, domain.KindNotFound, "")
	_, err = f.s.Reports().Complete(f.ctx, missingReport, domain.ReportResult{ProductID: p.ID})
	wantKind(t, "Complete of a missing report", err, domain.KindNotFound, "")
	err = f.s.Reports().Fail(f.ctx, missingReport, "boom", true)
	wantKind(t, "Fail of a missing report", err, domain.KindNotFound, "")
	list, err := f.s.Reports().ListByProduct(f.ctx, missingProduct)
	if err != nil || len(list) != 0 {
		t.Fatalf("ListByProduct of a missing product: %d reports, err %v; want none, no error", len(list), err)
	}
}

func testReportsNewestFirst(f *fixture) {
	t := f.t
	c := f.category("books")
	a := f.product(fields(c.ID, "atlas", 4500, 2))
	b := f.product(fields(c.ID, "bible", 1500, 2))
	var want []int64
	for i := 0; i < 3; i++ {
		want = append([]int64{f.report(a.ID).ID}, want...)
		if i == 1 {
			f.report(b.ID)
		}
	}
	list, err := f.s.Reports().ListByProduct(f.ctx, a.ID)
	if err != nil {
		t.Fatalf("ListByProduct: %v", err)
	}
	var got []int64
	for _, r := range list {
		if r.ProductID != a.ID {
			t.Fatalf("ListByProduct(%d) holds a report of product %d", a.ID, r.ProductID)
		}
		got = append(got, r.ID)
	}
	if !equalIDs(got, want) {
		t.Fatalf("ListByProduct: got %v, want newest first %v", got, want)
	}
}

func testReportsStale(f *fixture) {
	t := f.t
	c := f.category("books")
	p := f.product(fields(c.ID, "atlas", 4500, 2))
	before := time.Now().Add(-time.Hour)
	queued, running, completed, failed := f.report(p.ID), f.report(p.ID), f.report(p.ID), f.report(p.ID)
	for _, r := range []domain.Report{running, completed, failed} {
		if _, err := f.s.Reports().Start(f.ctx, r.ID); err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	if _, err := f.s.Reports().Complete(f.ctx, completed.ID, domain.ReportResult{ProductID: p.ID}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if err := f.s.Reports().Fail(f.ctx, failed.ID, "boom", true); err != nil {
		t.Fatalf("Fail: %v", err)
	}

	stale, err := f.s.Reports().Stale(f.ctx, time.Now().Add(time.Hour), 10)
	if err != nil {
		t.Fatalf("Stale: %v", err)
	}
	got := map[int64]domain.ReportStatus{}
	for _, r := range stale {
		got[r.ID] = r.Status
	}
	if len(got) != 2 || got[queued.ID] != domain.ReportQueued || got[running.ID] != domain.ReportRunning {
		t.Fatalf("Stale lists %v, want report %d queued and %d running", got, queued.ID, running.ID)
	}
	if stale, err = f.s.Reports().Stale(f.ctx, time.Now().Add(time.Hour), 1); err != nil || len(stale) != 1 {
		t.Fatalf("Stale with limit 1: %d reports, err %v", len(stale), err)
	}
	if stale, err = f.s.Reports().Stale(f.ctx, before, 10); err != nil || len(stale) != 0 {
		t.Fatalf("Stale before any report existed: %d reports, err %v", len(stale), err)
	}
}

func testReportCompute(f *fixture) {
	t := f.t
	tools, toys := f.category("tools"), f.category("toys")
	saw := f.product(domain.ProductFields{SKU: ptr("T-SAW"), Name: "saw", Price: 3000, Stock: 1, CategoryID: tools.ID})
	drill := f.product(fields(tools.ID, "drill", 2000, 2))
	pliers := f.product(fields(tools.ID, "pliers", 2000, 0))
	nail := f.product(fields(tools.ID, "nail", 1000, 5))
	kite := f.product(fields(toys.ID, "kite", 9900, 3))
	const toolsValue = 3000*1 + 2000*2 + 2000*0 + 1000*5

	cases := []struct {
		p          domain.Product
		stockValue domain.Price
		rank, size int
		catValue   domain.Price
	}{
		{saw, 3000, 1, 4, toolsValue},
		{drill, 4000, 2, 4, toolsValue},
		{pliers, 0, 2, 4, toolsValue},
		{nail, 5000, 4, 4, toolsValue},
		{kite, 29700, 1, 1, 29700},
	}
	for _, tc := range cases {
		start := time.Now()
		got, err := f.s.Reports().Compute(f.ctx, tc.p.ID)
		end := time.Now()
		if err != nil {
			t.Fatalf("Compute(%s): %v", tc.p.Name, err)
		}
		want := domain.ReportResult{
			ProductID: tc.p.ID, SKU: tc.p.SKU, Name: tc.p.Name, CategoryID: tc.p.CategoryID,
			CategoryName: tc.p.CategoryName, Price: tc.p.Price, Stock: tc.p.Stock,
			StockValue: tc.stockValue, PriceRank: tc.rank, CategorySize: tc.size, CategoryValue: tc.catValue,
			ComputedAt: got.ComputedAt,
		}
		checkResult(t, "Compute("+tc.p.Name+")", got, want)
		between(t, "computedAt", got.ComputedAt, start, end)
	}
}

// checkReport fails unless got equals want in every field.
func checkReport(t *testing.T, what string, got, want domain.Report) {
	t.Helper()
	same := got.ID == want.ID && got.ProductID == want.ProductID && got.Status == want.Status &&
		got.RequestedBy == want.RequestedBy && got.RequestID == want.RequestID && got.Attempts == want.Attempts && sameString(got.Error, want.Error) &&
		sameTime(got.CreatedAt, want.CreatedAt) && sameTimePtr(got.StartedAt, want.StartedAt) &&
		sameTimePtr(got.FinishedAt, want.FinishedAt) && (got.Result == nil) == (want.Result == nil)
	if !same {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
	if got.Result != nil {
		checkResult(t, what+": result", *got.Result, *want.Result)
	}
}

func checkResult(t *testing.T, what string, got, want domain.ReportResult) {
	t.Helper()
	if got.ProductID != want.ProductID || !sameString(got.SKU, want.SKU) || got.Name != want.Name ||
		got.CategoryID != want.CategoryID || got.CategoryName != want.CategoryName || got.Price != want.Price ||
		got.Stock != want.Stock || got.StockValue != want.StockValue || got.PriceRank != want.PriceRank ||
		got.CategorySize != want.CategorySize || got.CategoryValue != want.CategoryValue ||
		!sameTime(got.ComputedAt, want.ComputedAt) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func sameTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameTime(*a, *b)
}

func testReportsList(f *fixture) {
	t := f.t
	c := f.category("books")
	a := f.product(fields(c.ID, "atlas", 4500, 2))
	var all []int64
	for range 5 {
		all = append([]int64{f.report(a.ID).ID}, all...)
	}
	// all is newest first: fail the second newest and the oldest for good.
	for _, id := range []int64{all[1], all[4]} {
		if err := f.s.Reports().Fail(f.ctx, id, "broken", true); err != nil {
			t.Fatalf("Fail(%d): %v", id, err)
		}
	}
	ids := func(q domain.ReportQuery) []int64 {
		t.Helper()
		list, err := f.s.Reports().List(f.ctx, q)
		if err != nil {
			t.Fatalf("List(%+v): %v", q, err)
		}
		got := []int64{}
		for _, r := range list {
			got = append(got, r.ID)
		}
		return got
	}
	for _, tc := range []struct {
		q    domain.ReportQuery
		want []int64
	}{
		{domain.ReportQuery{Limit: 10}, all},
		{domain.ReportQuery{Limit: 2}, all[:2]},
		{domain.ReportQuery{Limit: 2, BeforeID: all[1]}, all[2:4]},
		{domain.ReportQuery{Limit: 10, Status: domain.ReportFailed}, []int64{all[1], all[4]}},
		{domain.ReportQuery{Limit: 10, Status: domain.ReportFailed, BeforeID: all[1]}, []int64{all[4]}},
		{domain.ReportQuery{Limit: 10, Status: domain.ReportQueued}, []int64{all[0], all[2], all[3]}},
		{domain.ReportQuery{Limit: 10, Status: domain.ReportCompleted}, []int64{}},
	} {
		if got := ids(tc.q); !equalIDs(got, tc.want) {
			t.Errorf("List(%+v): got %v, want %v", tc.q, got, tc.want)
		}
	}
}
