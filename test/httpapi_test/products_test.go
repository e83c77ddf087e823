package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProductLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		books := h.createCategory("Books")

		created := h.must(201, req{method: "POST", path: "/products", key: aliceSecret,
			body: fmt.Sprintf(`{"sku":" BK-0042 ","name":" Go in Action ","price":19.99,"stock":7,"categoryId":%d}`, books)})
		p := created.json(t)
		id := int64(p["id"].(float64))
		if loc := created.header.Get("Location"); loc != "/products/"+strconv.FormatInt(id, 10) {
			t.Fatalf("Location %q", loc)
		}
		if etag := created.header.Get("ETag"); etag != `"1.1"` {
			t.Fatalf("ETag %q, want \"1.1\"", etag)
		}
		want := map[string]any{"id": float64(id), "sku": "BK-0042", "name": "Go in Action", "description": nil,
			"price": "19.99", "stock": float64(7), "categoryId": float64(books),
			"category": map[string]any{"id": float64(books), "name": "Books"}, "version": float64(1)}
		for k, v := range want {
			if !reflect.DeepEqual(p[k], v) {
				t.Errorf("%s = %#v, want %#v", k, p[k], v)
			}
		}
		if len(p) != len(want)+2 {
			t.Errorf("product has fields %v; want exactly the contract's", keys(p))
		}
		for _, k := range []string{"createdAt", "updatedAt"} {
			ts, err := time.Parse(time.RFC3339, p[k].(string))
			if err != nil || ts.Location() != time.UTC {
				t.Errorf("%s = %v is not RFC 3339 UTC", k, p[k])
			}
		}

		path := "/products/" + strconv.FormatInt(id, 10)
		got := h.must(200, req{method: "GET", path: path})
		if got.header.Get("ETag") != `"1.1"` || got.json(t)["name"] != "Go in Action" {
			t.Fatalf("get: %s %s", got.header.Get("ETag"), got.body)
		}
		nm := h.must(304, req{method: "GET", path: path, header: map[string]string{"If-None-Match": `"1.1"`}})
		if len(nm.body) != 0 || nm.header.Get("ETag") != `"1.1"` {
			t.Fatalf("304 with body %q or ETag %q", nm.body, nm.header.Get("ETag"))
		}
		h.must(304, req{method: "GET", path: path, header: map[string]string{"If-None-Match": `"7.1", W/"1.1"`}})
		h.must(200, req{method: "GET", path: path, header: map[string]string{"If-None-Match": `"2.1"`}})
		h.must(200, req{method: "GET", path: path, header: map[string]string{"If-None-Match": `"1"`}})

		// A merge patch: description set, sku cleared, price as a string.
		patched := h.must(200, req{method: "PATCH", path: path, key: bobSecret,
			body:   `{"description":"A book","sku":null,"price":"25"}`,
			header: map[string]string{"Content-Type": "application/merge-patch+json", "If-Match": `"1.1"`}}).json(t)
		if patched["description"] != "A book" || patched["sku"] != nil || patched["price"] != "25.00" ||
			patched["version"] != float64(2) || patched["name"] != "Go in Action" {
			t.Fatalf("patched: %v", patched)
		}
		h.must(412, req{method: "PATCH", path: path, key: aliceSecret, body: `{"stock":1}`,
			header: map[string]string{"If-Match": `"1.1"`}})
		h.must(412, req{method: "PATCH", path: path, key: aliceSecret, body: `{"stock":1}`,
			header: map[string]string{"If-Match": `W/"2.1"`}})
		h.must(412, req{method: "PATCH", path: path, key: aliceSecret, body: `{"stock":1}`,
			header: map[string]string{"If-Match": `"2"`}})
		h.must(200, req{method: "PATCH", path: path, key: aliceSecret, body: `{"stock":1}`,
			header: map[string]string{"If-Match": `"2.1"`}})
		h.must(200, req{method: "PATCH", path: path, key: aliceSecret, body: `{}`,
			header: map[string]string{"If-None-Match": "*"}})

		fields := h.must(422, req{method: "PATCH", path: path, key: aliceSecret,
			body: `{"name":null,"price":null,"colour":"red","stock":"many"}`}).problemFields(t)
		sort.Strings(fields)
		if !reflect.DeepEqual(fields, []string{"colour", "stock"}) {
			t.Fatalf("decode errors listed %v", fields)
		}
		fields = h.must(422, req{method: "PATCH", path: path, key: aliceSecret, body: `{"name":null,"price":null}`}).problemFields(t)
		sort.Strings(fields)
		if !reflect.DeepEqual(fields, []string{"name", "price"}) {
			t.Fatalf("null errors listed %v", fields)
		}
		fields = h.must(422, req{method: "PATCH", path: path, key: aliceSecret, body: `{"categoryId":999}`}).problemFields(t)
		if !reflect.DeepEqual(fields, []string{"categoryId"}) {
			t.Fatalf("unknown category listed %v", fields)
		}

		h.must(204, req{method: "DELETE", path: path, key: aliceSecret})
		h.must(404, req{method: "GET", path: path})
		h.must(404, req{method: "PATCH", path: path, key: aliceSecret, body: `{"stock":1}`})
		h.must(404, req{method: "DELETE", path: path, key: aliceSecret})
	})
}

