package pooler

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAPIAndWorkerThroughPgBouncer runs an api and a worker whose pools of
// 16 share PgBouncer's four server connections, with the cache on: a few
// hundred concurrent creates and patches, and every read afterwards shows
// the last write; every product's report completes exactly once; nothing
// answers 5xx. The API trusts its cache, which needs its epoch watch (a
// LISTEN on DATABASE_DIRECT_URL), and PostgreSQL sees the processes only
// through PgBouncer's connections plus one direct listener each.
func TestAPIAndWorkerThroughPgBouncer(t *testing.T) {
	t.Parallel()
	const categories, products, workers = 8, 240, 16
	d := newDeployment(t)
	api := d.start("api")
	api.WaitHTTP(t, api.base+"/readyz", 30*time.Second)
	worker := d.start("worker")

	// Categories and products, concurrently.
	catIDs := make([]int64, categories)
	fail(t, "create categories", parallel(categories, workers, func(i int) error {
		r, err := d.do(http.MethodPost, api.base+"/categories", map[string]any{"name": fmt.Sprintf("Pooled %d", i)})
		if err := expect(r, err, http.StatusCreated, "POST /categories"); err != nil {
			return err
		}
		var c struct{ ID int64 }
		err = r.Decode(&c)
		catIDs[i] = c.ID
		return err
	}))
	ids := make([]int64, products)
	fail(t, "create products", parallel(products, workers, func(i int) error {
		r, err := d.do(http.MethodPost, api.base+"/products", map[string]any{
			"sku": fmt.Sprintf("PB-%04d", i), "name": fmt.Sprintf("Pooled product %d", i),
			"price": "10.00", "stock": i, "categoryId": catIDs[i%categories]})
		if err := expect(r, err, http.StatusCreated, "POST /products"); err != nil {
			return err
		}
		var p struct{ ID int64 }
		err = r.Decode(&p)
		ids[i] = p.ID
		return err
	}))

	// Every product read once, so the cache holds the old state that the
	// patches below must retire.
	fail(t, "read products", parallel(products, workers, func(i int) error {
		r, err := d.do(http.MethodGet, fmt.Sprintf("%s/products/%d", api.base, ids[i]), nil)
		return expect(r, err, http.StatusOK, "GET /products/{id}")
	}))
	fail(t, "patch products", parallel(products, workers, func(i int) error {
		r, err := d.do(http.MethodPatch, fmt.Sprintf("%s/products/%d", api.base, ids[i]),
			map[string]any{"name": fmt.Sprintf("Patched product %d", i), "price": fmt.Sprintf("%d.50", i)})
		return expect(r, err, http.StatusOK, "PATCH /products/{id}")
	}))
	fail(t, "rename categories", parallel(categories, workers, func(i int) error {
		r, err := d.do(http.MethodPatch, fmt.Sprintf("%s/categories/%d", api.base, catIDs[i]),
			map[string]any{"name": fmt.Sprintf("Renamed %d", i)})
		return expect(r, err, http.StatusOK, "PATCH /categories/{id}")
	}))

	// Read back twice: the first read may fill the cache, the second may hit
	// it; both must show the last writes.
	hits := 0
	for round := 0; round < 2; round++ {
		for i, id := range ids {
			r, err := d.do(http.MethodGet, fmt.Sprintf("%s/products/%d", api.base, id), nil)
			if err := expect(r, err, http.StatusOK, "GET /products/{id}"); err != nil {
				t.Fatal(err)
			}
			var p struct {
				Name, Price string
				Version     int64
				Category    struct{ Name string }
			}
			if err := r.Decode(&p); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("Patched product %d|%d.50|Renamed %d|2", i, i, i%categories)
			if got := fmt.Sprintf("%s|%s|%s|%d", p.Name, p.Price, p.Category.Name, p.Version); got != want {
				t.Fatalf("product %d reads %s, want %s", id, got, want)
			}
			if r.Header.Get("X-Cache") == "HIT" {
				hits++
			}
		}
	}
	if hits == 0 {
		t.Errorf("no read of %d was a cache hit", 2*products)
	}
	listed := 0
	for _, c := range catIDs {
		r, err := d.do(http.MethodGet, fmt.Sprintf("%s/products?categoryId=%d&limit=100", api.base, c), nil)
		if err := expect(r, err, http.StatusOK, "GET /products?categoryId"); err != nil {
			t.Fatal(err)
		}
		var page struct{ Data []struct{ Name string } }
		if err := r.Decode(&page); err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Data {
			if !strings.HasPrefix(p.Name, "Patched product ") {
				t.Fatalf("category %d lists %q, a name from before the patches", c, p.Name)
			}
		}
		listed += len(page.Data)
	}
	if listed != products {
		t.Fatalf("the category lists hold %d products, want %d", listed, products)
	}

	s := d.waitReports(2 * time.Minute)
	if s.Products != products {
		t.Fatalf("%d products in the database, want %d", s.Products, products)
	}

	r, err := d.do(http.MethodGet, api.base+"/readyz", nil)
	if err := expect(r, err, http.StatusOK, "GET /readyz"); err != nil {
		t.Fatal(err)
	}
	var ready struct{ Status string }
	if err := r.Decode(&ready); err != nil {
		t.Fatal(err)
	}
	if ready.Status != "ok" {
		t.Fatalf("readyz %s: %s", ready.Status, r.Body)
	}
	// A Redis call that outlasts the cache's short timeout on a busy machine
	// distrusts the cache until the next probe: wait for trust, not for
	// an instant.
	m := d.metrics(api)
	for deadline := time.Now().Add(30 * time.Second); ; m = d.metrics(api) {
		v, _ := metric(m, "etalase_cache_trusted")
		if v == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("etalase_cache_trusted = %q, want 1", v)
		}
		time.Sleep(100 * time.Millisecond)
	}
	counted := 0
	for _, line := range strings.Split(m, "\n") {
		if !strings.HasPrefix(line, "etalase_http_requests_total{") {
			continue
		}
		counted++
		if strings.Contains(line, `status="5`) {
			t.Errorf("the API answered 5xx: %s", line)
		}
	}
	if counted == 0 {
		t.Fatal("the API's metrics count no requests")
	}

	// The api's epoch watch and the worker's relay listen directly; all
	// else shares PgBouncer's pool.
	viaBouncer, direct := d.backends()
	if direct != 2 || viaBouncer > d.bouncer.PoolSize {
		t.Fatalf("PostgreSQL sees %d direct sessions (want 2 listeners) and %d through PgBouncer (at most %d)",
			direct, viaBouncer, d.bouncer.PoolSize)
	}
	for _, p := range []*process{api, worker} {
		if strings.Contains(p.Output(), "prepared statement") {
			t.Fatalf("a process logged prepared statement errors:\n%s", p.Output())
		}
	}
}

// fail fails the test with the first few errors of a step.
func fail(t *testing.T, step string, errs []error) {
	t.Helper()
	if len(errs) == 0 {
		return
	}
	n := len(errs)
	if n > 5 {
		errs = errs[:5]
	}
	t.Fatalf("%s: %d errors, the first: %v", step, n, errs)
}
