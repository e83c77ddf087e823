package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

const (
	keyName   = "loader"
	keySecret = "loader-secret-0123456789"
)

// cluster is one private etalase deployment: a fresh database, a private
// redis-server, and the api and worker processes a test starts on them.
type cluster struct {
	t      *testing.T
	dsn    string
	redis  *redisproc.Server
	db     *pgxpool.Pool
	env    map[string]string
	client *http.Client
	base   string // the API's URL of the current api process
	catID  int64
}

// newCluster prepares the database and Redis; env adds to or overrides the
// processes' environment.
func newCluster(t *testing.T, env map[string]string) *cluster {
	t.Helper()
	c := &cluster{t: t, dsn: pgtest.NewDatabase(t), redis: redisproc.Start(t)}
	pool, err := pgxpool.New(context.Background(), c.dsn)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	t.Cleanup(pool.Close)
	c.db = pool
	c.env = map[string]string{
		"DATABASE_URL":          c.dsn,
		"REDIS_URL":             c.redis.URL(),
		"API_KEYS":              keyName + ":" + keySecret,
		"ADMIN_KEYS":            "root:root-secret-0123456789",
		"LOG_LEVEL":             "warn",
		"REPORT_DELAY":          "0s",
		"REPORT_SWEEP_AFTER":    "3s",
		"REPORT_SWEEP_INTERVAL": "500ms",
		"SHUTDOWN_TIMEOUT":      "5s",
	}
	for k, v := range env {
		c.env[k] = v
	}
	c.client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000, MaxConnsPerHost: 1000}}
	return c
}

func (c *cluster) vars(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range c.env {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// startAPI runs `etalase api` on a free port and waits until it answers.
func (c *cluster) startAPI() *testproc.Proc {
	c.t.Helper()
	port := testproc.FreePort(c.t)
	p := testproc.Start(c.t, c.vars(map[string]string{"HTTP_ADDR": "127.0.0.1:" + strconv.Itoa(port)}), "api")
	c.base = "http://127.0.0.1:" + strconv.Itoa(port)
	p.WaitHTTP(c.t, c.base+"/healthz", 30*time.Second)
	if c.catID == 0 {
		c.catID = c.mustCreate("/categories", map[string]any{"name": "Fault " + strconv.FormatInt(time.Now().UnixNano(), 36)})
	}
	return p
}

// startWorker runs `etalase worker`.
func (c *cluster) startWorker(extra map[string]string) *testproc.Proc {
	c.t.Helper()
	return testproc.Start(c.t, c.vars(extra), "worker")
}

// post sends a JSON body with the loader's key; it returns the status and
// the created id, or an error when no answer came.
func (c *cluster) post(path string, body any) (int, int64, error) {
	var b []byte
	if body != nil { // a nil body is none: POST /products/{id}/reports takes none
		b, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+keySecret)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, 0, err
	}
	var out struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, 0, fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out.ID, nil
}

func (c *cluster) mustCreate(path string, body any) int64 {
	c.t.Helper()
	status, id, err := c.post(path, body)
	if err != nil || status != http.StatusCreated {
		c.t.Fatalf("POST %s = %d, %v", path, status, err)
	}
	return id
}

func (c *cluster) product(sku string) map[string]any {
	return map[string]any{"sku": sku, "name": "Product " + sku, "price": "12.34", "stock": 3, "categoryId": c.catID}
}

// reportState is what the database says about every product's reports.
type reportState struct {
	products, reports, completed int
	withoutOne                   []int64 // products with zero or several reports from their creation
	unsent                       int
}

func (c *cluster) reportState() reportState {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var s reportState
	const counts = `SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM reports),
		(SELECT count(*) FROM reports WHERE status = 'completed' AND result IS NOT NULL),
		(SELECT count(*) FROM outbox WHERE sent_at IS NULL)`
	if err := c.db.QueryRow(ctx, counts).Scan(&s.products, &s.reports, &s.completed, &s.unsent); err != nil {
		c.t.Fatalf("count reports: %v", err)
	}
	const odd = `SELECT p.id FROM products p LEFT JOIN reports r ON r.product_id = p.id
		GROUP BY p.id HAVING count(r.id) <> 1 ORDER BY p.id LIMIT 20`
	rows, err := c.db.Query(ctx, odd)
	if err != nil {
		c.t.Fatalf("find products without exactly one report: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			c.t.Fatal(err)
		}
		s.withoutOne = append(s.withoutOne, id)
	}
	return s
}

// waitAllCompleted waits until every product has exactly one report and
// every report is completed with a result.
func (c *cluster) waitAllCompleted(timeout time.Duration) reportState {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := c.reportState()
		if len(s.withoutOne) == 0 && s.completed == s.reports && s.reports == s.products {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("after %s: %d products, %d reports, %d completed, %d unsent outbox jobs; products without exactly one report: %v",
				timeout, s.products, s.reports, s.completed, s.unsent, s.withoutOne)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitRunning waits until the report of product id is running.
func (c *cluster) waitRunning(id int64, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var status string
		if err := c.db.QueryRow(context.Background(), `SELECT status FROM reports WHERE product_id = $1`, id).Scan(&status); err != nil {
			c.t.Fatal(err)
		}
		if status == "running" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the report never started running (status %s)", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// skus returns the id of every product whose sku starts with prefix.
func (c *cluster) skus(prefix string) map[string]int64 {
	c.t.Helper()
	rows, err := c.db.Query(context.Background(), `SELECT sku, id FROM products WHERE sku LIKE $1 || '%'`, prefix)
	if err != nil {
		c.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var sku string
		var id int64
		if err := rows.Scan(&sku, &id); err != nil {
			c.t.Fatal(err)
		}
		out[sku] = id
	}
	return out
}
