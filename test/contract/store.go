package contract

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

// RunStore runs the specification of domain.Store. Every subtest calls
// newStore for a store of its own, which must be empty: no categories,
// products, reports, outbox rows or idempotency records. newStore receives
// the subtest's t, so it can register cleanups and fail the subtest when
// its backing service is unreachable. Subtests run one after another, so
// newStore may reuse what an earlier subtest released.
//
// Decisions the ports leave open and this suite fixes:
//   - Keyset order is (field, id), both ascending or both descending, so
//     "-name" lists equal names by descending id. Next is nil exactly when
//     no row follows the page: a full last page has no Next.
//   - Name order is byte order; the suite uses lower-case ASCII names, on
//     which the common collations agree.
//   - Reports().Create of a missing product is KindNotFound.
//   - PriceRank is 1 + the number of products of the category that cost
//     strictly more: equal prices share a rank.
//   - A failure recorded on a completed report leaves it completed.
//   - IdempotencyStore.Begin returns the saved record as saved, product
//     included, even if the product changed since.
func RunStore(t *testing.T, newStore func(t *testing.T) domain.Store) {
	t.Helper()
	specs := []struct {
		name string
		run  func(f *fixture)
	}{
		{"ping", testPing},
		{"product create and get", testProductCreateGet},
		{"product sku is unique", testProductSKUUnique},
		{"product needs an existing category", testProductUnknownCategory},
		{"product created with its report in one step", testProductWithReport},
		{"product update", testProductUpdate},
		{"product delete", testProductDelete},
		{"product shows its category's current name", testProductCategoryName},
		{"product pages for every sort", testProductPagesEverySort},
		{"product pages with filters and sort", testProductPagesFiltered},
		{"product search is literal and ignores case", testProductSearchLiteral},
		{"product cursor outlives its row", testProductCursorAfterDelete},
		{"product list of an empty store", testProductListEmpty},
		{"category create and get", testCategoryCreateGet},
		{"category name is unique ignoring case", testCategoryNameUnique},
		{"category update", testCategoryUpdate},
		{"category delete", testCategoryDelete},
		{"category pages", testCategoryPages},
		{"report lifecycle", testReportLifecycle},
		{"report failure and retry", testReportFailure},
		{"report of missing things", testReportMissing},
		{"reports newest first", testReportsNewestFirst},
		{"reports by status, newest first", testReportsList},
		{"stale reports", testReportsStale},
		{"report compute", testReportCompute},
		{"outbox relay", testOutboxRelay},
		{"outbox send error keeps the row", testOutboxSendError},
		{"outbox follows its transaction", testOutboxInTx},
		{"outbox relays in parallel send each job once", testOutboxParallelRelays},
		{"transaction commits", testTxCommit},
		{"transaction rolls back", testTxRollback},
		{"transaction returns fn's error", testTxKeepsErrorKind},
		{"idempotency records", testIdempotency},
		{"idempotency rolls back", testIdempotencyRollback},
		{"idempotency replaces an expired record", testIdempotencyExpired},
		{"idempotency key held by a transaction", testIdempotencyConcurrent},
		{"idempotency Begin needs a transaction", testIdempotencyNeedsTx},
	}
	for _, spec := range specs {
		t.Run(spec.name, func(t *testing.T) {
			spec.run(newFixture(t, newStore(t)))
		})
	}
}

func testPing(f *fixture) {
	if err := f.s.Ping(f.ctx); err != nil {
		f.t.Fatalf("Ping: %v", err)
	}
}

// timeTolerance absorbs the clock difference between a database server and
// this process, and the precision a database keeps.
const timeTolerance = 2 * time.Second

// fixture is one subtest's store with helpers that fail the test.
type fixture struct {
	t   *testing.T
	s   domain.Store
	ctx context.Context
}

func newFixture(t *testing.T, s domain.Store) *fixture {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return &fixture{t: t, s: s, ctx: ctx}
}

