package contract

import (
	"strconv"
	"strings"
	"time"

	"github.com/etalase/etalase/domain"
)

func testProductCreateGet(f *fixture) {
	t := f.t
	books := f.category("books")
	want := domain.ProductFields{SKU: ptr("BK-0042"), Name: "go in action", Description: ptr("a book"),
		Price: 1999, Stock: 7, CategoryID: books.ID}
	start := time.Now()
	p := f.product(want)
	end := time.Now()
	if p.ID <= 0 {
		t.Fatalf("created product has id %d, want a positive id", p.ID)
	}
	checkProductFields(t, "created product", p, want)
	if p.Version != 1 {
		t.Fatalf("created product has version %d, want 1", p.Version)
	}
	if p.CategoryName != "books" || p.CategoryVersion != books.Version {
		t.Fatalf("created product has category %q at version %d, want %q at %d",
			p.CategoryName, p.CategoryVersion, "books", books.Version)
	}
	between(t, "createdAt", p.CreatedAt, start, end)
	if !sameTime(p.UpdatedAt, p.CreatedAt) {
		t.Fatalf("new product: updatedAt %v differs from createdAt %v", p.UpdatedAt, p.CreatedAt)
	}
	got, err := f.s.Products().Get(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", p.ID, err)
	}
	checkProduct(t, "Get after Create", got, p)

	// Optional fields may be absent, on as many products as like.
	bare := fields(books.ID, "bare", 0, 0)
	q1, q2 := f.product(bare), f.product(bare)
	if q1.ID == q2.ID || q1.ID == p.ID {
		t.Fatalf("ids %d, %d, %d are not distinct", p.ID, q1.ID, q2.ID)
	}
	got, err = f.s.Products().Get(f.ctx, q2.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", q2.ID, err)
	}
	checkProductFields(t, "product without sku and description", got, bare)
	checkProduct(t, "Get after Create", got, q2)

	// The longest values the contract allows are stored whole, counted in
	// characters, not bytes.
	long := domain.ProductFields{SKU: ptr(strings.Repeat("S", domain.MaxSKULength)),
		Name: strings.Repeat("é", domain.MaxProductNameLength), Description: ptr(strings.Repeat("日", domain.MaxDescriptionLength)),
		Price: domain.MaxPrice, Stock: domain.MaxStock, CategoryID: books.ID}
	lp := f.product(long)
	checkProductFields(t, "product with the longest fields", lp, long)
	got, err = f.s.Products().Get(f.ctx, lp.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", lp.ID, err)
	}
	checkProduct(t, "Get of the product with the longest fields", got, lp)

	_, err = f.s.Products().Get(f.ctx, q2.ID+1000)
	wantKind(t, "Get of a missing product", err, domain.KindNotFound, "")
}

func testProductSKUUnique(f *fixture) {
	t := f.t
	c := f.category("tools")
	first := fields(c.ID, "hammer", 1000, 1)
	first.SKU = ptr("T-1")
	a := f.product(first)
	dup := fields(c.ID, "another hammer", 1200, 1)
	dup.SKU = ptr("T-1")
	_, err := f.s.Products().Create(f.ctx, dup)
	wantKind(t, "Create with a taken sku", err, domain.KindConflict, "sku")

	dup.SKU = ptr("T-2")
	b := f.product(dup)
	dup.SKU = ptr("T-1")
	_, err = f.s.Products().Update(f.ctx, b.ID, b.Revision(), dup)
	wantKind(t, "Update to a taken sku", err, domain.KindConflict, "sku")
	got, err := f.s.Products().Get(f.ctx, b.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", b.ID, err)
	}
	checkProduct(t, "product after a refused update", got, b)

	// Keeping one's own sku is no conflict.
	first.Stock = 5
	if _, err := f.s.Products().Update(f.ctx, a.ID, a.Revision(), first); err != nil {
		t.Fatalf("Update keeping its own sku: %v", err)
	}
	// A freed sku can be taken.
	if err := f.s.Products().Delete(f.ctx, a.ID); err != nil {
		t.Fatalf("Delete(%d): %v", a.ID, err)
	}
	if _, err := f.s.Products().Update(f.ctx, b.ID, b.Revision(), dup); err != nil {
		t.Fatalf("Update to a freed sku: %v", err)
	}
}

