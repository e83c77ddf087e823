package robust

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// TestCheck keeps the storm's judge honest: it must flag every kind of wrong
// answer and pass the right ones.
func TestCheck(t *testing.T) {
	t.Parallel()
	problemJSON := http.Header{"Content-Type": {"application/problem+json"}}
	tests := []struct {
		name   string
		method string
		rep    reply
		wrong  int
	}{
		{"success", "GET", reply{status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: []byte(`{}`)}, 0},
		{"not modified", "GET", reply{status: 304, header: http.Header{}}, 0},
		{"problem", "POST", reply{status: 422, header: problemJSON, body: []byte(`{"title":"Unprocessable","status":422}`)}, 0},
		{"server error", "GET", reply{status: 500, header: problemJSON, body: []byte(`{"title":"Internal","status":500}`)}, 1},
		{"bad gateway", "GET", reply{status: 502, header: problemJSON, body: []byte(`{"title":"Bad Gateway","status":502}`)}, 1},
		{"plain text error", "GET", reply{status: 400, header: http.Header{"Content-Type": {"text/plain"}}, body: []byte(`bad`)}, 2},
		{"status mismatch", "GET", reply{status: 404, header: problemJSON, body: []byte(`{"title":"Not Found","status":400}`)}, 1},
		{"no title", "GET", reply{status: 404, header: problemJSON, body: []byte(`{"status":404}`)}, 1},
		{"leak", "GET", reply{status: 400, header: problemJSON, body: []byte(`{"title":"x","status":400,"detail":"ERROR: syntax (SQLSTATE 42601)"}`)}, 1},
		{"401 without challenge", "POST", reply{status: 401, header: problemJSON, body: []byte(`{"title":"Unauthorized","status":401}`)}, 1},
		{"401 with challenge", "POST", reply{status: 401, header: http.Header{"Content-Type": {"application/problem+json"},
			"Www-Authenticate": {"Bearer"}}, body: []byte(`{"title":"Unauthorized","status":401}`)}, 0},
		{"head error has no body", "HEAD", reply{status: 404, header: problemJSON}, 0},
		{"valid refused", "POST", reply{status: 422, header: problemJSON, body: []byte(`{"title":"Unprocessable","status":422}`)}, 1},
		{"valid gone meanwhile", "GET", reply{status: 404, header: problemJSON, body: []byte(`{"title":"Not Found","status":404}`)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kind := "hostile"
			if strings.HasPrefix(tt.name, "valid") {
				kind = "valid"
			}
			got := check(&request{kind: kind, method: tt.method}, tt.rep)
			if len(got) != tt.wrong {
				t.Errorf("check found %d problems %v, want %d", len(got), got, tt.wrong)
			}
		})
	}
}

// TestStormIsReplayable checks that one seed always makes the same storm,
// so a printed seed reproduces a failure.
func TestStormIsReplayable(t *testing.T) {
	t.Parallel()
	f := &fixture{apiKey: "k-0123456789", categoryID: 3, productIDs: []int64{1, 2, 3}}
	storm := func(seed uint64) [][]byte {
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var out [][]byte
		for range 500 {
			out = append(out, pick(rng).make(rng, f).wire())
		}
		return out
	}
	a, b, c := storm(7), storm(7), storm(8)
	same := func(x, y [][]byte) bool {
		for i := range x {
			if !bytes.Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("the same seed made two different storms")
	}
	if same(a, c) {
		t.Error("two seeds made the same storm")
	}
}
