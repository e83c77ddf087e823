package cache

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/etalase/etalase/domain"
)

// Prefix starts every key etalase writes to the cache.
const Prefix = "etalase:"

// The generations. An entry depends on a few of them; a write bumps the
// ones its change can be seen through. The category names generation exists
// because every product carries its category's name.
const (
	genProducts      = Prefix + "gen:products"
	genCategories    = Prefix + "gen:categories"
	genCategoryNames = Prefix + "gen:category-names"
)

func genProduct(id int64) string  { return Prefix + "gen:product:" + strconv.FormatInt(id, 10) }
func genCategory(id int64) string { return Prefix + "gen:category:" + strconv.FormatInt(id, 10) }

// productDeps are the generations one product's entries depend on.
func productDeps(id int64) []string { return []string{genProduct(id), genCategoryNames} }

// productListDeps are the generations every product list depends on.
func productListDeps() []string { return []string{genProducts, genCategoryNames} }

// categoryDeps are the generations one category's entries depend on.
func categoryDeps(id int64) []string { return []string{genCategory(id)} }

// categoryListDeps are the generations every category list depends on.
func categoryListDeps() []string { return []string{genCategories} }

// productWritten lists what a write of product id retires: the item and
// every list (id 0: a create that failed, only the lists).
func productWritten(id int64) []string {
	if id <= 0 {
		return []string{genProducts}
	}
	return []string{genProduct(id), genProducts}
}

// categoryWritten lists what a write of category id retires: the item, the
// category lists, and every product entry, which embed category names.
func categoryWritten(id int64) []string {
	if id <= 0 {
		return []string{genCategories}
	}
	return []string{genCategory(id), genCategories, genCategoryNames}
}

func productKey(id int64) string  { return Prefix + "product:" + strconv.FormatInt(id, 10) }
func categoryKey(id int64) string { return Prefix + "category:" + strconv.FormatInt(id, 10) }

// productListKey names one list variant by every input of the query, in a
// fixed order, so equal queries share an entry.
func productListKey(q domain.ProductQuery) string {
	v := url.Values{}
	v.Set("limit", strconv.Itoa(q.Limit))
	v.Set("sort", q.Sort.String())
	if q.After != nil {
		v.Set("after", q.After.Encode())
	}
	if q.CategoryID != 0 {
		v.Set("categoryId", strconv.FormatInt(q.CategoryID, 10))
	}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	return Prefix + "products:" + v.Encode()
}

func categoryListKey(q domain.CategoryQuery) string {
	v := url.Values{}
	v.Set("limit", strconv.Itoa(q.Limit))
	if q.After != nil {
		v.Set("after", q.After.Encode())
	}
	return Prefix + "categories:" + v.Encode()
}

// leaseKey names the claim on loading key at stamp: a loader of another
// stamp (before or after a write) claims another lease.
func leaseKey(key, stamp string) string {
	return Prefix + "lease:" + strings.TrimPrefix(key, Prefix) + "@" + stamp
}

// responseKey names a cached HTTP response by the path that renders its
// view and, when there is one, the variant's query: "etalase:http:/products/1",
// "etalase:http:/products?limit=5".
func responseKey(v domain.View) string {
	k := Prefix + "http:/" + string(v.Resource)
	if v.ID > 0 {
		k += "/" + strconv.FormatInt(v.ID, 10)
	}
	if v.Variant != "" {
		k += "?" + v.Variant
	}
	return k
}

// viewDeps says which generations a view depends on; ok is false for a
// view the response store does not serve.
func viewDeps(v domain.View) (deps []string, ok bool) {
	switch {
	case v.ID < 0:
		return nil, false
	case v.Resource == domain.ResourceProducts && v.ID == 0:
		return productListDeps(), true
	case v.Resource == domain.ResourceProducts:
		return productDeps(v.ID), true
	case v.Resource == domain.ResourceCategories && v.ID == 0:
		return categoryListDeps(), true
	case v.Resource == domain.ResourceCategories:
		return categoryDeps(v.ID), true
	}
	return nil, false
}
