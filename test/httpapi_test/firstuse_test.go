package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// problemDetail returns the detail of a problem response.
func problemDetail(t *testing.T, r resp) string {
	t.Helper()
	var p struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem %s: %v", r.body, err)
	}
	return p.Detail
}

// TestWhatANewUserMeets pins the answers a first user of the API reads:
// names as written, a 412 that says what the ETag is now, an empty patch
// that changes nothing, a price's form explained, and a 403 that says
// which variable grants the admin right.
func TestWhatANewUserMeets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cat := h.createCategory("Books & Comics <new>")
	got := h.must(200, req{method: "GET", path: "/categories/" + strconv.FormatInt(cat, 10)})
	if !strings.Contains(string(got.body), `"Books & Comics <new>"`) {
		t.Errorf("the name is HTML-escaped on the wire: %s", got.body)
	}

	p := h.createProduct(`{"name":"Tintin","price":"9.50","categoryId":` + strconv.FormatInt(cat, 10) + `}`)
	path := "/products/" + strconv.FormatInt(int64(p["id"].(float64)), 10)
	h.must(200, req{method: "PATCH", path: path, key: aliceSecret, body: `{"stock":3}`})

	// The 412 names the current ETag, for a stale tag and for one that can
	// never match alike.
	for _, tag := range []string{`"1.1"`, `W/"2.1"`, `"2"`, `garbage`} {
		out := h.must(http.StatusPreconditionFailed, req{method: "PATCH", path: path, key: aliceSecret,
			body: `{"stock":1}`, header: map[string]string{"If-Match": tag}})
		if d := problemDetail(t, out); !strings.Contains(d, `"2.1"`) {
			t.Errorf("If-Match %s: the 412 detail %q does not name the current ETag \"2.1\"", tag, d)
		}
	}

	// An empty patch, or one that sets what is there, is no change.
	for _, body := range []string{`{}`, `{"stock":3,"name":" Tintin "}`} {
		out := h.must(200, req{method: "PATCH", path: path, key: aliceSecret, body: body}).json(t)
		if out["version"] != float64(2) {
			t.Errorf("PATCH %s bumped the version to %v", body, out["version"])
		}
	}

	// A price's form is explained.
	for body, want := range map[string]string{
		`{"name":"x","price":1e3,"categoryId":1}`:     "exponent",
		`{"name":"x","price":"1.234","categoryId":1}`: "two fraction digits",
		`{"name":"x","price":"   ","categoryId":1}`:   "empty",
	} {
		out := h.must(422, req{method: "POST", path: "/products", key: aliceSecret, body: body})
		if !strings.Contains(string(out.body), want) {
			t.Errorf("%s: the problem %s does not mention %q", body, out.body, want)
		}
	}

	// A known key without the admin right learns which variable grants it.
	out := h.must(403, req{method: "GET", path: "/admin/queues", key: aliceSecret})
	if d := problemDetail(t, out); !strings.Contains(d, "ADMIN_KEYS") {
		t.Errorf("the 403 detail %q does not name ADMIN_KEYS", d)
	}
}
