package httpapi_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/domain"
)

// faultyStore is the memory store with one fault injected into product
// reads, idempotency and pings: the way to reach the error rows a healthy
// store never produces.
type faultyStore struct {
	domain.Store
	fault error
}

func (s faultyStore) Products() domain.ProductRepository {
	return faultyProducts{ProductRepository: s.Store.Products(), fault: s.fault}
}

func (s faultyStore) Idempotency() domain.IdempotencyStore {
	return faultyIdempotency{fault: s.fault}
}

func (s faultyStore) InTx(ctx context.Context, fn func(tx domain.Store) error) error {
	return s.Store.InTx(ctx, func(tx domain.Store) error { return fn(faultyStore{Store: tx, fault: s.fault}) })
}

func (s faultyStore) Ping(context.Context) error { return s.fault }

type faultyProducts struct {
	domain.ProductRepository
	fault error
}

func (p faultyProducts) Get(context.Context, int64) (domain.Product, error) {
	return domain.Product{}, p.fault
}

func (p faultyProducts) List(context.Context, domain.ProductQuery) (domain.ProductPage, error) {
	return domain.ProductPage{}, p.fault
}

type faultyIdempotency struct{ fault error }

func (f faultyIdempotency) Begin(context.Context, string, string, time.Time) (domain.IdempotencyRecord, bool, error) {
	return domain.IdempotencyRecord{}, false, f.fault
}

func (f faultyIdempotency) Save(context.Context, domain.IdempotencyRecord) error { return f.fault }

func TestDependencyFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      error
		wantStatus int
		wantRetry  bool
	}{
		{"postgres unreachable", domain.Unavailable("the database is unreachable", errors.New("dial tcp 10.0.0.1:5432: password=hunter2")), 503, true},
		{"a bug below", errors.New(`pq: relation "secret_table" does not exist`), 500, false},
		{"idempotency key in flight", domain.Conflict("a request with this Idempotency-Key is in flight"), 409, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := memory.New()
			healthy := newHarnessOver(t, store)
			cat := healthy.createCategory("X")
			h := newHarnessOver(t, faultyStore{Store: store, fault: tt.fault})
			body := `{"name":"n","price":1,"categoryId":` + strconv.FormatInt(cat, 10) + `}`
			outs := []resp{h.do(req{method: "POST", path: "/products", key: aliceSecret, body: body,
				header: map[string]string{"Idempotency-Key": "k-1"}})}
			if tt.wantStatus != 409 {
				outs = append(outs, h.do(req{method: "GET", path: "/products/1"}), h.do(req{method: "GET", path: "/products"}))
			}
			for i, out := range outs {
				if out.status != tt.wantStatus {
					t.Fatalf("request %d: status %d, want %d; body %s", i, out.status, tt.wantStatus, out.body)
				}
				out.problemFields(t)
				if got := out.header.Get("Retry-After") != ""; got != tt.wantRetry {
					t.Fatalf("request %d: Retry-After %q", i, out.header.Get("Retry-After"))
				}
				for _, secret := range []string{"hunter2", "secret_table", "10.0.0.1"} {
					if strings.Contains(string(out.body), secret) {
						t.Fatalf("request %d leaked %q: %s", i, secret, out.body)
					}
				}
			}
		})
	}
}

func TestReadinessFollowsTheStore(t *testing.T) {
	t.Parallel()
	ok := newHarness(t).must(200, req{method: "GET", path: "/readyz"}).json(t)
	if ok["status"] != "ok" || ok["checks"].(map[string]any)["postgres"] != "ok" {
		t.Fatalf("readyz %v", ok)
	}
	down := newHarnessOver(t, faultyStore{Store: memory.New(), fault: domain.Unavailable("down", nil)})
	got := down.must(503, req{method: "GET", path: "/readyz"}).json(t)
	if got["checks"].(map[string]any)["postgres"] != "error: unavailable" {
		t.Fatalf("readyz %v", got)
	}
	down.must(200, req{method: "GET", path: "/healthz"})
}

