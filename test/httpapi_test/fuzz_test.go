package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/etalase/etalase/adapters/memory"
)

// hostileBodies seed the fuzz target and run on every backend in
// TestHostileInputOnEveryBackend.
var hostileBodies = []string{
	`{"name":"Go in Action","price":"19.99","stock":7,"categoryId":1}`,
	`{"name":"Go","price":19.99,"categoryId":1,"sku":"BK-1","description":null}`,
	`{"name":`,
	`{"name":"x"} trailing`,
	`[]`, `null`, `""`, `0`, `{}`, ``,
	strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000),
	strings.Repeat(`[`, 100000),
	`{"name":1,"price":[],"stock":"7","categoryId":{}}`,
	`{"name":"x","price":1e999999,"stock":99999999999999999999999999999,"categoryId":1}`,
	`{"name":"x","price":"99999999999999999999.99","categoryId":9223372036854775808}`,
	`{"name":"x","price":-0,"stock":-0,"categoryId":-1}`,
	"{\"name\":\"\xff\xfe\",\"price\":1,\"categoryId\":1}",
	"{\"\xff\":1}",
	`{"name":"x","price":1,"categoryId":1,"colour":"red","Name":"y"}`,
	`{"name":"x","name":"y","price":1,"categoryId":1}`,
	`{"name":"\u0000","price":1,"categoryId":1}`,
	`{"name":"\ud800","price":"1.5","categoryId":1}`,
	`{"sku":"` + strings.Repeat("s", 70) + `","name":"x","price":1,"categoryId":1}`,
}

// FuzzCreateProductBody feeds arbitrary bytes to POST /products: whatever a
// client sends, the answer is never a 500 and the service keeps answering.
func FuzzCreateProductBody(f *testing.F) {
	for _, s := range hostileBodies {
		f.Add([]byte(s))
	}
	h := newHarnessOver(f, memory.New())
	h.createCategory("Fuzz")
	app := h.srv.App()
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/products", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+aliceSecret)
		res, err := app.Test(r, 10000)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("status %d for body %q: %s", res.StatusCode, body, out)
		}
		switch res.StatusCode {
		case 201, 400, 409, 413, 422:
		default:
			t.Fatalf("unexpected status %d for body %q: %s", res.StatusCode, body, out)
		}
		health, err := app.Test(httptest.NewRequest("GET", "/healthz", nil), 10000)
		if err != nil || health.StatusCode != 200 {
			t.Fatalf("service stopped answering after %q: %v", body, err)
		}
		health.Body.Close()
	})
}

// TestHostileInputOnEveryBackend sends the fuzz seeds and hostile query
// strings to every backend: nothing a client sends is a 5xx.
func TestHostileInputOnEveryBackend(t *testing.T) {
	t.Parallel()
	cursor := func(sortField, key string) string {
		raw := `{"s":"` + sortField + `","k":` + quote(key) + `,"i":1}`
		return url.QueryEscape(base64.RawURLEncoding.EncodeToString([]byte(raw)))
	}
	queries := []string{
		"q=%25", "q=_", "q=%5C", "q=%27%3B--", "q=" + strings.Repeat("x", 801), "q=%00", "q=%C3%28",
		"sort=price&cursor=" + cursor("price", "abc"),
		"sort=price&cursor=" + cursor("price", "-5"),
		"sort=price&cursor=" + cursor("price", "1e999"),
		"sort=createdAt&cursor=" + cursor("createdAt", "yesterday"),
		"sort=name&cursor=" + cursor("name", "\x00"),
		"sort=-name&cursor=" + cursor("-name", strings.Repeat("z", 900)),
		"cursor=" + cursor("id", "unexpected"),
		"categoryId=9223372036854775807",
		"limit=100&sort=-createdAt",
	}
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		cat := h.createCategory("Hostile")
		h.createProduct(`{"name":"seed","price":1,"categoryId":` + strconv.FormatInt(cat, 10) + `}`)
		for _, body := range hostileBodies {
			out := h.do(req{method: "POST", path: "/products", key: aliceSecret, body: body,
				header: map[string]string{"Content-Type": "application/json"}})
			if out.status >= 500 {
				t.Errorf("body %.80q: status %d: %s", body, out.status, out.body)
			}
		}
		for _, q := range queries {
			out := h.do(req{method: "GET", path: "/products?" + q})
			if out.status != 200 && out.status != 400 {
				t.Errorf("query %.80s: status %d: %s", q, out.status, out.body)
			}
		}
	})
}
