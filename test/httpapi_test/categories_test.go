package httpapi_test

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestCategoryLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		created := h.must(201, req{method: "POST", path: "/categories", key: aliceSecret, body: `{"name":"  Books "}`})
		c := created.json(t)
		id := int64(c["id"].(float64))
		path := "/categories/" + strconv.FormatInt(id, 10)
		if created.header.Get("Location") != path || created.header.Get("ETag") != `"1"` {
			t.Fatalf("Location %q ETag %q", created.header.Get("Location"), created.header.Get("ETag"))
		}
		if c["name"] != "Books" || len(c) != 4 {
			t.Fatalf("category %v", c)
		}

		h.must(200, req{method: "GET", path: path})
		h.must(304, req{method: "GET", path: path, header: map[string]string{"If-None-Match": `"1"`}})

		fields := h.must(409, req{method: "POST", path: "/categories", key: bobSecret, body: `{"name":"BOOKS"}`}).problemFields(t)
		if !reflect.DeepEqual(fields, []string{"name"}) {
			t.Fatalf("conflict fields %v", fields)
		}
		h.must(422, req{method: "POST", path: "/categories", key: aliceSecret, body: `{"name":""}`})
		h.must(422, req{method: "POST", path: "/categories", key: aliceSecret, body: `{"name":null}`})
		h.must(422, req{method: "POST", path: "/categories", key: aliceSecret, body: fmt.Sprintf(`{"name":%q}`, strings.Repeat("c", 101))})

		renamed := h.must(200, req{method: "PATCH", path: path, key: aliceSecret, body: `{"name":"Novels"}`,
			header: map[string]string{"If-Match": `"1"`}})
		if renamed.json(t)["name"] != "Novels" || renamed.header.Get("ETag") != `"2"` {
			t.Fatalf("renamed %s %s", renamed.header.Get("ETag"), renamed.body)
		}
		h.must(412, req{method: "PATCH", path: path, key: aliceSecret, body: `{"name":"Again"}`,
			header: map[string]string{"If-Match": `"1"`}})
		h.must(422, req{method: "PATCH", path: path, key: aliceSecret, body: `{"name":null}`})

		// A category in use cannot go.
		product := h.createProduct(fmt.Sprintf(`{"name":"Dune","price":9,"categoryId":%d}`, id))
		if product["category"].(map[string]any)["name"] != "Novels" {
			t.Fatalf("embedded category %v", product["category"])
		}
		h.must(409, req{method: "DELETE", path: path, key: aliceSecret})
		h.must(204, req{method: "DELETE", path: fmt.Sprintf("/products/%v", product["id"]), key: aliceSecret})
		h.must(204, req{method: "DELETE", path: path, key: aliceSecret})
		h.must(404, req{method: "GET", path: path})
	})
}

func TestListCategories(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		for i := 0; i < 5; i++ {
			h.createCategory(fmt.Sprintf("C%d", i))
		}
		var names []string
		next := "/categories?limit=2"
		for next != "" {
			m := h.must(200, req{method: "GET", path: next}).json(t)
			for _, c := range m["data"].([]any) {
				names = append(names, c.(map[string]any)["name"].(string))
			}
			next = ""
			if c, ok := m["nextCursor"].(string); ok {
				next = "/categories?limit=2&cursor=" + url.QueryEscape(c)
			}
		}
		if !reflect.DeepEqual(names, []string{"C0", "C1", "C2", "C3", "C4"}) {
			t.Fatalf("names %v", names)
		}
		empty := newHarnessOver(t, open(t)).must(200, req{method: "GET", path: "/categories"})
		if string(empty.body) != `{"data":[],"nextCursor":null}` {
			t.Fatalf("empty list %s", empty.body)
		}
	})
}