func TestAuthenticationRows(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		writes := []req{
			{method: "POST", path: "/products", body: `{}`},
			{method: "PATCH", path: "/products/1", body: `{}`},
			{method: "DELETE", path: "/products/1"},
			{method: "POST", path: "/categories", body: `{"name":"x"}`},
			{method: "PATCH", path: "/categories/1", body: `{}`},
			{method: "DELETE", path: "/categories/1"},
		}
		for _, w := range writes {
			for _, key := range []string{"", "wrong-secret", aliceSecret + "x", aliceSecret[:len(aliceSecret)-1]} {
				w.key = key
				out := h.must(401, w)
				if !strings.HasPrefix(out.header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("%s %s: WWW-Authenticate %q", w.method, w.path, out.header.Get("WWW-Authenticate"))
				}
				out.problemFields(t)
			}
		}
		// Admin keys may write too.
		h.must(201, req{method: "POST", path: "/categories", key: rootSecret, body: `{"name":"By root"}`})
		// Reads are public.
		for _, path := range []string{"/products", "/categories", "/healthz", "/readyz", "/openapi.yaml", "/docs"} {
			h.must(200, req{method: "GET", path: path})
		}
	})
}

func TestRoutingRows(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, open openStore) {
		h := newHarnessOver(t, open(t))
		tests := []struct {
			r    req
			want int
		}{
			{req{method: "GET", path: "/nope"}, 404},
			{req{method: "GET", path: "/products/1/nope"}, 404},
			{req{method: "PUT", path: "/products/1", key: aliceSecret, body: `{}`}, 405},
			{req{method: "POST", path: "/healthz"}, 405},
			{req{method: "GET", path: "/products/1.5"}, 400},
			{req{method: "GET", path: "/products/9223372036854775808"}, 400},
			{req{method: "GET", path: "/products/9223372036854775807"}, 404},
			{req{method: "POST", path: "/products", key: aliceSecret, body: `{"name":`}, 400},
			{req{method: "POST", path: "/products", key: aliceSecret, body: `"text"`}, 400},
			{req{method: "POST", path: "/products", key: aliceSecret, body: `{"a":1}{"b":2}`}, 400},
			{req{method: "POST", path: "/products", key: aliceSecret, body: `<xml/>`,
				header: map[string]string{"Content-Type": "application/xml"}}, 415},
			{req{method: "PATCH", path: "/categories/1", key: aliceSecret, body: `{"name":"x"}`,
				header: map[string]string{"Content-Type": "text/plain"}}, 415},
		}
		for _, tt := range tests {
			out := h.do(tt.r)
			if out.status != tt.want {
				t.Errorf("%s %s: status %d, want %d; body %s", tt.r.method, tt.r.path, out.status, tt.want, out.body)
				continue
			}
			out.problemFields(t)
			if out.header.Get("X-Request-ID") == "" {
				t.Errorf("%s %s: no X-Request-ID", tt.r.method, tt.r.path)
			}
		}
	})
}

// TestBodyOverLimit goes over a real connection (fiber's test transport
// reports fasthttp's error instead of the 413 response). It announces a
// body over the limit and sends none of it: the server answers from the
// headers, and a client still writing when the server closes could see a
// reset instead of the answer.
func TestBodyOverLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if err := h.srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.srv.Shutdown(context.Background()) })
	for _, r := range []req{
		{method: "POST", path: "/products", key: aliceSecret, body: "{}"},
		{method: "PATCH", path: "/categories/1", key: aliceSecret, body: "{}"},
	} {
		conn, err := net.DialTimeout("tcp", h.srv.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			r.method, r.path, r.key, httpapi.DefaultBodyLimit+1)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		conn.Close()
		out := resp{status: res.StatusCode, header: res.Header, body: body}
		if out.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s %s: status %d, want 413", r.method, r.path, out.status)
		}
		out.problemFields(t)
		h.validate(r, out)
	}
}
