package application_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

func set[T any](v T) application.Field[T] { return application.Field[T]{Set: true, Value: v} }

func null[T any]() application.Field[T] { return application.Field[T]{Set: true, Null: true} }

func (w *world) seed() domain.Product {
	w.t.Helper()
	return w.create(application.CreateProduct{RequestedBy: "alice", Fields: domain.ProductFields{
		SKU: str("S-1"), Name: "atlas", Description: str("maps"), Price: 1000, Stock: 2, CategoryID: w.books.ID}}).Product
}

func TestPatchProductMerges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		patch func(w *world) application.ProductPatch
		want  func(w *world, p domain.ProductFields) domain.ProductFields
	}{
		{"name only", func(*world) application.ProductPatch {
			return application.ProductPatch{Name: set("atlas of the world")}
		}, func(_ *world, p domain.ProductFields) domain.ProductFields { p.Name = "atlas of the world"; return p }},
		{"name is trimmed", func(*world) application.ProductPatch {
			return application.ProductPatch{Name: set("  globe\t")}
		}, func(_ *world, p domain.ProductFields) domain.ProductFields { p.Name = "globe"; return p }},
		{"sku null clears it", func(*world) application.ProductPatch {
			return application.ProductPatch{SKU: null[string]()}
		}, func(_ *world, p domain.ProductFields) domain.ProductFields { p.SKU = nil; return p }},
		{"description null, price and stock set", func(*world) application.ProductPatch {
			return application.ProductPatch{Description: null[string](), Price: set(domain.Price(2550)), Stock: set(int64(0))}
		}, func(_ *world, p domain.ProductFields) domain.ProductFields {
			p.Description, p.Price, p.Stock = nil, 2550, 0
			return p
		}},
		{"move to another category", func(w *world) application.ProductPatch {
			return application.ProductPatch{CategoryID: set(w.games.ID)}
		}, func(w *world, p domain.ProductFields) domain.ProductFields { p.CategoryID = w.games.ID; return p }},
		{"new sku and description", func(*world) application.ProductPatch {
			return application.ProductPatch{SKU: set("S-2"), Description: set("")}
		}, func(_ *world, p domain.ProductFields) domain.ProductFields {
			p.SKU, p.Description = str("S-2"), str("")
			return p
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			p := w.seed()
			got, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, Patch: tc.patch(w)})
			if err != nil {
				t.Fatalf("PatchProduct: %v", err)
			}
			want := tc.want(w, p.Fields())
			if !sameFields(got.Fields(), want) || got.Version != 2 || got.ID != p.ID {
				t.Fatalf("patched %+v, want fields %+v at version 2", got, want)
			}
			stored, err := w.catalog.GetProduct(w.ctx, p.ID)
			if err != nil || !sameFields(stored.Fields(), want) {
				t.Fatalf("stored %+v, %v; want fields %+v", stored, err, want)
			}
			if wantCat := map[int64]string{w.books.ID: "Books", w.games.ID: "Games"}[want.CategoryID]; got.CategoryName != wantCat {
				t.Fatalf("category name %q, want %q", got.CategoryName, wantCat)
			}
		})
	}
}

func sameFields(a, b domain.ProductFields) bool {
	eq := func(x, y *string) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	return eq(a.SKU, b.SKU) && eq(a.Description, b.Description) && a.Name == b.Name &&
		a.Price == b.Price && a.Stock == b.Stock && a.CategoryID == b.CategoryID
}

