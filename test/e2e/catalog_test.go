package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestCategories(t *testing.T) {
	t.Parallel()
	s := startAPI(t)

	r := s.do(t, "POST", "/categories", `{"name":"  Books  "}`, asWriter, jsonBody).want(t, 201)
	books := r.JSON(t)
	bid := id(t, books)
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/categories/%d", bid) {
		t.Fatalf("Location %q, want /categories/%d", loc, bid)
	}
	if books["name"] != "Books" || books["createdAt"] == nil || books["updatedAt"] == nil {
		t.Fatalf("created category %v: name not trimmed or timestamps missing", books)
	}
	music := s.createCategory(t, "Music")

	got := s.do(t, "GET", fmt.Sprintf("/categories/%d", bid), "").want(t, 200).JSON(t)
	if got["name"] != "Books" {
		t.Fatalf("GET category = %v", got)
	}

	list := s.do(t, "GET", "/categories", "").want(t, 200).JSON(t)
	data, ok := list["data"].([]any)
	if !ok || len(data) != 2 {
		t.Fatalf("GET /categories = %v, want 2 categories", list)
	}
	if _, ok := list["nextCursor"]; !ok {
		t.Fatalf("GET /categories lacks nextCursor: %v", list)
	}

	patched := s.do(t, "PATCH", fmt.Sprintf("/categories/%d", music), `{"name":"Records"}`, asWriter, jsonBody).want(t, 200).JSON(t)
	if patched["name"] != "Records" {
		t.Fatalf("PATCH category = %v", patched)
	}
	if again := s.do(t, "GET", fmt.Sprintf("/categories/%d", music), "").want(t, 200).JSON(t); again["name"] != "Records" {
		t.Fatalf("GET after PATCH = %v, want the new name", again)
	}

	s.do(t, "DELETE", fmt.Sprintf("/categories/%d", music), "", asWriter).want(t, 204)
	s.do(t, "GET", fmt.Sprintf("/categories/%d", music), "").want(t, 404).problem(t)
	if list := s.do(t, "GET", "/categories", "").want(t, 200).JSON(t); len(list["data"].([]any)) != 1 {
		t.Fatalf("GET /categories after DELETE = %v, want 1 category", list)
	}
}

