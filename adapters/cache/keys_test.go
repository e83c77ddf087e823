package cache

import (
	"slices"
	"testing"

	"github.com/etalase/etalase/domain"
)

func TestStampAndEnvelope(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		stored    []byte
		stamp     string
		wantValue string
		wantOK    bool
	}{
		{"current", wrap("e3/10.20", []byte(`{"id":1}`)), "e3/10.20", `{"id":1}`, true},
		{"older generation", wrap("e3/10.19", []byte(`{"id":1}`)), "e3/10.20", "", false},
		{"older epoch", wrap("e2/10.20", []byte(`{"id":1}`)), "e3/10.20", "", false},
		{"stamp is a prefix of the stored one", wrap("e3/10.200", []byte(`{}`)), "e3/10.20", "", false},
		{"nothing stored", nil, "e3/10.20", "", false},
		{"not an envelope", []byte(`{"id":1}`), "e3/10.20", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, ok := unwrap(tc.stored, tc.stamp)
			if ok != tc.wantOK || string(v) != tc.wantValue {
				t.Fatalf("unwrap = %q, %v; want %q, %v", v, ok, tc.wantValue, tc.wantOK)
			}
		})
	}
	if got := stamp("a1b2-4000", 7, []int64{1764000000000001, 2}); got != "a1b2-4000.e7/1764000000000001.2" {
		t.Fatalf("stamp = %q", got)
	}
}

func TestViewDeps(t *testing.T) {
	t.Parallel()
	cases := []struct {
		view domain.View
		want []string
	}{
		{domain.View{Resource: domain.ResourceProducts, Variant: "limit=5"}, productListDeps()},
		{domain.View{Resource: domain.ResourceProducts, ID: 42}, productDeps(42)},
		{domain.View{Resource: domain.ResourceCategories}, categoryListDeps()},
		{domain.View{Resource: domain.ResourceCategories, ID: 7}, categoryDeps(7)},
		{domain.View{Resource: domain.ResourceProducts, ID: -1}, nil},
		{domain.View{Resource: "reports", ID: 1}, nil},
	}
	for _, tc := range cases {
		got, ok := viewDeps(tc.view)
		if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
			t.Errorf("viewDeps(%+v) = %v, %v; want %v", tc.view, got, ok, tc.want)
		}
	}
	for view, want := range map[domain.View]string{
		{Resource: domain.ResourceProducts, ID: 1}:                      Prefix + "http:/products/1",
		{Resource: domain.ResourceProducts, Variant: "limit=5&sort=id"}: Prefix + "http:/products?limit=5&sort=id",
		{Resource: domain.ResourceCategories}:                           Prefix + "http:/categories",
	} {
		if got := responseKey(view); got != want {
			t.Errorf("responseKey(%+v) = %q, want %q", view, got, want)
		}
	}
}

// TestWritesRetireWhatDependsOnThem checks the key scheme's promise: every
// generation an entry depends on is bumped by the writes that change it.
func TestWritesRetireWhatDependsOnThem(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		written []string
		entry   []string
	}{
		{"product write retires its item", productWritten(5), productDeps(5)},
		{"product write retires product lists", productWritten(5), productListDeps()},
		{"failed product create retires product lists", productWritten(0), productListDeps()},
		{"category write retires its item", categoryWritten(3), categoryDeps(3)},
		{"category write retires category lists", categoryWritten(3), categoryListDeps()},
		{"category write retires product items (names)", categoryWritten(3), productDeps(9)},
		{"category write retires product lists (names)", categoryWritten(3), productListDeps()},
	}
	for _, tc := range cases {
		hit := false
		for _, g := range tc.written {
			hit = hit || slices.Contains(tc.entry, g)
		}
		if !hit {
			t.Errorf("%s: writes bump %v, the entry depends on %v", tc.name, tc.written, tc.entry)
		}
	}
}

func TestListKeysNameEveryInput(t *testing.T) {
	t.Parallel()
	after := &domain.Cursor{Sort: "-price", Key: "10.00", ID: 3}
	base := domain.ProductQuery{Limit: 20, Sort: domain.Sort{Field: domain.SortByPrice, Desc: true}}
	variants := []domain.ProductQuery{base}
	for _, mod := range []func(q *domain.ProductQuery){
		func(q *domain.ProductQuery) { q.Limit = 21 },
		func(q *domain.ProductQuery) { q.After = after },
		func(q *domain.ProductQuery) { q.CategoryID = 2 },
		func(q *domain.ProductQuery) { q.Q = "go" },
		func(q *domain.ProductQuery) { q.Sort.Desc = false },
	} {
		q := base
		mod(&q)
		variants = append(variants, q)
	}
	seen := map[string]bool{}
	for _, q := range variants {
		k := productListKey(q)
		if seen[k] {
			t.Errorf("two different queries share the key %q", k)
		}
		seen[k] = true
	}
	same := base
	same.After = &domain.Cursor{Sort: after.Sort, Key: after.Key, ID: after.ID}
	withAfter := base
	withAfter.After = after
	if productListKey(same) != productListKey(withAfter) {
		t.Errorf("equal queries have different keys")
	}
}