func TestPatchProductRejects(t *testing.T) {
	t.Parallel()
	stale := domain.ProductRevision{Version: 7, CategoryVersion: 1}
	staleCategory := domain.ProductRevision{Version: 1, CategoryVersion: 2}
	cases := []struct {
		name    string
		id      func(p domain.Product) int64
		ifMatch *domain.ProductRevision
		patch   func(w *world) application.ProductPatch
		kind    domain.Kind
		fields  []string
	}{
		{"null on every required field", nil, nil, func(*world) application.ProductPatch {
			return application.ProductPatch{Name: null[string](), Price: null[domain.Price](), Stock: null[int64](), CategoryID: null[int64]()}
		}, domain.KindInvalid, []string{"name", "price", "stock", "categoryId"}},
		{"bad values", nil, nil, func(*world) application.ProductPatch {
			return application.ProductPatch{Name: set("  "), Price: set(domain.Price(-1)), SKU: set("a b")}
		}, domain.KindInvalid, []string{"sku", "name", "price"}},
		{"unknown category", nil, nil, func(w *world) application.ProductPatch {
			return application.ProductPatch{CategoryID: set(w.games.ID + 100)}
		}, domain.KindInvalid, []string{"categoryId"}},
		{"taken sku", nil, nil, func(*world) application.ProductPatch {
			return application.ProductPatch{SKU: set("OTHER")}
		}, domain.KindConflict, []string{"sku"}},
		{"stale If-Match", nil, &stale, func(*world) application.ProductPatch {
			return application.ProductPatch{Name: set("x")}
		}, domain.KindPrecondition, nil},
		{"If-Match of another category version", nil, &staleCategory, func(*world) application.ProductPatch {
			return application.ProductPatch{Name: set("x")}
		}, domain.KindPrecondition, nil},
		{"missing product", func(p domain.Product) int64 { return p.ID + 100 }, nil, func(*world) application.ProductPatch {
			return application.ProductPatch{Name: set("x")}
		}, domain.KindNotFound, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			p := w.seed()
			other := w.fields("other")
			other.SKU = str("OTHER")
			w.create(application.CreateProduct{RequestedBy: "alice", Fields: other})
			id := p.ID
			if tc.id != nil {
				id = tc.id(p)
			}
			_, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: id, IfMatch: tc.ifMatch, Patch: tc.patch(w)})
			wantKind(t, "PatchProduct", err, tc.kind, tc.fields...)
			stored, err := w.catalog.GetProduct(w.ctx, p.ID)
			if err != nil || stored.Version != 1 || !sameFields(stored.Fields(), p.Fields()) {
				t.Fatalf("after a refused patch the product is %+v, %v; want it unchanged", stored, err)
			}
		})
	}
}

func TestPatchProductIfMatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.seed()
	v := p.Revision()
	got, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, IfMatch: &v, Patch: application.ProductPatch{Stock: set(int64(5))}})
	if err != nil || got.Version != 2 || got.Stock != 5 {
		t.Fatalf("patch with the current If-Match: %+v, %v", got, err)
	}
	_, err = w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, IfMatch: &v, Patch: application.ProductPatch{Stock: set(int64(6))}})
	wantKind(t, "patch with the old If-Match", err, domain.KindPrecondition)
}

func TestPatchProductIfMatchAfterACategoryRename(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.seed()
	if _, err := w.catalog.PatchCategory(w.ctx, application.PatchCategory{ID: p.CategoryID,
		Patch: application.CategoryPatch{Name: set("Novels")}}); err != nil {
		t.Fatal(err)
	}
	old := p.Revision()
	_, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, IfMatch: &old, Patch: application.ProductPatch{Stock: set(int64(5))}})
	wantKind(t, "patch with the revision before the rename", err, domain.KindPrecondition)
	cur, err := w.catalog.GetProduct(w.ctx, p.ID)
	if err != nil || cur.Version != p.Version || cur.CategoryName != "Novels" || cur.Revision() == old {
		t.Fatalf("after the rename the product is %+v, %v", cur, err)
	}
	now := cur.Revision()
	got, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, IfMatch: &now, Patch: application.ProductPatch{Stock: set(int64(5))}})
	if err != nil || got.Stock != 5 || got.CategoryName != "Novels" {
		t.Fatalf("patch with the current revision: %+v, %v", got, err)
	}
}

// racingStore lets another writer change the product between the
// catalog's read and its write, on the first races reads.
type racingStore struct {
	domain.Store
	races *atomic.Int32
	bump  func(ctx context.Context, p domain.Product)
}

func (s racingStore) Products() domain.ProductRepository {
	return racingProducts{s.Store.Products(), s}
}

type racingProducts struct {
	domain.ProductRepository
	s racingStore
}

func (r racingProducts) Get(ctx context.Context, id int64) (domain.Product, error) {
	p, err := r.ProductRepository.Get(ctx, id)
	if err == nil && r.s.races.Add(-1) >= 0 {
		r.s.bump(ctx, p)
	}
	return p, err
}

