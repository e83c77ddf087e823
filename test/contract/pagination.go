package contract

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/etalase/etalase/domain"
)

// AllSorts is every order a product list accepts.
var AllSorts = func() []domain.Sort {
	var out []domain.Sort
	for _, f := range []domain.SortField{domain.SortByID, domain.SortByName, domain.SortByPrice, domain.SortByCreatedAt} {
		out = append(out, domain.Sort{Field: f}, domain.Sort{Field: f, Desc: true})
	}
	return out
}()

// Order is the specified order of a product list: the sort field, ties
// broken by id, both reversed for a descending sort. It is written apart
// from domain.Sort.Compare, which the memory store pages by, so that a
// mistake there is caught.
func Order(s domain.Sort) func(a, b domain.Product) int {
	return func(a, b domain.Product) int {
		var c int
		switch s.Field {
		case domain.SortByName:
			c = strings.Compare(a.Name, b.Name)
		case domain.SortByPrice:
			c = cmp.Compare(a.Price, b.Price)
		case domain.SortByCreatedAt:
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if s.Desc {
			c = -c
		}
		return c
	}
}

// catalog fills the store with products whose names and prices repeat, so
// every sort has ties, and half of which are created in one transaction,
// so a store that stamps createdAt per transaction has ties there too.
func catalog(f *fixture) (all []domain.Product, cats [2]domain.Category) {
	t := f.t
	cats = [2]domain.Category{f.category("alpha"), f.category("beta")}
	names := []string{"anvil", "bolt", "crank", "anvil", "gear10", "gear2", "bolt", "drill", "anvil"}
	prices := []domain.Price{1999, 0, 100, 1999, domain.MaxPrice, 99, 250000, 1999}
	mk := func(s domain.Store, i int) domain.Product {
		p, err := s.Products().Create(f.ctx, fields(cats[i%2].ID, names[i%len(names)], prices[(i*3)%len(prices)], int64(i)))
		if err != nil {
			t.Fatalf("create product %d: %v", i, err)
		}
		return p
	}
	const n = 23
	for i := 0; i < n/2; i++ {
		all = append(all, mk(f.s, i))
	}
	var inTx []domain.Product
	err := f.s.InTx(f.ctx, func(tx domain.Store) error {
		for i := n / 2; i < n; i++ {
			inTx = append(inTx, mk(tx, i))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	return append(all, inTx...), cats
}

// walk lists every page of q and checks the shape of each page.
func walk(f *fixture, q domain.ProductQuery) []domain.Product {
	t := f.t
	t.Helper()
	var out []domain.Product
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: the pages never end", describe(q))
		}
		page, err := f.s.Products().List(f.ctx, q)
		if err != nil {
			t.Fatalf("%s: List: %v", describe(q), err)
		}
		if len(page.Items) > q.Limit {
			t.Fatalf("%s: page %d has %d items", describe(q), pages, len(page.Items))
		}
		if len(page.Items) == 0 && pages > 0 {
			t.Fatalf("%s: page %d is empty: the page before it should have had no next cursor", describe(q), pages)
		}
		out = append(out, page.Items...)
		if page.Next == nil {
			return out
		}
		if len(page.Items) != q.Limit {
			t.Fatalf("%s: page %d has a next cursor and %d items", describe(q), pages, len(page.Items))
		}
		if page.Next.Sort != q.Sort.String() {
			t.Fatalf("%s: next cursor has sort %q", describe(q), page.Next.Sort)
		}
		q.After = roundTrip(t, *page.Next)
	}
}

func describe(q domain.ProductQuery) string {
	return "sort " + q.Sort.String() + " limit " + itoa(int64(q.Limit)) +
		" category " + itoa(q.CategoryID) + " q \"" + q.Q + "\""
}

// checkList fails unless got holds exactly want, in order, field by field.
func checkList(t *testing.T, what string, got, want []domain.Product) {
	t.Helper()
	ids := func(ps []domain.Product) []int64 {
		out := make([]int64, len(ps))
		for i, p := range ps {
			out[i] = p.ID
		}
		return out
	}
	if !equalIDs(ids(got), ids(want)) {
		t.Fatalf("%s: got ids %v, want %v", what, ids(got), ids(want))
	}
	for i := range got {
		checkProduct(t, what, got[i], want[i])
	}
}

func testProductPagesEverySort(f *fixture) {
	all, _ := catalog(f)
	for _, s := range AllSorts {
		want := slices.Clone(all)
		slices.SortFunc(want, Order(s))
		for _, limit := range []int{1, 5, len(all), domain.MaxPageSize} {
			q := domain.ProductQuery{Limit: limit, Sort: s}
			checkList(f.t, describe(q), walk(f, q), want)
		}
	}
}

func testProductPagesFiltered(f *fixture) {
	all, cats := catalog(f)
	queries := []domain.ProductQuery{
		{CategoryID: cats[0].ID},
		{CategoryID: cats[1].ID, Q: "an"},
		{Q: "GEAR"},
		{Q: "l"},
		{CategoryID: cats[1].ID + 1000},
		{Q: "nothing"},
	}
	for _, base := range queries {
		var want []domain.Product
		for _, p := range all {
			if (base.CategoryID == 0 || p.CategoryID == base.CategoryID) &&
				strings.Contains(p.Name, strings.ToLower(base.Q)) {
				want = append(want, p)
			}
		}
		for _, s := range AllSorts {
			sorted := slices.Clone(want)
			slices.SortFunc(sorted, Order(s))
			q := base
			q.Limit, q.Sort = 2, s
			checkList(f.t, describe(q), walk(f, q), sorted)
		}
	}
}

func testProductSearchLiteral(f *fixture) {
	c := f.category("search")
	names := []string{"50% off", "5 percent", "a_b", "axb", `back\slash`, "Widget", "WIDGET pro", "tiny widget", "wid"}
	byName := map[string]domain.Product{}
	for _, n := range names {
		byName[n] = f.product(fields(c.ID, n, 100, 1))
	}
	cases := []struct {
		q    string
		want []string
	}{
		{"%", []string{"50% off"}},
		{"_", []string{"a_b"}},
		{"a_b", []string{"a_b"}},
		{`\`, []string{`back\slash`}},
		{`k\s`, []string{`back\slash`}},
		{"widget", []string{"Widget", "WIDGET pro", "tiny widget"}},
		{"wIdGeT", []string{"Widget", "WIDGET pro", "tiny widget"}},
		{"ERCEN", []string{"5 percent"}},
		{"nomatch", nil},
	}
	for _, tc := range cases {
		var want []domain.Product
		for _, n := range tc.want {
			want = append(want, byName[n])
		}
		slices.SortFunc(want, Order(domain.Sort{Field: domain.SortByID}))
		q := domain.ProductQuery{Limit: 20, Q: tc.q, Sort: domain.Sort{Field: domain.SortByID}}
		checkList(f.t, describe(q), walk(f, q), want)
	}
}

func testProductCursorAfterDelete(f *fixture) {
	t := f.t
	all, _ := catalog(f)
	for _, s := range AllSorts {
		want := slices.Clone(all)
		slices.SortFunc(want, Order(s))
		q := domain.ProductQuery{Limit: 3, Sort: s}
		page, err := f.s.Products().List(f.ctx, q)
		if err != nil || page.Next == nil {
			t.Fatalf("%s: first page: next %v, err %v", describe(q), page.Next, err)
		}
		// The row the cursor points at goes away; the next page still
		// starts right after where it was.
		gone := page.Items[len(page.Items)-1]
		if err := f.s.Products().Delete(f.ctx, gone.ID); err != nil {
			t.Fatalf("Delete(%d): %v", gone.ID, err)
		}
		q.After = roundTrip(t, *page.Next)
		checkList(t, describe(q)+" after the cursor's row was deleted", walk(f, q), want[3:])
		all = slices.DeleteFunc(all, func(p domain.Product) bool { return p.ID == gone.ID })
	}
}

func testProductListEmpty(f *fixture) {
	for _, s := range AllSorts {
		q := domain.ProductQuery{Limit: 10, Sort: s}
		page, err := f.s.Products().List(f.ctx, q)
		if err != nil {
			f.t.Fatalf("%s: List: %v", describe(q), err)
		}
		if len(page.Items) != 0 || page.Next != nil {
			f.t.Fatalf("%s: empty store lists %d items, next %v", describe(q), len(page.Items), page.Next)
		}
	}
}
