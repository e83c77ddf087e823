package application_test

import (
	"slices"
	"testing"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

func TestCategories(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c, err := w.catalog.CreateCategory(w.ctx, domain.CategoryFields{Name: "  Music \n"})
	if err != nil || c.Name != "Music" || c.Version != 1 {
		t.Fatalf("CreateCategory = %+v, %v; want Music at version 1", c, err)
	}
	_, err = w.catalog.CreateCategory(w.ctx, domain.CategoryFields{Name: "   "})
	wantKind(t, "blank name", err, domain.KindInvalid, "name")
	_, err = w.catalog.CreateCategory(w.ctx, domain.CategoryFields{Name: "MUSIC"})
	wantKind(t, "name taken in another case", err, domain.KindConflict, "name")

	got, err := w.catalog.GetCategory(w.ctx, c.ID)
	if err != nil || got.Name != "Music" {
		t.Fatalf("GetCategory = %+v, %v", got, err)
	}
	_, err = w.catalog.GetCategory(w.ctx, c.ID+100)
	wantKind(t, "missing category", err, domain.KindNotFound)

	renamed, err := w.catalog.PatchCategory(w.ctx, application.PatchCategory{ID: c.ID, Patch: application.CategoryPatch{Name: set(" Records ")}})
	if err != nil || renamed.Name != "Records" || renamed.Version != 2 {
		t.Fatalf("PatchCategory = %+v, %v; want Records at version 2", renamed, err)
	}
	_, err = w.catalog.PatchCategory(w.ctx, application.PatchCategory{ID: c.ID, Patch: application.CategoryPatch{Name: null[string]()}})
	wantKind(t, "null name", err, domain.KindInvalid, "name")
	old := int64(1)
	_, err = w.catalog.PatchCategory(w.ctx, application.PatchCategory{ID: c.ID, IfMatch: &old, Patch: application.CategoryPatch{Name: set("Vinyl")}})
	wantKind(t, "stale If-Match", err, domain.KindPrecondition)
	_, err = w.catalog.PatchCategory(w.ctx, application.PatchCategory{ID: c.ID, Patch: application.CategoryPatch{Name: set("books")}})
	wantKind(t, "rename to a taken name", err, domain.KindConflict, "name")
	_, err = w.catalog.PatchCategory(w.ctx, application.PatchCategory{ID: c.ID + 100, Patch: application.CategoryPatch{Name: set("x")}})
	wantKind(t, "patch of a missing category", err, domain.KindNotFound)

	w.create(application.CreateProduct{RequestedBy: "alice", Fields: w.fields("atlas")})
	wantKind(t, "delete of a category in use", w.catalog.DeleteCategory(w.ctx, w.books.ID), domain.KindConflict)
	if err := w.catalog.DeleteCategory(w.ctx, c.ID); err != nil {
		t.Fatalf("DeleteCategory of an empty category: %v", err)
	}

	var names []string
	q := domain.CategoryQuery{Limit: 1}
	for {
		page, err := w.catalog.ListCategories(w.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			names = append(names, c.Name)
		}
		if page.Next == nil {
			break
		}
		q.After = page.Next
	}
	if !slices.Equal(names, []string{"Books", "Games"}) {
		t.Fatalf("ListCategories walked %v, want [Books Games]", names)
	}
	_, err = w.catalog.ListCategories(w.ctx, domain.CategoryQuery{Limit: 101})
	wantKind(t, "limit 101", err, domain.KindInvalid, "limit")
}