// newRacingWorld returns a world whose product reads are each followed by
// a concurrent stock increment, races times.
func newRacingWorld(t *testing.T, races int32) *world {
	return newRacingWorldBy(t, races, func(ctx context.Context, s domain.Store, p domain.Product) error {
		f := p.Fields()
		f.Stock++
		_, err := s.Products().Update(ctx, p.ID, p.Revision(), f)
		return err
	})
}

// newRenamingWorld returns a world whose product reads are each followed
// by a concurrent rename of the product's category, races times.
func newRenamingWorld(t *testing.T, races int32) *world {
	return newRacingWorldBy(t, races, func(ctx context.Context, s domain.Store, p domain.Product) error {
		c, err := s.Categories().Get(ctx, p.CategoryID)
		if err != nil {
			return err
		}
		_, err = s.Categories().Update(ctx, c.ID, c.Version, domain.CategoryFields{Name: c.Name + "+"})
		return err
	})
}

func newRacingWorldBy(t *testing.T, races int32, race func(context.Context, domain.Store, domain.Product) error) *world {
	var n atomic.Int32
	n.Store(races)
	var w *world
	w = newWorldOver(t, func(s domain.Store) domain.Store {
		return racingStore{Store: s, races: &n, bump: func(ctx context.Context, p domain.Product) {
			if err := race(ctx, s, p); err != nil {
				w.t.Errorf("concurrent write: %v", err)
			}
		}}
	})
	n.Store(0)
	w.seed()
	n.Store(races)
	return w
}

func TestPatchProductRetriesAConcurrentUpdate(t *testing.T) {
	t.Parallel()
	w := newRacingWorld(t, 1)
	p := w.products()[0]
	got, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, Patch: application.ProductPatch{Name: set("globe")}})
	if err != nil {
		t.Fatalf("PatchProduct without If-Match after a lost race: %v", err)
	}
	if got.Name != "globe" || got.Stock != p.Stock+1 || got.Version != p.Version+2 {
		t.Fatalf("patched %+v; want the patch applied over the concurrent change (stock %d, version %d)",
			got, p.Stock+1, p.Version+2)
	}
}

func TestPatchProductIfMatchLosesARace(t *testing.T) {
	t.Parallel()
	w := newRacingWorld(t, 1)
	p := w.products()[0]
	v := p.Revision()
	_, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, IfMatch: &v, Patch: application.ProductPatch{Name: set("globe")}})
	wantKind(t, "PatchProduct with If-Match after a lost race", err, domain.KindPrecondition)
}

// A rename of the category between the catalog's read and its write fails
// the write's own check: the catalog's earlier comparison cannot see it.
func TestPatchProductIfMatchLosesARaceToACategoryRename(t *testing.T) {
	t.Parallel()
	w := newRenamingWorld(t, 1)
	p := w.products()[0]
	v := p.Revision()
	_, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, IfMatch: &v, Patch: application.ProductPatch{Name: set("globe")}})
	wantKind(t, "PatchProduct with If-Match after a category rename in the race window", err, domain.KindPrecondition)
	got := w.products()[0]
	if got.Name != p.Name || got.Version != p.Version || got.CategoryName != p.CategoryName+"+" {
		t.Fatalf("after the refused patch the product is %+v", got)
	}
}

func TestPatchProductRetriesAfterACategoryRename(t *testing.T) {
	t.Parallel()
	w := newRenamingWorld(t, 1)
	p := w.products()[0]
	got, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, Patch: application.ProductPatch{Name: set("globe")}})
	if err != nil || got.Name != "globe" || got.CategoryName != p.CategoryName+"+" || got.CategoryVersion != p.CategoryVersion+1 {
		t.Fatalf("PatchProduct without If-Match after a rename in the race window: %+v, %v", got, err)
	}
}

func TestPatchProductGivesUpOnEndlessRaces(t *testing.T) {
	t.Parallel()
	w := newRacingWorld(t, 1000)
	p := w.products()[0]
	_, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: p.ID, Patch: application.ProductPatch{Name: set("globe")}})
	wantKind(t, "PatchProduct that always loses", err, domain.KindPrecondition)
}
