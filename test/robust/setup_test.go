package robust

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/etalase/etalase/test/apiclient"
)

// call sends one well-formed request and decodes a JSON answer into out.
// Writes carry the writer's key; reads go without one.
func call(t *testing.T, method, url string, body any, out any) (int, http.Header) {
	t.Helper()
	c := &apiclient.Client{HTTP: &http.Client{Timeout: 10 * time.Second}}
	if method != http.MethodGet {
		c.Token = apiKey
	}
	r, err := c.Do(method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if out != nil && r.Status < 300 {
		if err := r.Decode(out); err != nil {
			t.Fatalf("%s %s: %d with a body that is not the expected JSON: %v", method, url, r.Status, err)
		}
	}
	return r.Status, r.Header
}

type productJSON struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Price      string `json:"price"`
	Stock      int64  `json:"stock"`
	CategoryID int64  `json:"categoryId"`
	Version    int64  `json:"version"`
}

// setUp creates the category and products the storm aims at.
func setUp(t *testing.T, addr string) *fixture {
	t.Helper()
	base := "http://" + addr
	var cat struct {
		ID int64 `json:"id"`
	}
	if code, _ := call(t, "POST", base+"/categories", map[string]any{"name": "Robust"}, &cat); code != http.StatusCreated {
		t.Fatalf("create category: status %d, want 201", code)
	}
	f := &fixture{apiKey: apiKey, categoryID: cat.ID, versions: map[int64]int64{}}
	for i := range 5 {
		var p productJSON
		body := map[string]any{"name": fmt.Sprintf("seed %d", i), "price": "9.99", "stock": i, "categoryId": cat.ID}
		if code, _ := call(t, "POST", base+"/products", body, &p); code != http.StatusCreated {
			t.Fatalf("create product: status %d, want 201", code)
		}
		f.productIDs = append(f.productIDs, p.ID)
		f.versions[p.ID] = p.Version
	}
	return f
}

// afterStorm checks that the process still serves and still works.
func afterStorm(t *testing.T, addr string, f *fixture) {
	t.Helper()
	base := "http://" + addr
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := call(t, "GET", base+path, nil, nil); code != http.StatusOK {
			t.Errorf("GET %s after the storm: %d, want 200", path, code)
		}
	}
	want := map[string]any{"name": "after the storm", "price": "12.34", "stock": 5, "categoryId": f.categoryID}
	var created, got productJSON
	code, h := call(t, "POST", base+"/products", want, &created)
	if code != http.StatusCreated {
		t.Fatalf("create after the storm: %d, want 201", code)
	}
	if loc := h.Get("Location"); loc != fmt.Sprintf("/products/%d", created.ID) {
		t.Errorf("create after the storm: Location %q, want /products/%d", loc, created.ID)
	}
	if code, _ := call(t, "GET", fmt.Sprintf("%s/products/%d", base, created.ID), nil, &got); code != http.StatusOK {
		t.Fatalf("get after the storm: %d, want 200", code)
	}
	if got.Name != "after the storm" || got.Price != "12.34" || got.Stock != 5 || got.CategoryID != f.categoryID || got.Version != 1 {
		t.Errorf("get after the storm = %+v, want the product just created", got)
	}
}
