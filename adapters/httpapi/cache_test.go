package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/etalase/etalase/domain"
)

// mapStore is a ResponseStore over a map: every view misses until a
// response is stored for it.
type mapStore struct {
	mu      sync.Mutex
	entries map[domain.View][]byte
}

func (s *mapStore) Lookup(_ context.Context, view domain.View) ([]byte, func(context.Context, []byte, time.Duration)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.entries[view]; ok {
		return b, nil
	}
	return nil, func(_ context.Context, b []byte, _ time.Duration) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.entries[view] = append([]byte(nil), b...)
	}
}

// cacheApp is a fiber app whose product routes have the response cache of
// the route table and whose product handler counts its calls and answers
// with the item's ETag (and 304 itself); /uncached has no cache rule.
func cacheApp(store ResponseStore) (*fiber.App, *int) {
	calls := 0
	s := &Server{cfg: Config{Responses: store}, log: zap.NewNop()}
	app := fiber.New(fiber.Config{ErrorHandler: s.handleError})
	rule := *cached(domain.ResourceProducts)
	app.Get("/uncached", func(c *fiber.Ctx) error {
		calls++
		return sendJSON(c, fiber.StatusOK, fiber.Map{})
	})
	app.Get("/products/:id", s.responseCache(rule, nil, true), func(c *fiber.Ctx) error {
		calls++
		if c.Params("id") == "404" {
			return c.Status(fiber.StatusNotFound).JSON(fiber.Map{"status": 404})
		}
		return sendItem(c, fiber.StatusOK, `"3"`, fiber.Map{"id": c.Params("id"), "version": 3})
	})
	app.Get("/products", onlyQuery(productListQuery), s.responseCache(rule, productListQuery, false), func(c *fiber.Ctx) error {
		calls++
		return c.JSON(fiber.Map{"data": []int{}, "limit": c.Query("limit")})
	})
	return app, &calls
}

type exchange struct {
	path, ifNoneMatch string
	status            int
	xcache            CacheState
	calls             int // handler calls so far
}

func TestResponseCache(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		store func() ResponseStore
		steps []exchange
	}{
		{
			name:  "a miss is stored and the next request is a hit",
			store: func() ResponseStore { return &mapStore{entries: map[domain.View][]byte{}} },
			steps: []exchange{
				{path: "/products/1", status: 200, xcache: CacheMiss, calls: 1},
				{path: "/products/1", status: 200, xcache: CacheHit, calls: 1},
				{path: "/products/1", ifNoneMatch: `"3"`, status: 304, xcache: CacheHit, calls: 1},
				{path: "/products/1", ifNoneMatch: `"2"`, status: 200, xcache: CacheHit, calls: 1},
			},
		},
		{
			name:  "a conditional miss is stored whole and answered 304",
			store: func() ResponseStore { return &mapStore{entries: map[domain.View][]byte{}} },
			steps: []exchange{
				{path: "/products/2", ifNoneMatch: `W/"3"`, status: 304, xcache: CacheMiss, calls: 1},
				{path: "/products/2", status: 200, xcache: CacheHit, calls: 1},
			},
		},
		{
			name:  "only 200s are stored",
			store: func() ResponseStore { return &mapStore{entries: map[domain.View][]byte{}} },
			steps: []exchange{
				{path: "/products/404", status: 404, xcache: CacheMiss, calls: 1},
				{path: "/products/404", status: 404, xcache: CacheMiss, calls: 2},
			},
		},
		{
			name:  "the query is sorted and parameters the route does not read are refused",
			store: func() ResponseStore { return &mapStore{entries: map[domain.View][]byte{}} },
			steps: []exchange{
				{path: "/products?sort=name&limit=5", status: 200, xcache: CacheMiss, calls: 1},
				{path: "/products?limit=5&sort=name", status: 200, xcache: CacheHit, calls: 1},
				{path: "/products?limit=5&sort=name&utm=x", status: 400, xcache: "", calls: 1},
				{path: "/products?limit=5&limit=5&sort=name", status: 400, xcache: "", calls: 1},
				{path: "/products?limit=6&sort=name", status: 200, xcache: CacheMiss, calls: 2},
			},
		},
		{
			name:  "no store: every cacheable response says BYPASS",
			store: func() ResponseStore { return nil },
			steps: []exchange{
				{path: "/products/1", status: 200, xcache: CacheBypass, calls: 1},
				{path: "/products/1", status: 200, xcache: CacheBypass, calls: 2},
			},
		},
		{
			name:  "a route without a cache rule has no X-Cache; a bad id is a 400",
			store: func() ResponseStore { return &mapStore{entries: map[domain.View][]byte{}} },
			steps: []exchange{
				{path: "/uncached", status: 200, xcache: "", calls: 1},
				{path: "/uncached", status: 200, xcache: "", calls: 2},
				{path: "/products/x1", status: 400, xcache: "", calls: 2},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app, calls := cacheApp(tc.store())
			var firstBody string
			for i, step := range tc.steps {
				req := httptest.NewRequest(http.MethodGet, step.path, nil)
				if step.ifNoneMatch != "" {
					req.Header.Set(fiber.HeaderIfNoneMatch, step.ifNoneMatch)
				}
				resp, err := app.Test(req, -1)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != step.status || resp.Header.Get(HeaderXCache) != string(step.xcache) || *calls != step.calls {
					t.Fatalf("step %d GET %s: status %d X-Cache %q handler calls %d; want %d %q %d",
						i, step.path, resp.StatusCode, resp.Header.Get(HeaderXCache), *calls, step.status, step.xcache, step.calls)
				}
				if resp.StatusCode == 200 && step.path == tc.steps[0].path {
					if firstBody == "" {
						firstBody = string(body)
					} else if string(body) != firstBody {
						t.Fatalf("step %d: body %s, want the stored %s", i, body, firstBody)
					}
				}
				if resp.StatusCode == 200 && resp.Header.Get(HeaderXCache) == string(CacheHit) && resp.Header.Get(fiber.HeaderETag) == "" && strings.HasPrefix(step.path, "/products/") {
					t.Fatalf("step %d: a hit of an item lost its ETag", i)
				}
			}
		})
	}
}

func TestStoredResponseRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []cachedResponse{
		{ContentType: "application/json", ETag: `"12"`, Body: []byte(`{"id":1,"body":"x,\"body\":y"}`)},
		{ContentType: "application/json", Body: []byte(`{"data":[],"nextCursor":null}`)},
		{ContentType: "application/problem+json; charset=utf-8", ETag: `W/"a\\b"`, Body: []byte(`[]`)},
		{ContentType: "text/plain", ETag: `"<&>"`, Body: []byte(`"x"`)},
	}
	for i, want := range cases {
		b, err := want.encode()
		if err != nil {
			t.Fatalf("case %d: encode: %v", i, err)
		}
		got, err := decodeCached(b)
		if err != nil || got.ContentType != want.ContentType || got.ETag != want.ETag || string(got.Body) != string(want.Body) {
			t.Fatalf("case %d: round trip of %s = %+v (%v)", i, b, got, err)
		}
	}
	for _, bad := range []string{"", "{}", `{"contentType":"a"}`, `{"contentType":1,"body":{}}`} {
		if _, err := decodeCached([]byte(bad)); err == nil {
			t.Errorf("decodeCached(%q) accepted it", bad)
		}
	}
}

// TestDecodeHead checks that the fast reader of a stored head agrees with
// the JSON decoder wherever it answers, and hands the rest to the decoder.
func TestDecodeHead(t *testing.T) {
	t.Parallel()
	cases := []struct {
		head string
		fast bool // whether decodeHead reads it itself
	}{
		{`{"contentType":"application/json","etag":"\"12\""`, true},
		{`{"contentType":"application/json"`, true},
		{`{"contentType":"text/plain","etag":"W/\"a\\\\b\""`, true},
		{`{"contentType":"a\u003cb"`, false},
		{`{"etag":"\"1\"","contentType":"application/json"`, false},
		{`{"contentType":"application/json","etag":"\"1\"","x":1`, false},
		{`{"contentType":"application/json","etag":"\"1`, false},
		{`{"contentType":"application/json`, false},
	}
	for _, tc := range cases {
		got, ok := decodeHead([]byte(tc.head))
		if ok != tc.fast {
			t.Errorf("decodeHead(%s) ok = %v, want %v", tc.head, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		var want cachedResponse
		if err := json.Unmarshal([]byte(tc.head+"}"), &want); err != nil {
			t.Fatalf("the JSON decoder rejects %s: %v", tc.head, err)
		}
		if got.ContentType != want.ContentType || got.ETag != want.ETag {
			t.Errorf("decodeHead(%s) = %+v, the JSON decoder reads %+v", tc.head, got, want)
		}
	}
}
