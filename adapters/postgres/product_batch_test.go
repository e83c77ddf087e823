package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// TestCreationsShareAStatement holds every creation slot of a store (their
// creations wait on a lock of their category's row), queues creations
// behind them and checks that they ran in one statement, each answered with
// its own product and queued report as stored. A second round, with a SKU
// already taken and a category that does not exist among them, has the
// shared statement refused: those two get their own errors, the others are
// created once each.
func TestCreationsShareAStatement(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	cats := []domain.Category{mustCategory(ctx, t, s, "create a"), mustCategory(ctx, t, s, "create b")}
	str := func(v string) *string { return &v }

	type creation struct {
		fields    domain.ProductFields
		by, reqID string
		product   domain.Product
		report    domain.Report
		err       error
	}
	first := []*creation{
		{fields: domain.ProductFields{Name: "lamp", Price: 1999, Stock: 3, CategoryID: cats[0].ID}, by: "alice", reqID: "req-1"},
		{fields: domain.ProductFields{SKU: str("DESK-1"), Name: "desk", Description: str("oak"), Price: 45000, CategoryID: cats[1].ID}, by: "bob"},
		{fields: domain.ProductFields{Name: "chair", Price: 0, Stock: 12, CategoryID: cats[0].ID}, by: "alice", reqID: "req-3"},
		{fields: domain.ProductFields{SKU: str("RUG-1"), Name: "rug", Price: 12000, Stock: 1, CategoryID: cats[1].ID}, by: "carol", reqID: "req-4"},
	}
	create := func(c *creation) func() {
		return func() { c.product, c.report, c.err = s.CreateProductWithReport(ctx, c.fields, c.by, c.reqID) }
	}
	statements, answered := createBehindHeldSlots(ctx, t, s, func(call func(func())) {
		for _, c := range first {
			call(create(c))
		}
	}, len(first))
	if statements != 1 || answered != len(first) {
		t.Errorf("the queued creations ran in %d statements answering %d, want 1 for %d", statements, answered, len(first))
	}
	for i, c := range first {
		if c.err != nil {
			t.Errorf("creation %d: %v", i, c.err)
			continue
		}
		p, r := c.product, c.report
		if p.Name != c.fields.Name || !p.Fields().Equal(c.fields) || p.Version != 1 {
			t.Errorf("creation %d answered product %+v, want the fields %+v at version 1", i, p, c.fields)
		}
		if r.ProductID != p.ID || r.Status != domain.ReportQueued || r.RequestedBy != c.by || r.RequestID != c.reqID || r.Attempts != 0 {
			t.Errorf("creation %d answered report %+v, want queued for product %d by %s (request %q)", i, r, p.ID, c.by, c.reqID)
		}
		if stored, err := s.Products().Get(ctx, p.ID); err != nil || !stored.Fields().Equal(c.fields) || stored.CategoryName != p.CategoryName {
			t.Errorf("creation %d: stored %+v, %v; answered %+v", i, stored, err, p)
		}
		if stored, err := s.Reports().Get(ctx, r.ID); err != nil || stored.ProductID != p.ID || stored.RequestedBy != c.by {
			t.Errorf("creation %d: stored report %+v, %v; answered %+v", i, stored, err, r)
		}
	}

	second := []*creation{
		{fields: domain.ProductFields{Name: "shelf", Price: 5000, CategoryID: cats[0].ID}, by: "alice"},
		{fields: domain.ProductFields{SKU: str("DESK-1"), Name: "another desk", Price: 100, CategoryID: cats[1].ID}, by: "bob"},
		{fields: domain.ProductFields{Name: "nowhere", Price: 100, CategoryID: 1 << 60}, by: "bob"},
		{fields: domain.ProductFields{Name: "stool", Price: 2500, CategoryID: cats[1].ID}, by: "carol"},
	}
	statements, answered = createBehindHeldSlots(ctx, t, s, func(call func(func())) {
		for _, c := range second {
			call(create(c))
		}
	}, len(second))
	if statements != 1 || answered != len(second) {
		t.Errorf("the second round ran in %d shared statements answering %d, want 1 for %d", statements, answered, len(second))
	}
	if k := domain.KindOf(second[1].err); k != domain.KindConflict {
		t.Errorf("a taken SKU answered %v, want a conflict", second[1].err)
	}
	if k := domain.KindOf(second[2].err); k != domain.KindInvalid {
		t.Errorf("a missing category answered %v, want invalid", second[2].err)
	}
	for _, c := range []*creation{second[0], second[3]} {
		if c.err != nil || c.product.Name != c.fields.Name || c.report.ProductID != c.product.ID {
			t.Errorf("a creation beside the refused ones: %+v, %+v, %v", c.product, c.report, c.err)
		}
	}
	var products, reports int
	if err := s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM products WHERE name NOT LIKE 'holder%'),
		(SELECT count(*) FROM reports r JOIN products p ON p.id = r.product_id WHERE p.name NOT LIKE 'holder%')`).Scan(&products, &reports); err != nil {
		t.Fatal(err)
	}
	if want := len(first) + 2; products != want || reports != want {
		t.Errorf("%d products and %d reports stored, want %d of each: every creation once", products, reports, want)
	}
}

// createBehindHeldSlots is runBehindHeldSlots for creations: each slot is
// held by a creation in a category whose row the test has locked, which
// the creation's foreign key check waits for.
func createBehindHeldSlots(ctx context.Context, t *testing.T, s *postgres.Store, queue func(call func(func())), queued int) (statements, answered int) {
	t.Helper()
	held := mustCategory(ctx, t, s, fmt.Sprintf("holder category %d", time.Now().UnixNano()))
	return behindHeldSlots(ctx, t, s, heldSlots{
		lock: `SELECT 1 FROM categories WHERE id = $1 FOR UPDATE`, arg: held.ID,
		hold: func(i int) error {
			f := domain.ProductFields{Name: fmt.Sprintf("holder %d", i), Price: 100, CategoryID: held.ID}
			_, _, err := s.CreateProductWithReport(ctx, f, "admin", "")
			return err
		},
		stats: postgres.CreateBatches,
	}, queue, queued)
}