func testProductUnknownCategory(f *fixture) {
	t := f.t
	c := f.category("garden")
	missing := c.ID + 1000
	_, err := f.s.Products().Create(f.ctx, fields(missing, "rake", 500, 1))
	wantKind(t, "Create with a missing category", err, domain.KindInvalid, "categoryId")

	p := f.product(fields(c.ID, "rake", 500, 1))
	_, err = f.s.Products().Update(f.ctx, p.ID, p.Revision(), fields(missing, "rake", 500, 1))
	wantKind(t, "Update to a missing category", err, domain.KindInvalid, "categoryId")
	got, err := f.s.Products().Get(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", p.ID, err)
	}
	checkProduct(t, "product after a refused update", got, p)
}

// testProductWithReport: a store that offers domain.ProductReportCreator
// makes a product and its queued report at once, the report's job waiting
// for the relay, with Create's errors; a refused creation makes neither.
func testProductWithReport(f *fixture) {
	t := f.t
	creator, ok := f.s.(domain.ProductReportCreator)
	if !ok {
		t.Skip("the store does not offer domain.ProductReportCreator")
	}
	c := f.category("maps")
	in := fields(c.ID, "atlas", 1999, 3)
	in.SKU = ptr("M-1")
	p, r, err := creator.CreateProductWithReport(f.ctx, in, "writer", "request-1")
	if err != nil {
		t.Fatalf("CreateProductWithReport: %v", err)
	}
	got, err := f.s.Products().Get(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", p.ID, err)
	}
	checkProduct(t, "product created with its report", got, p)
	if p.Name != "atlas" || p.Price != 1999 || p.Stock != 3 || p.CategoryName != "maps" {
		t.Errorf("created %+v, want atlas at 1999 with 3 in stock in maps", p)
	}
	rep, err := f.s.Reports().Get(f.ctx, r.ID)
	if err != nil {
		t.Fatalf("Get of the report: %v", err)
	}
	if rep.ProductID != p.ID || rep.Status != domain.ReportQueued || rep.RequestedBy != "writer" ||
		rep.RequestID != "request-1" || rep.Attempts != 0 || rep.ID != r.ID {
		t.Errorf("report %+v (returned %+v), want queued for product %d by writer for request-1", rep, r, p.ID)
	}
	if offered := f.relay(10, 1); offered[0].ID != "report-"+strconv.FormatInt(r.ID, 10) {
		t.Errorf("the relay offered %+v, want the report's job", offered)
	}

	// Refused as Create refuses, and nothing is made.
	dup := fields(c.ID, "another atlas", 2500, 1)
	dup.SKU = ptr("M-1")
	_, _, err = creator.CreateProductWithReport(f.ctx, dup, "writer", "")
	wantKind(t, "CreateProductWithReport with a taken sku", err, domain.KindConflict, "sku")
	_, _, err = creator.CreateProductWithReport(f.ctx, fields(c.ID+1000, "ghost", 100, 1), "writer", "")
	wantKind(t, "CreateProductWithReport with a missing category", err, domain.KindInvalid, "categoryId")
	f.backlog(0)
	page, err := f.s.Products().List(f.ctx, domain.ProductQuery{Limit: 10, Sort: domain.Sort{Field: domain.SortByID}})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Items) != 1 {
		t.Errorf("%d products after two refused creations, want the one made", len(page.Items))
	}
}

func testProductUpdate(f *fixture) {
	t := f.t
	books, games := f.category("books"), f.category("games")
	orig := domain.ProductFields{SKU: ptr("G-1"), Name: "chess", Description: ptr("wooden"), Price: 2500, Stock: 3, CategoryID: books.ID}
	p := f.product(orig)

	changed := domain.ProductFields{SKU: ptr("G-2"), Name: "chess set", Description: ptr("wooden, boxed"),
		Price: 2999, Stock: 4, CategoryID: games.ID}
	start := time.Now()
	v2, err := f.s.Products().Update(f.ctx, p.ID, p.Revision(), changed)
	end := time.Now()
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	checkProductFields(t, "updated product", v2, changed)
	if v2.ID != p.ID || v2.Version != 2 || v2.CategoryName != "games" || v2.CategoryVersion != games.Version {
		t.Fatalf("updated product: id %d version %d category %q at %d, want id %d version 2 category games at %d",
			v2.ID, v2.Version, v2.CategoryName, v2.CategoryVersion, p.ID, games.Version)
	}
	if !sameTime(v2.CreatedAt, p.CreatedAt) {
		t.Fatalf("update changed createdAt from %v to %v", p.CreatedAt, v2.CreatedAt)
	}
	between(t, "updatedAt", v2.UpdatedAt, start, end)
	if v2.UpdatedAt.Before(p.UpdatedAt) {
		t.Fatalf("updatedAt went back from %v to %v", p.UpdatedAt, v2.UpdatedAt)
	}
	got, err := f.s.Products().Get(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", p.ID, err)
	}
	checkProduct(t, "Get after Update", got, v2)

	_, err = f.s.Products().Update(f.ctx, p.ID, p.Revision(), orig)
	wantKind(t, "Update with a stale version", err, domain.KindPrecondition, "")
	_, err = f.s.Products().Update(f.ctx, p.ID+1000, p.Revision(), orig)
	wantKind(t, "Update of a missing product", err, domain.KindNotFound, "")

	// Optional fields can be cleared; every update counts, even one that
	// changes nothing.
	cleared := changed
	cleared.SKU, cleared.Description = nil, nil
	v3, err := f.s.Products().Update(f.ctx, p.ID, v2.Revision(), cleared)
	if err != nil {
		t.Fatalf("Update clearing sku and description: %v", err)
	}
	checkProductFields(t, "cleared product", v3, cleared)
	v4, err := f.s.Products().Update(f.ctx, p.ID, v3.Revision(), cleared)
	if err != nil {
		t.Fatalf("Update changing nothing: %v", err)
	}
	if v3.Version != 3 || v4.Version != 4 {
		t.Fatalf("versions %d, %d, want 3, 4", v3.Version, v4.Version)
	}
}

