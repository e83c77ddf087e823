package jobs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/adapters/queue"
	"github.com/etalase/etalase/domain"
)

// TestWorkerTakesJobsInLanes starts a worker with WORKER_CONCURRENCY=40:
// asynq holds one server per lane (two of 20), the console lists them as
// the one process they are, with the concurrency given, and reports
// created through the API complete.
func TestWorkerTakesJobsInLanes(t *testing.T) {
	t.Parallel()
	c := newCluster(t, nil)
	c.startAPI()
	w := c.startWorker(map[string]string{"WORKER_CONCURRENCY": "40"})
	rdb := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
	defer rdb.Close()
	ins := asynq.NewInspectorFromRedisClient(rdb)

	var lanes []*asynq.ServerInfo
	deadline := time.Now().Add(20 * time.Second)
	for len(lanes) < 2 && time.Now().Before(deadline) {
		servers, err := ins.Servers()
		if err != nil {
			t.Fatal(err)
		}
		lanes = lanes[:0]
		for _, s := range servers {
			if s.PID == w.Pid() {
				lanes = append(lanes, s)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(lanes) != 2 || lanes[0].Concurrency != 20 || lanes[1].Concurrency != 20 {
		t.Fatalf("the worker's asynq servers: %d, want two lanes of 20: %+v", len(lanes), lanes)
	}
	workers, err := queue.NewBrowser(rdb, nil, domain.QueueReport).Workers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(workers) != 1 || workers[0].PID != w.Pid() || workers[0].Concurrency != 40 ||
		len(workers[0].Queues) != 1 || workers[0].Queues[0] != domain.QueueReport {
		t.Fatalf("the console's workers: %+v, want the one process with concurrency 40 on the report queue", workers)
	}

	for i := range 30 {
		c.mustCreate("/products", c.product(fmt.Sprintf("LANE-%d", i)))
	}
	if s := c.waitAllCompleted(30 * time.Second); s.Products != 30 {
		t.Errorf("%d products, want 30", s.Products)
	}
}