// A product's ETag covers the category it embeds (the cache-less twin of
// the e2e test of the same name).
func TestProductETagCoversItsCategory(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		books := h.createCategory("Books")
		other := h.createCategory("Games")
		created := h.must(201, req{method: "POST", path: "/products", key: aliceSecret,
			body: fmt.Sprintf(`{"name":"Go in Action","price":"19.99","categoryId":%d}`, books)})
		path := "/products/" + strconv.FormatInt(int64(created.json(t)["id"].(float64)), 10)
		t1 := h.must(200, req{method: "GET", path: path}).header.Get("ETag")
		h.must(304, req{method: "GET", path: path, header: map[string]string{"If-None-Match": t1}})

		// Renaming another category changes nothing here.
		h.must(200, req{method: "PATCH", path: "/categories/" + strconv.FormatInt(other, 10), key: aliceSecret, body: `{"name":"Toys"}`})
		h.must(304, req{method: "GET", path: path, header: map[string]string{"If-None-Match": t1}})

		h.must(200, req{method: "PATCH", path: "/categories/" + strconv.FormatInt(books, 10), key: aliceSecret, body: `{"name":"Novels"}`})
		got := h.must(200, req{method: "GET", path: path, header: map[string]string{"If-None-Match": t1}})
		t2 := got.header.Get("ETag")
		if name := got.json(t)["category"].(map[string]any)["name"]; name != "Novels" || t2 == t1 || t2 != `"1.2"` {
			t.Fatalf("after the rename: category %v, ETag %s (before: %s); want Novels, \"1.2\"", name, t2, t1)
		}
		h.must(412, req{method: "PATCH", path: path, key: aliceSecret, body: `{"stock":5}`,
			header: map[string]string{"If-Match": t1}})
		patched := h.must(200, req{method: "PATCH", path: path, key: aliceSecret, body: `{"stock":5}`,
			header: map[string]string{"If-Match": t2}})
		if patched.header.Get("ETag") != `"2.2"` || patched.json(t)["stock"] != float64(5) {
			t.Fatalf("PATCH with the current tag: ETag %s, %s", patched.header.Get("ETag"), patched.body)
		}

		// Moving the product to another category moves its own version.
		moved := h.must(200, req{method: "PATCH", path: path, key: aliceSecret,
			body: fmt.Sprintf(`{"categoryId":%d}`, other), header: map[string]string{"If-Match": `"2.2"`}})
		if moved.header.Get("ETag") != `"3.2"` || moved.json(t)["category"].(map[string]any)["name"] != "Toys" {
			t.Fatalf("moved: ETag %s, %s", moved.header.Get("ETag"), moved.body)
		}
	})
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCreateProductRules(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		cat := h.createCategory("Tools")
		h.createProduct(fmt.Sprintf(`{"sku":"T-1","name":"Hammer","price":"5.5","categoryId":%d}`, cat))
		tests := []struct {
			name       string
			body       string
			wantStatus int
			wantFields []string
		}{
			{"price as string with two digits", fmt.Sprintf(`{"name":"Saw","price":"0.07","categoryId":%d}`, cat), 201, nil},
			{"max price", fmt.Sprintf(`{"name":"Gold","price":9999999999.99,"categoryId":%d}`, cat), 201, nil},
			{"null sku and description", fmt.Sprintf(`{"name":"Nail","sku":null,"description":null,"price":0,"categoryId":%d}`, cat), 201, nil},
			{"duplicate sku", fmt.Sprintf(`{"sku":"T-1","name":"Other","price":1,"categoryId":%d}`, cat), 409, []string{"sku"}},
			{"unknown category", `{"name":"Ghost","price":1,"categoryId":424242}`, 422, []string{"categoryId"}},
			{"missing everything", `{}`, 422, []string{"categoryId", "name", "price"}},
			{"three fraction digits", fmt.Sprintf(`{"name":"x","price":1.234,"categoryId":%d}`, cat), 422, []string{"price"}},
			{"price over max", fmt.Sprintf(`{"name":"x","price":"10000000000","categoryId":%d}`, cat), 422, []string{"price"}},
			{"negative price", fmt.Sprintf(`{"name":"x","price":-0.01,"categoryId":%d}`, cat), 422, []string{"price"}},
			{"exponent price", fmt.Sprintf(`{"name":"x","price":1e3,"categoryId":%d}`, cat), 422, []string{"price"}},
			{"huge stock", fmt.Sprintf(`{"name":"x","price":1,"stock":2147483648,"categoryId":%d}`, cat), 422, []string{"stock"}},
			{"enormous number", fmt.Sprintf(`{"name":"x","price":1,"stock":1%s,"categoryId":%d}`, zeros(400), cat), 422, []string{"stock"}},
			{"fractional stock", fmt.Sprintf(`{"name":"x","price":1,"stock":1.5,"categoryId":%d}`, cat), 422, []string{"stock"}},
			{"name too long", fmt.Sprintf(`{"name":%q,"price":1,"categoryId":%d}`, strings.Repeat("n", 201), cat), 422, []string{"name"}},
			{"blank name", fmt.Sprintf(`{"name":"   ","price":1,"categoryId":%d}`, cat), 422, []string{"name"}},
			{"bad sku", fmt.Sprintf(`{"sku":"a b","name":"x","price":1,"categoryId":%d}`, cat), 422, []string{"sku"}},
			{"typo field", fmt.Sprintf(`{"nmae":"x","price":1,"categoryId":%d}`, cat), 422, []string{"name", "nmae"}},
			{"duplicate field", fmt.Sprintf(`{"name":"a","price":1,"name":"b","categoryId":%d}`, cat), 422, []string{"name"}},
			{"categoryId as string", `{"name":"x","price":1,"categoryId":"1"}`, 422, []string{"categoryId"}},
			{"invalid utf-8", "{\"name\":\"\xc3\x28\",\"price\":1,\"categoryId\":1}", 422, []string{"name"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out := h.do(req{method: "POST", path: "/products", key: aliceSecret, body: tt.body})
				if out.status != tt.wantStatus {
					t.Fatalf("status %d, want %d; body %s", out.status, tt.wantStatus, out.body)
				}
				if tt.wantFields == nil {
					return
				}
				got := out.problemFields(t)
				sort.Strings(got)
				if !reflect.DeepEqual(got, tt.wantFields) {
					t.Fatalf("fields %v, want %v", got, tt.wantFields)
				}
			})
		}
	})
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		cat := h.createCategory("Games")
		body := fmt.Sprintf(`{"name":"Chess","price":"12.00","categoryId":%d}`, cat)
		key := map[string]string{"Idempotency-Key": "order-7f3a"}

		first := h.must(201, req{method: "POST", path: "/products", key: aliceSecret, body: body, header: key})
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("first response marked replayed")
		}
		// The same meaning re-serialized replays the first response.
		again := h.must(201, req{method: "POST", path: "/products", key: aliceSecret, header: key,
			body: fmt.Sprintf(`{"categoryId":%d,"price":12,"name":" Chess"}`, cat)})
		if again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) ||
			again.header.Get("Location") != first.header.Get("Location") {
			t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
		}
		fields := h.must(422, req{method: "POST", path: "/products", key: aliceSecret, header: key,
			body: fmt.Sprintf(`{"name":"Go","price":"12.00","categoryId":%d}`, cat)}).problemFields(t)
		if !reflect.DeepEqual(fields, []string{"Idempotency-Key"}) {
			t.Fatalf("fields %v", fields)
		}
		// Keys are per client: bob's same key is another request.
		other := h.must(201, req{method: "POST", path: "/products", key: bobSecret, body: body, header: key})
		if other.json(t)["id"] == first.json(t)["id"] {
			t.Fatal("another key's request was replayed")
		}
		list := h.must(200, req{method: "GET", path: "/products"}).json(t)
		if n := len(list["data"].([]any)); n != 2 {
			t.Fatalf("%d products, want 2", n)
		}
		for _, bad := range []string{"", strings.Repeat("k", 256), "tab\tkey", "é"} {
			h.must(400, req{method: "POST", path: "/products", key: aliceSecret, body: body,
				header: map[string]string{"Idempotency-Key": bad}})
		}
	})
}