func (f *fixture) category(name string) domain.Category {
	f.t.Helper()
	c, err := f.s.Categories().Create(f.ctx, domain.CategoryFields{Name: name})
	if err != nil {
		f.t.Fatalf("create category %q: %v", name, err)
	}
	return c
}

func (f *fixture) product(pf domain.ProductFields) domain.Product {
	f.t.Helper()
	p, err := f.s.Products().Create(f.ctx, pf)
	if err != nil {
		f.t.Fatalf("create product %q: %v", pf.Name, err)
	}
	return p
}

func (f *fixture) report(productID int64) domain.Report {
	f.t.Helper()
	r, err := f.s.Reports().Create(f.ctx, productID, "admin", "")
	if err != nil {
		f.t.Fatalf("create report of product %d: %v", productID, err)
	}
	return r
}

func fields(categoryID int64, name string, price domain.Price, stock int64) domain.ProductFields {
	return domain.ProductFields{Name: name, Price: price, Stock: stock, CategoryID: categoryID}
}

func ptr[T any](v T) *T { return &v }

// wantKind fails unless err is a domain error of kind that, when field is
// not empty, names field.
func wantKind(t *testing.T, what string, err error, kind domain.Kind, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want %s", what, kind)
	}
	if got := domain.KindOf(err); got != kind {
		t.Fatalf("%s: got kind %s (%v), want %s", what, got, err, kind)
	}
	if field == "" {
		return
	}
	var de *domain.Error
	errors.As(err, &de)
	for _, fe := range de.Fields {
		if fe.Field == field {
			return
		}
	}
	t.Fatalf("%s: error %v names fields %v, want %q among them", what, err, de.Fields, field)
}

// between fails unless tm lies in [from, to], widened by timeTolerance.
func between(t *testing.T, what string, tm, from, to time.Time) {
	t.Helper()
	if tm.IsZero() || tm.Before(from.Add(-timeTolerance)) || tm.After(to.Add(timeTolerance)) {
		t.Fatalf("%s = %v, want between %v and %v", what, tm, from, to)
	}
}

// sameTime says whether two timestamps are equal to the microsecond that
// PostgreSQL keeps.
func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Microsecond && d > -time.Microsecond
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return "\"" + *s + "\""
}

// checkProduct fails unless got equals want in every field.
func checkProduct(t *testing.T, what string, got, want domain.Product) {
	t.Helper()
	if got.ID != want.ID || !sameString(got.SKU, want.SKU) || got.Name != want.Name ||
		!sameString(got.Description, want.Description) || got.Price != want.Price ||
		got.Stock != want.Stock || got.CategoryID != want.CategoryID ||
		got.CategoryName != want.CategoryName || got.CategoryVersion != want.CategoryVersion || got.Version != want.Version ||
		!sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Fatalf("%s:\n got  %s\n want %s", what, showProduct(got), showProduct(want))
	}
}

func showProduct(p domain.Product) string {
	return "{id " + itoa(p.ID) + " sku " + show(p.SKU) + " name \"" + p.Name + "\" description " +
		show(p.Description) + " price " + p.Price.String() + " stock " + itoa(p.Stock) +
		" category " + itoa(p.CategoryID) + " \"" + p.CategoryName + "\" v" + itoa(p.CategoryVersion) +
		" version " + itoa(p.Version) +
		" created " + p.CreatedAt.UTC().Format(time.RFC3339Nano) +
		" updated " + p.UpdatedAt.UTC().Format(time.RFC3339Nano) + "}"
}

// checkProductFields fails unless p holds exactly the written fields.
func checkProductFields(t *testing.T, what string, p domain.Product, want domain.ProductFields) {
	t.Helper()
	got := p.Fields()
	if !sameString(got.SKU, want.SKU) || got.Name != want.Name || !sameString(got.Description, want.Description) ||
		got.Price != want.Price || got.Stock != want.Stock || got.CategoryID != want.CategoryID {
		t.Fatalf("%s: got %s, want fields sku %s name %q description %s price %s stock %d category %d",
			what, showProduct(p), show(want.SKU), want.Name, show(want.Description), want.Price, want.Stock, want.CategoryID)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
