package jobs

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// noSweep keeps the sweeper out of the way: a report that completes in
// these tests does so because its own job reached a worker, not because the
// sweeper re-enqueued it.
var noSweep = map[string]string{"REPORT_SWEEP_AFTER": "10m", "REPORT_SWEEP_INTERVAL": "10m"}

// sharing returns a second deployment on a fresh database of its own that
// uses c's Redis.
func (c *cluster) sharing(t *testing.T) *cluster {
	t.Helper()
	other := newCluster(t, noSweep)
	other.env["REDIS_URL"] = c.redis.URL()
	return other
}

// get answers the status and X-Cache of a GET.
func (c *cluster) get(path string) (int, string) {
	c.t.Helper()
	r, err := c.api.Anonymous().Do(http.MethodGet, path, nil)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	return r.Status, r.Header.Get("X-Cache")
}

// TestFreshDatabaseBehindRedisThatRemembers is a new user dropping the
// database and starting again with the same Redis: the old database's
// cached products are not served, and the new database's reports complete
// at once instead of being taken for the old one's completed jobs (the same
// report ids).
func TestFreshDatabaseBehindRedisThatRemembers(t *testing.T) {
	old := newCluster(t, noSweep)
	api, w := old.startAPI(), old.startWorker(nil)
	for i := range 3 {
		old.mustCreate("/products", old.product("OLD-"+strconv.Itoa(i)))
	}
	old.waitAllCompleted(20 * time.Second)
	for range 2 {
		if status, _ := old.get("/products/1"); status != http.StatusOK {
			t.Fatalf("GET /products/1 on the old database: %d", status)
		}
	}
	if _, xc := old.get("/products/1"); xc != "HIT" {
		t.Fatalf("the old database's product was not cached (X-Cache %s)", xc)
	}
	api.Stop(10 * time.Second)
	w.Stop(10 * time.Second)

	fresh := old.sharing(t)
	// Epochs are small counters in a fresh database: give this one the value
	// just below the old one's, as a backup of it would have, so that its
	// start's bump lands exactly where the old one's entries were stamped.
	var epoch int64
	if err := old.db.QueryRow(context.Background(), `SELECT epoch FROM cache_epoch`).Scan(&epoch); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.db.Exec(context.Background(), `UPDATE cache_epoch SET epoch = $1`, epoch-1); err != nil {
		t.Fatal(err)
	}
	fresh.catID = -1 // no write before the first read: a category would retire product entries
	fresh.startAPI()
	fresh.startWorker(nil)
	if status, xc := fresh.get("/products/1"); status != http.StatusNotFound {
		t.Fatalf("GET /products/1 on a fresh database: %d (X-Cache %s), want 404", status, xc)
	}
	fresh.catID = fresh.mustCreate("/categories", map[string]any{"name": "Fresh"})
	for i := range 3 {
		fresh.mustCreate("/products", fresh.product("NEW-"+strconv.Itoa(i)))
	}
	s := fresh.waitAllCompleted(20 * time.Second)
	t.Logf("fresh database: %d products, %d completed reports", s.Products, s.Completed)
}

// TestTwoDatabasesShareOneRedis runs two deployments, each with its own
// database, on one Redis database at the same time: every report of each
// completes from its own data, through its own workers.
func TestTwoDatabasesShareOneRedis(t *testing.T) {
	a := newCluster(t, noSweep)
	b := a.sharing(t)
	for _, c := range []*cluster{a, b} {
		c.startAPI()
		c.startWorker(nil)
	}
	// b's report ids run ahead of its product ids, so a report job that
	// reached the other database's worker would name the wrong product.
	b.mustCreate("/products", b.product("B-FIRST"))
	for range 5 {
		if status, _, err := b.post("/products/1/reports", nil); status != http.StatusAccepted {
			t.Fatalf("request a report: %d %v", status, err)
		}
	}
	var wg sync.WaitGroup
	for _, c := range []*cluster{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				if _, _, err := c.post("/products", c.product("P-"+strconv.Itoa(i))); err != nil {
					t.Errorf("create: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for name, c := range map[string]*cluster{"a": a, "b": b} {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var reports, done, wrong int
			const q = `SELECT count(*),
				count(*) FILTER (WHERE status = 'completed'),
				count(*) FILTER (WHERE status = 'completed' AND (result->>'productId')::bigint <> product_id)
				FROM reports`
			if err := c.db.QueryRow(context.Background(), q).Scan(&reports, &done, &wrong); err != nil {
				t.Fatal(err)
			}
			if wrong > 0 {
				t.Fatalf("database %s: %d reports computed for another product", name, wrong)
			}
			if done == reports {
				t.Logf("database %s: %d reports, all completed from its own products", name, reports)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("database %s: %d of %d reports completed after 30s", name, done, reports)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