func TestListProducts(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		a := h.createCategory("A")
		b := h.createCategory("B")
		for i := 1; i <= 7; i++ {
			cat := a
			if i%2 == 0 {
				cat = b
			}
			h.createProduct(fmt.Sprintf(`{"name":"Item %d","price":"%d.50","categoryId":%d}`, i, 10-i, cat))
		}

		// Pages by id cover everything exactly once.
		var ids []float64
		next := "/products?limit=3"
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			page := h.must(200, req{method: "GET", path: next})
			m := page.json(t)
			for _, p := range m["data"].([]any) {
				ids = append(ids, p.(map[string]any)["id"].(float64))
			}
			next = ""
			if c, ok := m["nextCursor"].(string); ok {
				next = "/products?limit=3&cursor=" + url.QueryEscape(c)
			}
		}
		if len(ids) != 7 || !sort.Float64sAreSorted(ids) {
			t.Fatalf("ids %v", ids)
		}

		tests := []struct {
			query     string
			wantNames []string
		}{
			{"categoryId=" + strconv.FormatInt(b, 10), []string{"Item 2", "Item 4", "Item 6"}},
			{"q=item%207", []string{"Item 7"}},
			{"sort=-price&limit=2", []string{"Item 1", "Item 2"}},
			{"sort=price&limit=2", []string{"Item 7", "Item 6"}},
			{"sort=-name&limit=1", []string{"Item 7"}},
			{"q=nothing", nil},
		}
		for _, tt := range tests {
			m := h.must(200, req{method: "GET", path: "/products?" + tt.query}).json(t)
			var names []string
			for _, p := range m["data"].([]any) {
				names = append(names, p.(map[string]any)["name"].(string))
			}
			if !reflect.DeepEqual(names, tt.wantNames) {
				t.Errorf("%s: names %v, want %v", tt.query, names, tt.wantNames)
			}
		}

		// A list carries a strong ETag of its body and answers 304.
		first := h.must(200, req{method: "GET", path: "/products?limit=2"})
		etag := first.header.Get("ETag")
		if len(etag) < 3 || etag[0] != '"' {
			t.Fatalf("list ETag %q", etag)
		}
		h.must(304, req{method: "GET", path: "/products?limit=2", header: map[string]string{"If-None-Match": etag}})
		h.must(200, req{method: "GET", path: "/products?limit=3", header: map[string]string{"If-None-Match": etag}})

		// A cursor belongs to its sort.
		m := h.must(200, req{method: "GET", path: "/products?sort=name&limit=1"}).json(t)
		cursor := url.QueryEscape(m["nextCursor"].(string))
		h.must(200, req{method: "GET", path: "/products?sort=name&limit=1&cursor=" + cursor})
		fields := h.must(400, req{method: "GET", path: "/products?sort=price&cursor=" + cursor}).problemFields(t)
		if !reflect.DeepEqual(fields, []string{"cursor"}) {
			t.Fatalf("fields %v", fields)
		}
		// Bad values, and parameters the list does not read, given empty
		// or given twice, are 400s naming the parameter.
		for q, field := range map[string]string{"limit=abc": "limit", "limit=": "limit", "limit=101": "limit",
			"categoryId=0": "categoryId", "categoryId=-4": "categoryId", "sort=stock": "sort", "cursor=": "cursor",
			"cursor=bm90IGEgY3Vyc29y": "cursor", "unknown=x": "unknown", "sort=-name&limt=1": "limt", "q=": "q",
			"sort": "sort", "limit=1&limit=2": "limit", "q=a&q=a": "q"} {
			out := h.do(req{method: "GET", path: "/products?" + q})
			if out.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", q, out.status)
				continue
			}
			if got := out.problemFields(t); !reflect.DeepEqual(got, []string{field}) {
				t.Errorf("%s: fields %v, want [%s]", q, got, field)
			}
		}
	})
}
