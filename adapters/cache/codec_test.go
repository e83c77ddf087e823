package cache

import (
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

func TestProductCodecKeepsTheRevision(t *testing.T) {
	t.Parallel()
	p := domain.Product{ID: 4, Name: "atlas", Price: 4500, Stock: 2, CategoryID: 1, CategoryName: "Books",
		CategoryVersion: 7, Version: 3, CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(2, 0).UTC()}
	b, err := encodeProduct(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeProduct(b)
	if err != nil || got.Revision() != p.Revision() || got.CategoryName != "Books" {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	page, err := encodeProductPage(domain.ProductPage{Items: []domain.Product{p}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decodeProductPage(page); err != nil || len(got.Items) != 1 || got.Items[0].Revision() != p.Revision() {
		t.Fatalf("decoded page %+v, %v", got, err)
	}
}

// An entry written before products carried their category's version is
// not read as version 0 (a tag no request could match) but refused, so the
// cache replaces it like a missing one.
func TestProductCodecRefusesAnEntryWithoutTheCategoryVersion(t *testing.T) {
	t.Parallel()
	old := `{"id":4,"sku":null,"name":"atlas","description":null,"priceCents":4500,"stock":2,"categoryId":1,` +
		`"categoryName":"Books","version":3,"createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}`
	if p, err := decodeProduct([]byte(old)); err == nil {
		t.Fatalf("decoded an entry without categoryVersion as %+v", p)
	}
	if p, err := decodeProductPage([]byte(`{"items":[` + old + `],"next":null}`)); err == nil {
		t.Fatalf("decoded a page without categoryVersion as %+v", p)
	}
}
