package jobs

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/test/apiclient"
	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

const (
	keyName    = "loader"
	keySecret  = "loader-secret-0123456789"
	rootSecret = "root-secret-0123456789"
)

// cluster is one private etalase deployment: a fresh database, a private
// redis-server, and the api and worker processes a test starts on them.
type cluster struct {
	t     *testing.T
	dsn   string
	redis *redisproc.Server
	db    *pgxpool.Pool
	env   map[string]string
	api   *apiclient.Client // the writer's client of the current api process
	base  string            // the API's URL of the current api process
	catID int64
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
		"ADMIN_KEYS":            "root:" + rootSecret,
		"LOG_LEVEL":             "warn",
		"REPORT_DELAY":          "0s",
		"REPORT_SWEEP_AFTER":    "3s",
		"REPORT_SWEEP_INTERVAL": "500ms",
		"SHUTDOWN_TIMEOUT":      "5s",
	}
	for k, v := range env {
		c.env[k] = v
	}
	c.api = apiclient.New("", keySecret)
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
	api := testproc.StartAPI(c.t, c.vars(nil), "api")
	c.base = api.URL
	c.api.Base = c.base
	api.WaitHealthy(c.t, 30*time.Second)
	if c.catID == 0 {
		c.catID = c.mustCreate("/categories", map[string]any{"name": "Fault " + strconv.FormatInt(time.Now().UnixNano(), 36)})
	}
	return api.Proc
}

// startWorker runs `etalase worker`.
func (c *cluster) startWorker(extra map[string]string) *testproc.Proc {
	c.t.Helper()
	return testproc.Start(c.t, c.vars(extra), "worker")
}

// post sends a JSON body with the loader's key; it returns the status and
// the created id, or an error when no answer came.
func (c *cluster) post(path string, body any) (int, int64, error) {
	r, id, err := c.api.Create(path, body)
	return r.Status, id, err
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

// waitAllCompleted waits until every product has exactly one report and
// every report is completed with a result.
func (c *cluster) waitAllCompleted(timeout time.Duration) pgtest.ReportState {
	c.t.Helper()
	return pgtest.WaitReportsCompleted(c.t, c.db, timeout)
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
