package jobs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestKillAPIDuringCreations kills `etalase api` with SIGKILL at a random
// moment while 500 product creations are in flight, five times over, with
// a worker running throughout. Every 201 the client saw must be in the
// database, the database must hold nothing the client did not send, and
// every committed product must end with exactly one completed report.
func TestKillAPIDuringCreations(t *testing.T) {
	c := newCluster(t, nil)
	c.startAPI().Kill()
	c.startWorker(nil)
	const rounds, creations = 5, 500
	type outcome struct {
		id     int64
		status int
		err    error
	}
	outcomes := make([][]outcome, rounds)
	for round := 0; round < rounds; round++ {
		api := c.startAPI()
		prefix := fmt.Sprintf("kill-%d-", round)
		outcomes[round] = make([]outcome, creations)
		var answered atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < creations; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				status, id, err := c.post("/products", c.product(fmt.Sprintf("%s%03d", prefix, i)))
				outcomes[round][i] = outcome{id: id, status: status, err: err}
				answered.Add(1)
			}()
		}
		// The kill lands at a random point of the stream: after 5% to 95%
		// of the creations were answered.
		killAfter := int64(creations/20 + rand.IntN(creations*9/10))
		close(start)
		for answered.Load() < killAfter {
			time.Sleep(100 * time.Microsecond)
		}
		api.Kill()
		wg.Wait()
	}
	// A restarted API takes requests again; the worker finishes the jobs.
	// The database is read only now: a COMMIT the killed process had sent
	// may land after its connections drop, and it counts as committed.
	c.startAPI()
	s := c.waitAllCompleted(60 * time.Second)
	committed := 0
	for round, outs := range outcomes {
		prefix := fmt.Sprintf("kill-%d-", round)
		inDB := c.skus(prefix)
		created, lost := 0, 0
		sent := map[string]bool{}
		for i, o := range outs {
			sku := fmt.Sprintf("%s%03d", prefix, i)
			sent[sku] = true
			switch {
			case o.status == http.StatusCreated:
				created++
				if inDB[sku] != o.id {
					t.Errorf("round %d: %s answered 201 with id %d, the database has %d", round, sku, o.id, inDB[sku])
				}
			case o.err != nil && o.status == 0:
				lost++ // no answer: committed or not, either is allowed
			default:
				t.Errorf("round %d: %s answered %d: %v", round, sku, o.status, o.err)
			}
		}
		for sku := range inDB {
			if !sent[sku] {
				t.Errorf("round %d: the database holds %s, which was never sent", round, sku)
			}
		}
		committed += len(inDB)
		t.Logf("round %d: %d answered 201, %d without answer, %d committed", round, created, lost, len(inDB))
	}
	if s.Products != committed {
		t.Errorf("%d products in the database, %d committed by the rounds", s.Products, committed)
	}
	t.Logf("%d products, %d reports, all completed", s.Products, s.Reports)
}

// TestKillWorkerMidJob kills a worker with SIGKILL while it runs a job
// (REPORT_DELAY=2s); a new worker completes the job, with one result.
func TestKillWorkerMidJob(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]string{"REPORT_DELAY": "2s", "REPORT_SWEEP_AFTER": "4s"})
	c.startAPI()
	w1 := c.startWorker(nil)
	id := c.mustCreate("/products", c.product("mid-job"))
	c.waitRunning(id, 20*time.Second)
	time.Sleep(500 * time.Millisecond)
	w1.Kill()
	killed := time.Now()
	c.startWorker(nil)
	c.waitAllCompleted(60 * time.Second)
	t.Logf("the job completed %s after the worker was killed", time.Since(killed).Round(100*time.Millisecond))
	var attempts, results int
	if err := c.db.QueryRow(context.Background(),
		`SELECT max(attempts), count(result) FROM reports WHERE product_id = $1`, id).Scan(&attempts, &results); err != nil {
		t.Fatal(err)
	}
	if attempts < 2 || results != 1 {
		t.Errorf("report after the kill: %d attempts, %d results; want at least 2 attempts and one result", attempts, results)
	}
}

// load creates products at a steady pace from several clients until stop
// closes, and counts the answers that were not 201.
func load(c *cluster, prefix string, stop <-chan struct{}) (sent, failed *atomic.Int64, errs chan error, done chan struct{}) {
	sent, failed = &atomic.Int64{}, &atomic.Int64{}
	errs = make(chan error, 100)
	done = make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := sent.Add(1)
				status, _, err := c.post("/products", c.product(fmt.Sprintf("%s%d-%d", prefix, w, i)))
				if status != http.StatusCreated {
					failed.Add(1)
					select {
					case errs <- fmt.Errorf("creation %d: %d %v", n, status, err):
					default:
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	return sent, failed, errs, done
}

// TestRedisOutages runs creations through a Redis frozen for 5 s and through
// a Redis killed and restarted empty: no creation fails, and every report
// completes afterwards, those whose jobs Redis forgot through the sweeper.
func TestRedisOutages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		outage func(c *cluster)
	}{
		{"frozen for 5s", func(c *cluster) {
			c.redis.Freeze()
			time.Sleep(5 * time.Second)
			c.redis.Thaw()
		}},
		{"killed and restarted empty", func(c *cluster) {
			c.redis.Kill()
			time.Sleep(2 * time.Second)
			c.redis.Restart()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A slow job keeps some reports queued or running in Redis when
			// the outage hits.
			c := newCluster(t, map[string]string{"REPORT_DELAY": "300ms"})
			c.startAPI()
			c.startWorker(nil)
			stop := make(chan struct{})
			sent, failed, errs, done := load(c, "outage-", stop)
			time.Sleep(1500 * time.Millisecond)
			tc.outage(c)
			time.Sleep(1500 * time.Millisecond)
			close(stop)
			<-done
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if failed.Load() != 0 {
				t.Fatalf("%d of %d creations failed", failed.Load(), sent.Load())
			}
			s := c.waitAllCompleted(90 * time.Second)
			t.Logf("%d creations, 0 failed; %d reports completed", sent.Load(), s.Completed)
		})
	}
}

// TestWorkerFinishesJobOnSIGTERM stops a worker with SIGTERM while it runs a
// job: the job finishes within SHUTDOWN_TIMEOUT and the worker exits 0.
func TestWorkerFinishesJobOnSIGTERM(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]string{"REPORT_DELAY": "2s", "SHUTDOWN_TIMEOUT": "10s"})
	c.startAPI()
	w := c.startWorker(nil)
	id := c.mustCreate("/products", c.product("graceful"))
	c.waitRunning(id, 20*time.Second)
	if code := w.Stop(15 * time.Second); code != 0 {
		t.Fatalf("worker exit code %d on SIGTERM, want 0", code)
	}
	var status string
	var attempts int
	if err := c.db.QueryRow(context.Background(), `SELECT status, attempts FROM reports WHERE product_id = $1`, id).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != "completed" || attempts != 1 {
		t.Errorf("report after the graceful stop: %s after %d attempts; want completed after 1", status, attempts)
	}
}