func TestProducts(t *testing.T) {
	t.Parallel()
	s := startAPI(t)
	books := s.createCategory(t, "Books")
	games := s.createCategory(t, "Games")

	r := s.do(t, "POST", "/products",
		fmt.Sprintf(`{"sku":"BK-0042","name":" Go in Action ","price":19.99,"stock":7,"categoryId":%d}`, books),
		asWriter, jsonBody).want(t, 201)
	p := r.JSON(t)
	pid := id(t, p)
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/products/%d", pid) {
		t.Fatalf("Location %q, want /products/%d", loc, pid)
	}
	category, _ := p["category"].(map[string]any)
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"sku", p["sku"], "BK-0042"},
		{"name", p["name"], "Go in Action"},
		{"description", p["description"], nil},
		{"price", p["price"], "19.99"},
		{"stock", p["stock"], 7.0},
		{"categoryId", p["categoryId"], float64(books)},
		{"category.name", category["name"], "Books"},
		{"version", p["version"], 1.0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
		}
	}

	// A single item has a strong ETag of its version and its category's,
	// and answers If-None-Match with 304.
	item := s.do(t, "GET", fmt.Sprintf("/products/%d", pid), "").want(t, 200)
	if et := item.Header.Get("ETag"); et != `"1.1"` {
		t.Fatalf("ETag %q, want \"1.1\"", et)
	}
	if xc := item.Header.Get("X-Cache"); xc != "HIT" && xc != "MISS" && xc != "BYPASS" {
		t.Fatalf("X-Cache %q, want HIT, MISS or BYPASS", xc)
	}
	s.do(t, "GET", fmt.Sprintf("/products/%d", pid), "", header{"If-None-Match", `"1.1"`}).want(t, 304)

	// A merge patch changes only what it names; null clears.
	patched := s.do(t, "PATCH", fmt.Sprintf("/products/%d", pid),
		`{"description":"a book about Go","price":"21.50"}`, asWriter, mergeBody).want(t, 200).JSON(t)
	if patched["description"] != "a book about Go" || patched["price"] != "21.50" || patched["name"] != "Go in Action" || patched["version"] != 2.0 {
		t.Fatalf("PATCH = %v", patched)
	}
	patched = s.do(t, "PATCH", fmt.Sprintf("/products/%d", pid), `{"description":null}`,
		asWriter, jsonBody, header{"If-Match", `"2.1"`}).want(t, 200).JSON(t)
	if patched["description"] != nil || patched["version"] != 3.0 {
		t.Fatalf("PATCH with If-Match = %v", patched)
	}
	if got := s.do(t, "GET", fmt.Sprintf("/products/%d", pid), "").want(t, 200); got.Header.Get("ETag") != `"3.1"` {
		t.Fatalf("GET after PATCH: ETag %q, want \"3.1\" (stale read)", got.Header.Get("ETag"))
	}

	// Listing: filters, search, sort and keyset pages.
	for i, c := range []struct {
		name  string
		price string
		cat   int64
	}{{"Chess set", "35.00", games}, {"Go board", "89.90", games}, {"Learning Go", "42.00", books}, {"Poker chips", "12.25", games}} {
		s.createProduct(t, fmt.Sprintf(`{"sku":"SKU-%d","name":%q,"price":%q,"categoryId":%d}`, i, c.name, c.price, c.cat))
	}
	names := func(path string) ([]string, any) {
		t.Helper()
		page := s.do(t, "GET", path, "").want(t, 200).JSON(t)
		var out []string
		for _, d := range page["data"].([]any) {
			out = append(out, d.(map[string]any)["name"].(string))
		}
		return out, page["nextCursor"]
	}
	listTests := []struct {
		path string
		want string
	}{
		{"/products", "Go in Action,Chess set,Go board,Learning Go,Poker chips"},
		{fmt.Sprintf("/products?categoryId=%d", games), "Chess set,Go board,Poker chips"},
		{"/products?q=GO", "Go in Action,Go board,Learning Go"},
		{"/products?sort=-price", "Go board,Learning Go,Chess set,Go in Action,Poker chips"},
		{"/products?sort=name", "Chess set,Go board,Go in Action,Learning Go,Poker chips"},
		{fmt.Sprintf("/products?categoryId=%d&q=go&sort=-name", games), "Go board"},
	}
	for _, lt := range listTests {
		got, _ := names(lt.path)
		if strings.Join(got, ",") != lt.want {
			t.Errorf("GET %s = %v, want %s", lt.path, got, lt.want)
		}
	}
	var all []string
	path := "/products?limit=2&sort=price"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		got, next := names(path)
		all = append(all, got...)
		if next == nil {
			break
		}
		path = "/products?limit=2&sort=price&cursor=" + url.QueryEscape(next.(string))
	}
	if strings.Join(all, ",") != "Poker chips,Go in Action,Chess set,Learning Go,Go board" {
		t.Fatalf("pages by price = %v", all)
	}

	// Reports: the create queued one; another can be requested.
	rr := s.do(t, "POST", fmt.Sprintf("/products/%d/reports", pid), "", asWriter).want(t, 202)
	report := rr.JSON(t)
	rid := id(t, report)
	if loc := rr.Header.Get("Location"); loc != fmt.Sprintf("/reports/%d", rid) {
		t.Fatalf("report Location %q", loc)
	}
	if report["productId"] != float64(pid) || report["requestedBy"] != "writer" {
		t.Fatalf("report = %v", report)
	}
	reports := s.do(t, "GET", fmt.Sprintf("/products/%d/reports", pid), "").want(t, 200).JSON(t)
	if data, _ := reports["data"].([]any); len(data) != 2 || id(t, data[0].(map[string]any)) != rid {
		t.Fatalf("reports = %v, want 2, newest (%d) first", reports, rid)
	}
	if got := s.do(t, "GET", fmt.Sprintf("/reports/%d", rid), "").want(t, 200).JSON(t); id(t, got) != rid {
		t.Fatalf("GET report = %v", got)
	}

	// Delete: gone from the item and from lists.
	s.do(t, "DELETE", fmt.Sprintf("/products/%d", pid), "", asWriter).want(t, 204)
	s.do(t, "GET", fmt.Sprintf("/products/%d", pid), "").want(t, 404).problem(t)
	if got, _ := names("/products?q=GO"); strings.Join(got, ",") != "Go board,Learning Go" {
		t.Fatalf("list after DELETE = %v", got)
	}
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	s := startAPI(t)
	cat := s.createCategory(t, "Books")
	body := fmt.Sprintf(`{"name":"Once","price":"1.00","categoryId":%d}`, cat)
	key := header{"Idempotency-Key", "create-once-1"}

	first := s.do(t, "POST", "/products", body, asWriter, jsonBody, key).want(t, 201).JSON(t)
	// The same request re-serialized is the same request.
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	again, _ := json.MarshalIndent(m, "", "  ")
	second := s.do(t, "POST", "/products", string(again), asWriter, jsonBody, key).want(t, 201).JSON(t)
	if id(t, first) != id(t, second) {
		t.Fatalf("retry made product %d, first was %d", id(t, second), id(t, first))
	}
	other := fmt.Sprintf(`{"name":"Twice","price":"1.00","categoryId":%d}`, cat)
	fields := s.do(t, "POST", "/products", other, asWriter, jsonBody, key).want(t, 422).problem(t)
	if len(fields) != 1 || fields[0] != "Idempotency-Key" {
		t.Fatalf("422 fields %v, want [Idempotency-Key]", fields)
	}
	list := s.do(t, "GET", "/products", "").want(t, 200).JSON(t)
	if n := len(list["data"].([]any)); n != 1 {
		t.Fatalf("%d products, want 1", n)
	}
}
