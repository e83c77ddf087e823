package contract

import (
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

func testCategoryCreateGet(f *fixture) {
	t := f.t
	start := time.Now()
	c := f.category("Books")
	end := time.Now()
	if c.ID <= 0 || c.Name != "Books" || c.Version != 1 {
		t.Fatalf("created category %+v, want a positive id, name Books, version 1", c)
	}
	between(t, "createdAt", c.CreatedAt, start, end)
	if !sameTime(c.UpdatedAt, c.CreatedAt) {
		t.Fatalf("new category: updatedAt %v differs from createdAt %v", c.UpdatedAt, c.CreatedAt)
	}
	got, err := f.s.Categories().Get(f.ctx, c.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", c.ID, err)
	}
	checkCategory(t, "Get after Create", got, c)
	_, err = f.s.Categories().Get(f.ctx, c.ID+1000)
	wantKind(t, "Get of a missing category", err, domain.KindNotFound, "")
}

func checkCategory(t *testing.T, what string, got, want domain.Category) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.Version != want.Version ||
		!sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

func testCategoryNameUnique(f *fixture) {
	t := f.t
	books := f.category("Books")
	_, err := f.s.Categories().Create(f.ctx, domain.CategoryFields{Name: "bOOKS"})
	wantKind(t, "Create with a name taken in another case", err, domain.KindConflict, "name")
	music := f.category("Music")
	_, err = f.s.Categories().Update(f.ctx, music.ID, music.Version, domain.CategoryFields{Name: "BOOKS"})
	wantKind(t, "Update to a name taken in another case", err, domain.KindConflict, "name")

	// A category may change the case of its own name.
	got, err := f.s.Categories().Update(f.ctx, books.ID, books.Version, domain.CategoryFields{Name: "BOOKS"})
	if err != nil {
		t.Fatalf("Update of its own name's case: %v", err)
	}
	if got.Name != "BOOKS" || got.Version != 2 {
		t.Fatalf("renamed category %+v, want name BOOKS version 2", got)
	}
}

func testCategoryUpdate(f *fixture) {
	t := f.t
	c := f.category("Garden")
	start := time.Now()
	v2, err := f.s.Categories().Update(f.ctx, c.ID, 1, domain.CategoryFields{Name: "Garden and patio"})
	end := time.Now()
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if v2.ID != c.ID || v2.Name != "Garden and patio" || v2.Version != 2 || !sameTime(v2.CreatedAt, c.CreatedAt) {
		t.Fatalf("updated category %+v, want id %d name %q version 2 createdAt %v", v2, c.ID, "Garden and patio", c.CreatedAt)
	}
	between(t, "updatedAt", v2.UpdatedAt, start, end)
	got, err := f.s.Categories().Get(f.ctx, c.ID)
	if err != nil {
		t.Fatalf("Get(%d): %v", c.ID, err)
	}
	checkCategory(t, "Get after Update", got, v2)
	_, err = f.s.Categories().Update(f.ctx, c.ID, 1, domain.CategoryFields{Name: "Yard"})
	wantKind(t, "Update with a stale version", err, domain.KindPrecondition, "")
	_, err = f.s.Categories().Update(f.ctx, c.ID+1000, 1, domain.CategoryFields{Name: "Yard"})
	wantKind(t, "Update of a missing category", err, domain.KindNotFound, "")
}

func testCategoryDelete(f *fixture) {
	t := f.t
	used, empty := f.category("Used"), f.category("Empty")
	p := f.product(fields(used.ID, "thing", 100, 1))
	wantKind(t, "Delete of a category in use", f.s.Categories().Delete(f.ctx, used.ID), domain.KindConflict, "")
	if _, err := f.s.Categories().Get(f.ctx, used.ID); err != nil {
		t.Fatalf("a category in use was deleted: %v", err)
	}
	if err := f.s.Categories().Delete(f.ctx, empty.ID); err != nil {
		t.Fatalf("Delete of an empty category: %v", err)
	}
	_, err := f.s.Categories().Get(f.ctx, empty.ID)
	wantKind(t, "Get of a deleted category", err, domain.KindNotFound, "")
	wantKind(t, "second Delete", f.s.Categories().Delete(f.ctx, empty.ID), domain.KindNotFound, "")

	if err := f.s.Products().Delete(f.ctx, p.ID); err != nil {
		t.Fatalf("Delete(%d): %v", p.ID, err)
	}
	if err := f.s.Categories().Delete(f.ctx, used.ID); err != nil {
		t.Fatalf("Delete of a category no longer in use: %v", err)
	}
}

func testCategoryPages(f *fixture) {
	t := f.t
	empty, err := f.s.Categories().List(f.ctx, domain.CategoryQuery{Limit: 10})
	if err != nil || len(empty.Items) != 0 || empty.Next != nil {
		t.Fatalf("List of no categories: %d items, next %v, err %v", len(empty.Items), empty.Next, err)
	}
	var want []int64
	for _, name := range []string{"a", "b", "c", "d", "e", "f", strings.Repeat("ü", domain.MaxCategoryNameLength)} {
		want = append(want, f.category(name).ID)
	}
	for _, limit := range []int{1, 3, 7, 100} {
		var got []int64
		q := domain.CategoryQuery{Limit: limit}
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatalf("limit %d: more pages than categories", limit)
			}
			page, err := f.s.Categories().List(f.ctx, q)
			if err != nil {
				t.Fatalf("limit %d: List: %v", limit, err)
			}
			if len(page.Items) == 0 || len(page.Items) > limit {
				t.Fatalf("limit %d: page %d has %d items", limit, pages, len(page.Items))
			}
			for _, c := range page.Items {
				got = append(got, c.ID)
			}
			if page.Next == nil {
				break
			}
			if len(page.Items) != limit {
				t.Fatalf("limit %d: a page with a next cursor has %d items", limit, len(page.Items))
			}
			q.After = roundTrip(t, *page.Next)
		}
		if !equalIDs(got, want) {
			t.Fatalf("limit %d: walked %v, want %v", limit, got, want)
		}
	}
}

// roundTrip passes a cursor through its opaque form, as a client does.
func roundTrip(t *testing.T, c domain.Cursor) *domain.Cursor {
	t.Helper()
	d, err := domain.DecodeCursor(c.Encode())
	if err != nil {
		t.Fatalf("the store's cursor %+v does not survive encoding: %v", c, err)
	}
	return &d
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