func testProductDelete(f *fixture) {
	t := f.t
	c := f.category("kitchen")
	p := f.product(fields(c.ID, "kettle", 3000, 2))
	other := f.product(fields(c.ID, "pan", 2000, 2))
	r := f.report(p.ID)
	kept := f.report(other.ID)

	if err := f.s.Products().Delete(f.ctx, p.ID); err != nil {
		t.Fatalf("Delete(%d): %v", p.ID, err)
	}
	_, err := f.s.Products().Get(f.ctx, p.ID)
	wantKind(t, "Get of a deleted product", err, domain.KindNotFound, "")
	wantKind(t, "second Delete", f.s.Products().Delete(f.ctx, p.ID), domain.KindNotFound, "")
	_, err = f.s.Reports().Get(f.ctx, r.ID)
	wantKind(t, "Get of a deleted product's report", err, domain.KindNotFound, "")
	if _, err := f.s.Reports().Get(f.ctx, kept.ID); err != nil {
		t.Fatalf("another product's report is gone: %v", err)
	}
	if _, err := f.s.Products().Get(f.ctx, other.ID); err != nil {
		t.Fatalf("another product is gone: %v", err)
	}
}

func testProductCategoryName(f *fixture) {
	t := f.t
	c := f.category("toys")
	p := f.product(fields(c.ID, "yoyo", 300, 9))
	renamed, err := f.s.Categories().Update(f.ctx, c.ID, c.Version, domain.CategoryFields{Name: "games and toys"})
	if err != nil {
		t.Fatalf("rename category: %v", err)
	}
	// The product's revision moved with its category, its own version did not.
	want := p
	want.CategoryName, want.CategoryVersion = renamed.Name, renamed.Version
	got, err := f.s.Products().Get(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", p.ID, err)
	}
	checkProduct(t, "Get after a category rename", got, want)
	if got.Revision() == p.Revision() {
		t.Fatalf("a category rename left the product's revision at %+v", got.Revision())
	}
	page, err := f.s.Products().List(f.ctx, domain.ProductQuery{Limit: 10, Sort: domain.Sort{Field: domain.SortByID}})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("List after a category rename: %v, want one product", page.Items)
	}
	checkProduct(t, "List after a category rename", page.Items[0], want)

	// An update naming the revision before the rename is refused and
	// changes nothing; one naming the current revision goes through.
	_, err = f.s.Products().Update(f.ctx, p.ID, p.Revision(), fields(c.ID, "yoyo", 300, 8))
	wantKind(t, "Update with the revision before a category rename", err, domain.KindPrecondition, "")
	got, err = f.s.Products().Get(f.ctx, p.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", p.ID, err)
	}
	checkProduct(t, "product after a refused update", got, want)
	v2, err := f.s.Products().Update(f.ctx, p.ID, want.Revision(), fields(c.ID, "yoyo", 300, 8))
	if err != nil {
		t.Fatalf("Update with the current revision: %v", err)
	}
	if v2.Version != 2 || v2.CategoryVersion != renamed.Version || v2.CategoryName != renamed.Name {
		t.Fatalf("updated product %s, want version 2 of category %q at %d", showProduct(v2), renamed.Name, renamed.Version)
	}
}
