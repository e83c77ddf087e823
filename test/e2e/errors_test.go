package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestErrorTable walks every row of CONTRACT.md's error table but 503
// (TestPostgresUnavailable) against one service.
func TestErrorTable(t *testing.T) {
	t.Parallel()
	s := startAPI(t)
	books := s.createCategory(t, "Books")
	used := s.createProduct(t, fmt.Sprintf(`{"sku":"TAKEN-1","name":"Taken","price":"5.00","categoryId":%d}`, books))
	pid := id(t, used)

	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		headers    []header
		wantStatus int
		wantFields []string // for 422: exactly these fields, in any order
		wantHeader header   // a header the response must carry, if set
	}{
		{name: "malformed JSON", method: "POST", path: "/categories", body: `{"name":`,
			headers: []header{asWriter, jsonBody}, wantStatus: 400},
		{name: "JSON that is not an object", method: "POST", path: "/products", body: `[1,2]`,
			headers: []header{asWriter, jsonBody}, wantStatus: 400},
		{name: "bad limit", method: "GET", path: "/products?limit=0", wantStatus: 400},
		{name: "limit too large", method: "GET", path: "/products?limit=101", wantStatus: 400},
		{name: "bad sort", method: "GET", path: "/products?sort=colour", wantStatus: 400},
		{name: "bad categoryId filter", method: "GET", path: "/products?categoryId=abc", wantStatus: 400},
		{name: "bad cursor", method: "GET", path: "/products?cursor=not-a-cursor", wantStatus: 400},
		{name: "id not a number", method: "GET", path: "/products/abc", wantStatus: 400},
		{name: "id zero", method: "GET", path: "/products/0", wantStatus: 400},
		{name: "id negative", method: "GET", path: "/categories/-4", wantStatus: 400},
		{name: "id overflows int64", method: "GET", path: "/products/9223372036854775808", wantStatus: 400},

		{name: "no key", method: "POST", path: "/categories", body: `{"name":"X"}`,
			headers: []header{jsonBody}, wantStatus: 401, wantHeader: header{"WWW-Authenticate", "Bearer"}},
		{name: "wrong key", method: "DELETE", path: fmt.Sprintf("/products/%d", pid),
			headers: []header{bearer("not-a-key")}, wantStatus: 401, wantHeader: header{"WWW-Authenticate", "Bearer"}},
		{name: "not bearer", method: "PATCH", path: fmt.Sprintf("/products/%d", pid), body: `{}`,
			headers: []header{{"Authorization", "Basic " + apiSecret}, jsonBody}, wantStatus: 401,
			wantHeader: header{"WWW-Authenticate", "Bearer"}},
		{name: "admin route with a writer key", method: "GET", path: "/admin/queues",
			headers: []header{asWriter}, wantStatus: 403},

		{name: "missing product", method: "GET", path: "/products/999999", wantStatus: 404},
		{name: "missing category", method: "GET", path: "/categories/999999", wantStatus: 404},
		{name: "patch missing product", method: "PATCH", path: "/products/999999", body: `{"stock":1}`,
			headers: []header{asWriter, jsonBody}, wantStatus: 404},
		{name: "delete missing product", method: "DELETE", path: "/products/999999",
			headers: []header{asWriter}, wantStatus: 404},
		{name: "reports of a missing product", method: "POST", path: "/products/999999/reports",
			headers: []header{asWriter}, wantStatus: 404},
		{name: "missing report", method: "GET", path: "/reports/999999", wantStatus: 404},

		{name: "duplicate sku", method: "POST", path: "/products",
			body:    fmt.Sprintf(`{"sku":"TAKEN-1","name":"Other","price":"1.00","categoryId":%d}`, books),
			headers: []header{asWriter, jsonBody}, wantStatus: 409},
		{name: "duplicate category name ignoring case", method: "POST", path: "/categories", body: `{"name":"bOOKS"}`,
			headers: []header{asWriter, jsonBody}, wantStatus: 409},
		{name: "category in use", method: "DELETE", path: fmt.Sprintf("/categories/%d", books),
			headers: []header{asWriter}, wantStatus: 409},

		{name: "stale If-Match", method: "PATCH", path: fmt.Sprintf("/products/%d", pid), body: `{"stock":2}`,
			headers: []header{asWriter, jsonBody, {"If-Match", `"7.1"`}}, wantStatus: 412},
		{name: "weak If-Match", method: "PATCH", path: fmt.Sprintf("/products/%d", pid), body: `{"stock":2}`,
			headers: []header{asWriter, jsonBody, {"If-Match", `W/"1.1"`}}, wantStatus: 412},

		{name: "text body", method: "POST", path: "/categories", body: `{"name":"X"}`,
			headers: []header{asWriter, {"Content-Type", "text/plain"}}, wantStatus: 415},
		{name: "no content type", method: "POST", path: "/products", body: `{"name":"X"}`,
			headers: []header{asWriter}, wantStatus: 415},

		{name: "every bad product field", method: "POST", path: "/products",
			body:       `{"sku":"bad sku!","name":"   ","description":` + fmt.Sprintf("%q", strings.Repeat("d", 2001)) + `,"price":"1.234","stock":-1,"colour":"red"}`,
			headers:    []header{asWriter, jsonBody},
			wantStatus: 422, wantFields: []string{"sku", "name", "description", "price", "stock", "categoryId", "colour"}},
		{name: "price out of range", method: "POST", path: "/products",
			body:       fmt.Sprintf(`{"name":"Ok","price":10000000000.00,"categoryId":%d}`, books),
			headers:    []header{asWriter, jsonBody},
			wantStatus: 422, wantFields: []string{"price"}},
		// Whether a category exists is known only once the row is written,
		// so it is reported when the fields are otherwise valid.
		{name: "unknown category", method: "POST", path: "/products",
			body:       `{"name":"Ok","price":"1.00","categoryId":999999}`,
			headers:    []header{asWriter, jsonBody},
			wantStatus: 422, wantFields: []string{"categoryId"}},
		{name: "unknown category in a patch", method: "PATCH", path: fmt.Sprintf("/products/%d", pid),
			body:       `{"categoryId":999999}`,
			headers:    []header{asWriter, mergeBody},
			wantStatus: 422, wantFields: []string{"categoryId"}},
		{name: "patch nulls a required field", method: "PATCH", path: fmt.Sprintf("/products/%d", pid),
			body:       `{"categoryId":null,"price":null}`,
			headers:    []header{asWriter, mergeBody},
			wantStatus: 422, wantFields: []string{"categoryId", "price"}},
		{name: "price as a float with three digits", method: "POST", path: "/products",
			body:       fmt.Sprintf(`{"name":"Ok","price":0.125,"categoryId":%d}`, books),
			headers:    []header{asWriter, jsonBody},
			wantStatus: 422, wantFields: []string{"price"}},
		{name: "bad patch fields", method: "PATCH", path: fmt.Sprintf("/products/%d", pid),
			body:       `{"name":"","stock":2147483648,"unknown":1}`,
			headers:    []header{asWriter, mergeBody},
			wantStatus: 422, wantFields: []string{"name", "stock", "unknown"}},
		{name: "bad category name", method: "POST", path: "/categories",
			body:       `{"name":"` + strings.Repeat("n", 101) + `","extra":true}`,
			headers:    []header{asWriter, jsonBody},
			wantStatus: 422, wantFields: []string{"name", "extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := s.do(t, tt.method, tt.path, tt.body, tt.headers...).want(t, tt.wantStatus)
			fields := r.problem(t)
			if tt.wantHeader.name != "" && !strings.HasPrefix(r.Header.Get(tt.wantHeader.name), tt.wantHeader.value) {
				t.Fatalf("%s = %q, want %q", tt.wantHeader.name, r.Header.Get(tt.wantHeader.name), tt.wantHeader.value)
			}
			if tt.wantFields != nil {
				got := slices.Clone(fields)
				want := slices.Clone(tt.wantFields)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("422 lists %v, want %v; body %s", fields, tt.wantFields, r.Body)
				}
			}
		})
	}

	// Nothing above changed the product.
	if got := s.do(t, "GET", fmt.Sprintf("/products/%d", pid), "").want(t, 200).JSON(t); got["version"] != 1.0 {
		t.Fatalf("product changed by failed requests: %v", got)
	}
}

