package httpapi

import (
	"errors"
	"testing"

	"github.com/etalase/etalase/domain"
)

func TestIfMatchVersion(t *testing.T) {
	t.Parallel()
	v := func(n int64) *int64 { return &n }
	tests := []struct {
		header string
		want   *int64
		stale  bool
	}{
		{"", nil, false},
		{"*", nil, false},
		{` "3" `, v(3), false},
		{`"9223372036854775807"`, v(9223372036854775807), false},
		{`W/"3"`, nil, true},
		{`3`, nil, true},
		{`"3`, nil, true},
		{`""`, nil, true},
		{`"0"`, nil, true},
		{`"-1"`, nil, true},
		{`"9223372036854775808"`, nil, true},
		{`"3", "4"`, nil, true},
		{`"abc"`, nil, true},
		{`"3.1"`, nil, true},
	}
	for _, tt := range tests {
		got, err := ifMatchVersion(tt.header)
		if tt.stale {
			wantPrecondition(t, tt.header, err)
			continue
		}
		if err != nil || (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("%q: got %v, %v", tt.header, got, err)
		}
	}
}

func TestIfMatchRevision(t *testing.T) {
	t.Parallel()
	r := func(v, c int64) *domain.ProductRevision {
		return &domain.ProductRevision{Version: v, CategoryVersion: c}
	}
	tests := []struct {
		header string
		want   *domain.ProductRevision
		stale  bool
	}{
		{"", nil, false},
		{"*", nil, false},
		{` "3.7" `, r(3, 7), false},
		{`"9223372036854775807.9223372036854775807"`, r(9223372036854775807, 9223372036854775807), false},
		{`"3"`, nil, true}, // a product's tag before it covered its category
		{`W/"3.7"`, nil, true},
		{`3.7`, nil, true},
		{`"3.7`, nil, true},
		{`""`, nil, true},
		{`"."`, nil, true},
		{`"3."`, nil, true},
		{`".7"`, nil, true},
		{`"3.7.1"`, nil, true},
		{`"0.7"`, nil, true},
		{`"3.0"`, nil, true},
		{`"3.-7"`, nil, true},
		{`"+3.7"`, nil, true},
		{`"3.9223372036854775808"`, nil, true},
		{`"3.7", "3.8"`, nil, true},
		{`"a.b"`, nil, true},
	}
	for _, tt := range tests {
		got, err := ifMatchRevision(tt.header)
		if tt.stale {
			wantPrecondition(t, tt.header, err)
			continue
		}
		if err != nil || (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("%q: got %v, %v", tt.header, got, err)
		}
	}
}

func wantPrecondition(t *testing.T, header string, err error) {
	t.Helper()
	var he *httpError
	if !errors.As(err, &he) || he.status != 412 {
		t.Errorf("%q: got %v, want a 412", header, err)
	}
}

// A product's tag is read back as the revision it was made of, and names
// each revision once.
func TestProductETag(t *testing.T) {
	t.Parallel()
	seen := map[string]domain.ProductRevision{}
	for v := int64(1); v <= 12; v++ {
		for c := int64(1); c <= 12; c++ {
			rev := domain.ProductRevision{Version: v, CategoryVersion: c}
			tag := productETag(rev)
			if prev, dup := seen[tag]; dup {
				t.Fatalf("%s names both %+v and %+v", tag, prev, rev)
			}
			seen[tag] = rev
			got, err := ifMatchRevision(tag)
			if err != nil || got == nil || *got != rev {
				t.Fatalf("ifMatchRevision(%s) = %v, %v; want %+v", tag, got, err, rev)
			}
		}
	}
	if got := productETag(domain.ProductRevision{Version: 3, CategoryVersion: 7}); got != `"3.7"` {
		t.Fatalf("product etag %s", got)
	}
}

func TestNoneMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header, etag string
		want         bool
	}{
		{"", `"1"`, false},
		{"*", `"1"`, true},
		{`"1"`, `"1"`, true},
		{`W/"1"`, `"1"`, true},
		{`"0", "1"`, `"1"`, true},
		{`"2"`, `"1"`, false},
		{`"10"`, `"1"`, false},
		{`1`, `"1"`, false},
	}
	for _, tt := range tests {
		if got := noneMatch(tt.header, tt.etag); got != tt.want {
			t.Errorf("noneMatch(%q, %s) = %v", tt.header, tt.etag, got)
		}
	}
}

func TestBodyETagIsStrongAndStable(t *testing.T) {
	t.Parallel()
	a, b := bodyETag([]byte(`{"data":[]}`)), bodyETag([]byte(`{"data":[1]}`))
	if a == b || a != bodyETag([]byte(`{"data":[]}`)) || a[0] != '"' || a[len(a)-1] != '"' {
		t.Fatalf("etags %s %s", a, b)
	}
	if versionETag(3) != `"3"` {
		t.Fatalf("version etag %s", versionETag(3))
	}
}

func TestKeyring(t *testing.T) {
	t.Parallel()
	r := newKeyring([]APIKey{{"alice", "a-secret"}, {"bob", "b-secret"}}, []APIKey{{"root", "r-secret"}})
	tests := []struct {
		secret    string
		wantName  string
		wantAdmin bool
		wantOK    bool
	}{
		{"a-secret", "alice", false, true},
		{"b-secret", "bob", false, true},
		{"r-secret", "root", true, true},
		{"a-secre", "", false, false},
		{"a-secret ", "", false, false},
		{"", "", false, false},
		{"A-SECRET", "", false, false},
	}
	for _, tt := range tests {
		got, ok := r.lookup(tt.secret)
		if ok != tt.wantOK || got.name != tt.wantName || got.admin != tt.wantAdmin {
			t.Errorf("lookup(%q) = %+v, %v", tt.secret, got, ok)
		}
	}
}

func TestRouteMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/products/:id", "/products/1", true},
		{"/products/:id", "/products/1/", true},
		{"/products/:id", "/products", false},
		{"/products/:id", "/products/1/reports", false},
		{"/admin/queues/:queue/failed/:job/retry", "/admin/queues/report/failed/x/retry", true},
		{"/docs/*", "/docs/a/b", true},
		{"/", "/", true},
	}
	for _, tt := range tests {
		if got := routeMatches(tt.pattern, tt.path); got != tt.want {
			t.Errorf("routeMatches(%q, %q) = %v", tt.pattern, tt.path, got)
		}
	}
}
