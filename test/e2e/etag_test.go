package e2e

import (
	"fmt"
	"testing"
)

// A product's ETag covers the category it embeds: after a rename, the old
// tag is neither current for a read (200 with the new name, never 304) nor
// for a write (412), through both cache layers (the response cache and the
// repository cache), each warmed before the rename, and through the
// in-process tier when it is on.
func TestProductETagCoversItsCategory(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"redis", nil},
		{"redis and in-process", map[string]string{"CACHE_LOCAL_ENTRIES": "1000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startAPIWith(t, tc.env)
			cat := s.createCategory(t, "Books")
			pid := id(t, s.createProduct(t, fmt.Sprintf(`{"name":"Go in Action","price":"19.99","categoryId":%d}`, cat)))
			path := fmt.Sprintf("/products/%d", pid)

			// Warm both layers and see the cache answer.
			first := s.do(t, "GET", path, "").want(t, 200)
			t1 := first.Header.Get("ETag")
			if t1 == "" {
				t.Fatal("no ETag on a product")
			}
			hit := s.do(t, "GET", path, "").want(t, 200)
			if hit.Header.Get("X-Cache") != "HIT" || hit.Header.Get("ETag") != t1 {
				t.Fatalf("second GET: X-Cache %q ETag %q, want HIT %s", hit.Header.Get("X-Cache"), hit.Header.Get("ETag"), t1)
			}
			s.do(t, "GET", path, "", header{"If-None-Match", t1}).want(t, 304)

			s.do(t, "PATCH", fmt.Sprintf("/categories/%d", cat), `{"name":"Novels"}`, asWriter, jsonBody).want(t, 200)

			// The old tag is not current: 200 with the new name and a new tag,
			// first from the database, then replayed from the cache.
			var t2 string
			for i, want := range []string{"MISS", "HIT"} {
				got := s.do(t, "GET", path, "", header{"If-None-Match", t1}).want(t, 200)
				name := got.JSON(t)["category"].(map[string]any)["name"]
				if name != "Novels" || got.Header.Get("X-Cache") != want {
					t.Fatalf("GET %d after the rename: category %v, X-Cache %q; want Novels, %s", i, name, got.Header.Get("X-Cache"), want)
				}
				t2 = got.Header.Get("ETag")
				if t2 == "" || t2 == t1 {
					t.Fatalf("GET %d after the rename: ETag %q, the tag before it was %s", i, t2, t1)
				}
			}
			s.do(t, "GET", path, "", header{"If-None-Match", t2}).want(t, 304)

			s.do(t, "PATCH", path, `{"stock":5}`, asWriter, jsonBody, header{"If-Match", t1}).want(t, 412).problem(t)
			patched := s.do(t, "PATCH", path, `{"stock":5}`, asWriter, jsonBody, header{"If-Match", t2}).want(t, 200)
			t3 := patched.Header.Get("ETag")
			if p := patched.JSON(t); p["stock"] != 5.0 || p["version"] != 2.0 || t3 == t2 || t3 == t1 {
				t.Fatalf("PATCH with the current tag: %s, ETag %q", patched.Body, t3)
			}
			if got := s.do(t, "GET", path, "").want(t, 200); got.Header.Get("ETag") != t3 {
				t.Fatalf("GET after the PATCH: ETag %q, want %s", got.Header.Get("ETag"), t3)
			}
		})
	}
}
