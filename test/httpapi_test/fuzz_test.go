package httpapi_test

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/etalase/etalase/adapters/memory"
)

// FuzzCreateProductBody feeds arbitrary bytes to POST /products: whatever a
// client sends, the answer is never a 500 and the service keeps answering.
func FuzzCreateProductBody(f *testing.F) {
	seeds := []string{
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
	for _, s := range seeds {
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