// TestPostgresUnavailable cuts the database connection: requests that need
// PostgreSQL answer 503 with Retry-After, /readyz says 503, /healthz stays
// 200, and everything recovers once the connection is back.
func TestPostgresUnavailable(t *testing.T) {
	t.Parallel()
	s := startAPI(t)
	cat := s.createCategory(t, "Books")

	s.proxy.Cut()
	checks := []struct {
		method, path, body string
		headers            []header
		want               int
	}{
		{"POST", "/categories", `{"name":"Cut"}`, []header{asWriter, jsonBody}, 503},
		{"POST", "/products", fmt.Sprintf(`{"name":"Cut","price":"1.00","categoryId":%d}`, cat), []header{asWriter, jsonBody}, 503},
		{"GET", "/products/424242", "", nil, 503},
		{"GET", "/readyz", "", nil, 503},
		{"GET", "/healthz", "", nil, 200},
	}
	for _, c := range checks {
		start := time.Now()
		r := s.do(t, c.method, c.path, c.body, c.headers...)
		if r.Status != c.want {
			t.Fatalf("%s %s with PostgreSQL cut: %d, want %d; body %s", c.method, c.path, r.Status, c.want, r.Body)
		}
		if took := time.Since(start); took > 8*time.Second {
			t.Errorf("%s %s took %s with PostgreSQL cut", c.method, c.path, took)
		}
		if c.want == 503 && c.path != "/readyz" {
			r.problem(t)
			if ra := r.Header.Get("Retry-After"); ra == "" {
				t.Fatalf("%s %s: 503 without Retry-After", c.method, c.path)
			}
		}
	}

	s.proxy.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := s.do(t, "POST", "/categories", `{"name":"Back"}`, asWriter, jsonBody)
		if r.Status == 201 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restore: %d %s", r.Status, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.do(t, "GET", "/readyz", "").want(t, 200)
}

// TestBodyOverLimit announces a body of 1 MiB + 1 byte and sends none of it:
// the service answers 413 from the headers. (A client still writing a real
// body when the server answers and closes may see a reset instead.)
func TestBodyOverLimit(t *testing.T) {
	t.Parallel()
	s := startAPI(t)
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(s.base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /categories HTTP/1.1\r\nHost: e2e\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", apiSecret, 1<<20+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413; body %s", r.Status, body)
	}
	r.problem(t)
}
