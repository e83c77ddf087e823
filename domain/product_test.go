package domain_test

import (
	"strings"
	"testing"

	"github.com/etalase/etalase/domain"
)

func str(s string) *string { return &s }

func validFields() domain.ProductFields {
	return domain.ProductFields{SKU: str("BK-0042"), Name: "Go in Action", Description: str("a book"),
		Price: 1999, Stock: 7, CategoryID: 1}
}

func TestProductFieldsValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		edit   func(f *domain.ProductFields)
		fields []string
	}{
		{"valid", func(*domain.ProductFields) {}, nil},
		{"no sku, no description", func(f *domain.ProductFields) { f.SKU, f.Description = nil, nil }, nil},
		{"empty description", func(f *domain.ProductFields) { f.Description = str("") }, nil},
		{"limits", func(f *domain.ProductFields) {
			f.SKU = str(strings.Repeat("a", domain.MaxSKULength))
			f.Name = strings.Repeat("é", domain.MaxProductNameLength)
			f.Description = str(strings.Repeat("日", domain.MaxDescriptionLength))
			f.Price, f.Stock = domain.MaxPrice, domain.MaxStock
		}, nil},
		{"zero price and stock", func(f *domain.ProductFields) { f.Price, f.Stock = 0, 0 }, nil},
		{"sku of every allowed character", func(f *domain.ProductFields) { f.SKU = str("Az09._-") }, nil},
		{"empty sku", func(f *domain.ProductFields) { f.SKU = str("") }, []string{"sku"}},
		{"long sku", func(f *domain.ProductFields) { f.SKU = str(strings.Repeat("a", 65)) }, []string{"sku"}},
		{"sku with a space", func(f *domain.ProductFields) { f.SKU = str("BK 1") }, []string{"sku"}},
		{"sku with a letter outside ASCII", func(f *domain.ProductFields) { f.SKU = str("BÉ-1") }, []string{"sku"}},
		{"sku with a slash", func(f *domain.ProductFields) { f.SKU = str("BK/1") }, []string{"sku"}},
		{"empty name", func(f *domain.ProductFields) { f.Name = "" }, []string{"name"}},
		{"long name", func(f *domain.ProductFields) { f.Name = strings.Repeat("é", 201) }, []string{"name"}},
		{"name not UTF-8", func(f *domain.ProductFields) { f.Name = "bad \xff" }, []string{"name"}},
		{"name with NUL", func(f *domain.ProductFields) { f.Name = "a\x00b" }, []string{"name"}},
		{"long description", func(f *domain.ProductFields) { f.Description = str(strings.Repeat("x", 2001)) }, []string{"description"}},
		{"description not UTF-8", func(f *domain.ProductFields) { f.Description = str("\xc3") }, []string{"description"}},
		{"negative price", func(f *domain.ProductFields) { f.Price = -1 }, []string{"price"}},
		{"price over the maximum", func(f *domain.ProductFields) { f.Price = domain.MaxPrice + 1 }, []string{"price"}},
		{"negative stock", func(f *domain.ProductFields) { f.Stock = -1 }, []string{"stock"}},
		{"stock over the maximum", func(f *domain.ProductFields) { f.Stock = domain.MaxStock + 1 }, []string{"stock"}},
		{"no category", func(f *domain.ProductFields) { f.CategoryID = 0 }, []string{"categoryId"}},
		{"negative category", func(f *domain.ProductFields) { f.CategoryID = -3 }, []string{"categoryId"}},
		{"everything wrong", func(f *domain.ProductFields) {
			*f = domain.ProductFields{SKU: str("?"), Name: "", Description: str(strings.Repeat("x", 2001)),
				Price: -5, Stock: -5, CategoryID: 0}
		}, []string{"sku", "name", "description", "price", "stock", "categoryId"}},
	}
	for _, tc := range cases {
		f := validFields()
		tc.edit(&f)
		checkFields(t, tc.name, f.Validate(), tc.fields)
	}
}

func TestProductFieldsNormalize(t *testing.T) {
	t.Parallel()
	in := domain.ProductFields{SKU: str("  BK-1\t"), Name: "\n Go in Action \u00a0", Description: str("  "),
		Price: 5, Stock: 2, CategoryID: 3}
	got := in.Normalize()
	if *got.SKU != "BK-1" || got.Name != "Go in Action" || *got.Description != "" ||
		got.Price != 5 || got.Stock != 2 || got.CategoryID != 3 {
		t.Fatalf("Normalize = %+v (sku %q, description %q)", got, *got.SKU, *got.Description)
	}
	if *in.SKU != "  BK-1\t" || *in.Description != "  " {
		t.Fatalf("Normalize changed its input's strings: sku %q, description %q", *in.SKU, *in.Description)
	}
	if n := (domain.ProductFields{Name: " x "}).Normalize(); n.SKU != nil || n.Description != nil {
		t.Fatalf("Normalize made absent fields present: %+v", n)
	}
	// A name of only spaces becomes empty, which Validate then refuses.
	checkFields(t, "blank name", domain.ProductFields{Name: "   ", CategoryID: 1}.Normalize().Validate(), []string{"name"})
}

func TestProductFieldsRoundTrip(t *testing.T) {
	t.Parallel()
	f := validFields()
	p := domain.Product{ID: 1, SKU: f.SKU, Name: f.Name, Description: f.Description, Price: f.Price,
		Stock: f.Stock, CategoryID: f.CategoryID, CategoryName: "Books", Version: 3}
	if got := p.Fields(); got != f {
		t.Fatalf("Product.Fields() = %+v, want %+v", got, f)
	}
}

func TestCategoryFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		in     string
		want   string
		fields []string
	}{
		{"plain", "Books", "Books", nil},
		{"trimmed", "  Books \t", "Books", nil},
		{"longest", strings.Repeat("ü", 100), strings.Repeat("ü", 100), nil},
		{"blank", "   ", "", []string{"name"}},
		{"too long", strings.Repeat("a", 101), strings.Repeat("a", 101), []string{"name"}},
		{"not UTF-8", "\xffBooks", "\xffBooks", []string{"name"}},
	}
	for _, tc := range cases {
		f := domain.CategoryFields{Name: tc.in}.Normalize()
		if f.Name != tc.want {
			t.Errorf("%s: Normalize gives %q, want %q", tc.name, f.Name, tc.want)
		}
		checkFields(t, tc.name, f.Validate(), tc.fields)
	}
}
