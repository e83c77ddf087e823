package postgres_test

import (
	"strings"
	"testing"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// TestLongNamesPage walks a name-sorted list of products with the longest
// names a client may write, handing each nextCursor through its opaque
// form as an HTTP client does.
func TestLongNamesPage(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	cat, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "long"})
	if err != nil {
		t.Fatalf("create category: %v", err)
	}
	names := []string{
		strings.Repeat("<", domain.MaxProductNameLength), // escaped by JSON to six bytes each
		strings.Repeat("😀", domain.MaxProductNameLength), // four bytes each
		strings.Repeat("\x01", domain.MaxProductNameLength),
		strings.Repeat("é", domain.MaxProductNameLength),
	}
	for _, n := range names {
		if _, err := s.Products().Create(ctx, domain.ProductFields{Name: n, Price: 1, CategoryID: cat.ID}); err != nil {
			t.Fatalf("create product: %v", err)
		}
	}
	for _, sortText := range []string{"name", "-name"} {
		sort, _ := domain.ParseSort(sortText)
		q := domain.ProductQuery{Limit: 1, Sort: sort}
		seen := 0
		for {
			page, err := s.Products().List(ctx, q)
			if err != nil {
				t.Fatalf("sort %s, page %d: %v", sortText, seen+1, err)
			}
			seen += len(page.Items)
			if page.Next == nil {
				break
			}
			next, err := domain.DecodeCursor(page.Next.Encode())
			if err != nil {
				t.Fatalf("sort %s, page %d: nextCursor does not decode: %v", sortText, seen, err)
			}
			q.After = &next
		}
		if seen != len(names) {
			t.Errorf("sort %s: walked %d products, want %d", sortText, seen, len(names))
		}
	}
}
