package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestDocumentAndServerAgree sends each operation the inputs an outside
// validating proxy tried and finds each answer in the document (the
// harness validates every exchange against the served document).
func TestDocumentAndServerAgree(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cat := strconv.FormatInt(h.createCategory("Books"), 10)
	pid := strconv.FormatInt(int64(h.createProduct(`{"name":"A","price":"1.00","categoryId":` + cat + `}`)["id"].(float64)), 10)

	// A 5,000-character URL is a 414 whose instance is its path.
	long := "/products/" + strings.Repeat("9", 5000)
	out := h.must(http.StatusRequestURITooLong, req{method: "GET", path: long})
	var p struct {
		Instance string `json:"instance"`
	}
	if err := json.Unmarshal(out.body, &p); err != nil || p.Instance != long {
		t.Errorf("the 414's instance is %.40q, want the path", p.Instance)
	}
	// Headers over the read buffer are a 431 that fasthttp answers before
	// any handler (app.Test cannot carry one); TestDocumentSecurity checks
	// that every operation documents it.

	// A 304 carries no Content-Type (the harness checks every response
	// declared without content).
	etag := h.must(200, req{method: "GET", path: "/products/" + pid}).header.Get("ETag")
	h.must(304, req{method: "GET", path: "/products/" + pid, header: map[string]string{"If-None-Match": etag}})

	// Bodies on operations that take none, and repeated, empty or unknown
	// query parameters, are 400s on every operation.
	for _, r := range []req{
		{method: "POST", path: "/products/" + pid + "/reports", key: aliceSecret, body: `{}`},
		{method: "DELETE", path: "/categories/" + cat, key: aliceSecret, body: `{"force":true}`},
		{method: "GET", path: "/products?limit=1&limit=2"},
		{method: "GET", path: "/products?q="},
		{method: "GET", path: "/categories?cursor="},
		{method: "GET", path: "/products/" + pid + "?fields=name"},
		{method: "GET", path: "/healthz?verbose=1"},
		{method: "GET", path: "/admin/queues?x=1", key: rootSecret},
	} {
		if out := h.do(r); out.status != http.StatusBadRequest {
			t.Errorf("%s %s with body %q: %d, want 400", r.method, r.path, r.body, out.status)
		}
	}

	// PriceInput admits what the server accepts: for each price the
	// document's verdict on the request is the server's, except the
	// number spellings the document describes but JSON Schema cannot tell
	// apart (an exponent, a third fraction digit of zero).
	described := map[string]bool{`1e3`: true, `19.990`: true}
	for _, price := range []string{`"19.99"`, `19.99`, `"   "`, `""`, `"1.234"`, `1.234`, `"-1"`, `-1`,
		`"9999999999.99"`, `"10000000000"`, `10000000000`, `"` + strings.Repeat("0", 40) + `1"`, `" 5 "`,
		`"1e3"`, `1e3`, `19.990`, `"abc"`, `true`, `0`, `"0.5"`} {
		r := req{method: "POST", path: "/products", key: aliceSecret,
			body: `{"name":"P` + strconv.Itoa(len(price)) + `","price":` + price + `,"categoryId":` + cat + `}`}
		out := h.do(r)
		server := out.status == http.StatusCreated
		document, _ := h.check.ValidateHttpRequest(r.build())
		if out.status != http.StatusCreated && out.status != http.StatusUnprocessableEntity {
			t.Errorf("price %s: status %d", price, out.status)
		}
		if server != document && !described[price] {
			t.Errorf("price %s: the server accepts it: %v, the document: %v", price, server, document)
		}
		if server {
			h.must(204, req{method: "DELETE", path: out.header.Get("Location"), key: aliceSecret})
		}
	}
}
