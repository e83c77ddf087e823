package jobs

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/test/apiclient"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

// TestJobsOnRedisCluster runs `etalase api` and `etalase worker` with
// REDIS_MODE=cluster on a private three-master Redis Cluster (the queue and
// the cache both): the relay enqueues every product's report and the worker
// completes it; a job whose attempts all fail is retried, kept as failed,
// listed and counted by /admin, and retried from there to completion. No
// process logs a cluster error (a script touching two slots, a redirect).
func TestJobsOnRedisCluster(t *testing.T) {
	t.Parallel()
	cl := redisproc.StartCluster(t)
	// REDIS_URL still names the harness's single Redis: in cluster mode
	// only its credentials (none) count, the nodes come from REDIS_ADDRS.
	c := newCluster(t, map[string]string{
		"REDIS_MODE":            "cluster",
		"REDIS_ADDRS":           cl.AddrList(),
		"JOB_RETRY_BASE":        "10ms",
		"REPORT_SWEEP_AFTER":    "10m",
		"REPORT_SWEEP_INTERVAL": "10m",
	})
	api := c.startAPI()
	worker := c.startWorker(nil)
	for _, sku := range []string{"cl-1", "cl-2", "cl-3", "cl-4", "cl-5"} {
		c.mustCreate("/products", c.product(sku))
	}
	s := c.waitAllCompleted(60 * time.Second)
	t.Logf("%d products, %d reports completed through the relay and the worker", s.Products, s.Completed)

	// Every attempt at the next report fails while the products it
	// summarizes are away (the report row, its own outbox row, stays for
	// the relay).
	worker.Stop(10 * time.Second)
	id := c.mustCreate("/products", c.product("cl-broken"))
	ctx := context.Background()
	if _, err := c.db.Exec(ctx, `ALTER TABLE products RENAME TO products_away`); err != nil {
		t.Fatal(err)
	}
	worker = c.startWorker(nil)
	failed := c.waitFailed(30 * time.Second)
	if failed.Type != "generate-report" || failed.Retried != 4 || failed.LastError == "" {
		t.Errorf("failed job = %+v; want generate-report after 4 retries, with its error", failed)
	}
	counts := c.queueCounts()
	if counts.Archived != 1 || counts.Completed < 5 {
		t.Errorf("report queue counts = %+v; want 1 archived, at least 5 completed", counts)
	}
	if _, err := c.db.Exec(ctx, `ALTER TABLE products_away RENAME TO products`); err != nil {
		t.Fatal(err)
	}
	if status, _ := c.admin(http.MethodPost, "/admin/queues/report/failed/"+failed.ID+"/retry", nil); status != http.StatusAccepted {
		t.Fatalf("retry of %s = %d, want 202", failed.ID, status)
	}
	c.waitAllCompleted(60 * time.Second)
	var results int
	if err := c.db.QueryRow(ctx, `SELECT count(result) FROM reports WHERE product_id = $1`, id).Scan(&results); err != nil {
		t.Fatal(err)
	}
	if results != 1 {
		t.Errorf("the retried report has %d results, want 1", results)
	}

	// The jobs went through the cluster, not the harness's single Redis.
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	defer rc.Close()
	if n, err := rc.ZCard(ctx, "asynq:{report}:completed").Result(); err != nil || n < 6 {
		t.Errorf("the cluster holds %d completed report jobs (%v), want 6", n, err)
	}
	single := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
	defer single.Close()
	if keys, err := single.Keys(ctx, "*").Result(); err != nil || len(keys) > 0 {
		t.Errorf("the single Redis holds %v (%v), want nothing", keys, err)
	}

	for name, p := range map[string]*testproc.Proc{"api": api, "worker": worker} {
		out := p.Output()
		for _, sign := range []string{"CROSSSLOT", "non local key", "MOVED", "ASK ", "CLUSTERDOWN"} {
			if strings.Contains(out, sign) {
				t.Errorf("the %s logged a cluster error (%s):\n%s", name, sign, out)
			}
		}
	}
}

// failedJob is an entry of GET /admin/queues/{queue}/failed.
type failedJob struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Retried   int    `json:"retried"`
	LastError string `json:"lastError"`
}

// queueCounts is an entry of GET /admin/queues.
type queueCounts struct {
	Queue     string `json:"queue"`
	Pending   int    `json:"pending"`
	Active    int    `json:"active"`
	Retry     int    `json:"retry"`
	Archived  int    `json:"archived"`
	Completed int    `json:"completed"`
}

// admin calls the admin API with the harness's admin key and decodes the
// answer into out when it is not nil.
func (c *cluster) admin(method, path string, out any) (int, error) {
	r, err := c.api.Do(method, path, nil, apiclient.Bearer(rootSecret))
	if err != nil {
		return 0, err
	}
	if out != nil {
		err = r.Decode(out)
	}
	return r.Status, err
}

// waitFailed waits until the report queue holds exactly one failed job.
func (c *cluster) waitFailed(timeout time.Duration) failedJob {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var body struct{ Data []failedJob }
		status, err := c.admin(http.MethodGet, "/admin/queues/report/failed", &body)
		if err != nil || status != http.StatusOK {
			c.t.Fatalf("GET failed jobs = %d, %v", status, err)
		}
		if len(body.Data) == 1 {
			return body.Data[0]
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("after %s the report queue holds %d failed jobs, want 1", timeout, len(body.Data))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// queueCounts returns the report queue's counts from /admin/queues.
func (c *cluster) queueCounts() queueCounts {
	c.t.Helper()
	var body struct{ Data []queueCounts }
	status, err := c.admin(http.MethodGet, "/admin/queues", &body)
	if err != nil || status != http.StatusOK {
		c.t.Fatalf("GET /admin/queues = %d, %v", status, err)
	}
	for _, q := range body.Data {
		if q.Queue == "report" {
			return q
		}
	}
	c.t.Fatalf("/admin/queues has no report queue: %+v", body.Data)
	return queueCounts{}
}
