package cache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/test/pgbouncerproc"
	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/sentinelproc"
	"github.com/etalase/etalase/test/testproc"
)

// scaleOut is the deployment users grow into: several api and worker
// processes on one PostgreSQL behind PgBouncer (transaction mode) and one
// Redis behind Sentinel (a master, a replica, three sentinels).
type scaleOut struct {
	env      map[string]string
	direct   string // the database, not through PgBouncer
	sentinel *sentinelproc.Deployment
}

// soakEnv reads what `make soak` passes: SOAK_DURATION, and, to run against
// a topology of the user's own instead of private servers, SOAK_REDIS_MODE,
// SOAK_REDIS_ADDRS, SOAK_REDIS_MASTER, SOAK_REDIS_URL, SOAK_DATABASE_URL and
// SOAK_DATABASE_DIRECT_URL (the database must be migrated).
func soakEnv(name string) string { return strings.TrimSpace(os.Getenv("SOAK_" + name)) }

func startScaleOut(t *testing.T) *scaleOut {
	t.Helper()
	s := &scaleOut{env: map[string]string{
		"API_KEYS":           "load:" + apiSecret,
		"LOG_LEVEL":          "warn",
		"REPORT_DELAY":       "0s",
		"WORKER_CONCURRENCY": "20",
	}}
	if url := soakEnv("DATABASE_URL"); url != "" {
		s.direct = url
		if d := soakEnv("DATABASE_DIRECT_URL"); d != "" {
			s.direct = d
		}
		s.env["DATABASE_URL"], s.env["DATABASE_DIRECT_URL"] = url, s.direct
	} else {
		s.direct = pgtest.NewDatabase(t)
		bouncer := pgbouncerproc.Start(t)
		s.env["DATABASE_URL"], s.env["DATABASE_DIRECT_URL"] = bouncer.URLFor(t, s.direct), s.direct
	}
	if addrs := soakEnv("REDIS_ADDRS"); addrs != "" {
		for _, k := range []string{"REDIS_MODE", "REDIS_ADDRS", "REDIS_MASTER", "REDIS_URL"} {
			if v := soakEnv(k); v != "" {
				s.env[k] = v
			}
		}
	} else {
		s.sentinel = sentinelproc.Start(t)
		for k, v := range s.sentinel.Env(nil) {
			s.env[k] = v
		}
	}
	return s
}

func (s *scaleOut) start(t *testing.T, apis, workers int) *cluster {
	t.Helper()
	c := &cluster{}
	for range apis {
		p := testproc.StartAPI(t, s.env, "api")
		p.WaitHealthy(t, 60*time.Second)
		c.urls = append(c.urls, p.URL)
		c.metrics = append(c.metrics, p.MetricsURL())
		c.procs = append(c.procs, p.Proc)
	}
	for range workers {
		testproc.Start(t, s.env, "worker")
	}
	c.seed(t)
	return c
}

// failover fails the Redis master over, gracefully or by killing it while
// its replica lags, and says how long the switch and the return of a
// replica (the end of the window in which writes bypass the cache) took.
func (s *scaleOut) failover(t *testing.T, at time.Duration, graceful bool) string {
	d := s.sentinel
	begin := time.Now()
	old := d.Master()
	var now *sentinelproc.Node
	if graceful {
		now = d.Failover()
	} else {
		replica := d.Nodes[0]
		if replica == old {
			replica = d.Nodes[1]
		}
		d.Lag(old, replica)
		time.Sleep(600 * time.Millisecond) // writes the replica never sees
		old.Kill()
		replica.Thaw()
		now = d.WaitNewMaster(old, 30*time.Second)
	}
	promoted := time.Since(begin)
	if !graceful {
		old.RestartAsReplicaOf(now)
	}
	d.WaitReplicas(now, 1, 30*time.Second)
	kind := "SENTINEL FAILOVER"
	if !graceful {
		kind = "master killed, replica lagging,"
	}
	return fmt.Sprintf(" %s at %v: new master after %.1fs, with a replica after %.1fs;",
		kind, at, promoted.Seconds(), time.Since(begin).Seconds())
}

// creator posts products at a steady pace through every api process and
// counts what it was answered.
type creator struct {
	created, failed atomic.Int64
	firstError      atomic.Value
}

func (cr *creator) run(c *cluster, until time.Time, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; time.Now().Before(until); i++ {
		<-t.C
		base := c.urls[i%len(c.urls)]
		body := fmt.Sprintf(`{"sku":"SO-%d-%d","name":"scale %d","price":"1.00","categoryId":%d}`,
			time.Now().UnixNano(), rand.IntN(1000), i, c.catID)
		req, _ := http.NewRequest(http.MethodPost, base+"/products", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiSecret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := loadHTTP.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		switch {
		case err != nil:
			cr.failed.Add(1)
			cr.firstError.CompareAndSwap(nil, err.Error())
		case resp.StatusCode != http.StatusCreated:
			cr.failed.Add(1)
			cr.firstError.CompareAndSwap(nil, "status "+strconv.Itoa(resp.StatusCode))
		default:
			cr.created.Add(1)
		}
	}
}

// reportTally is what the database says of every product's reports.
type reportTally struct {
	products, missing, duplicated, unfinished int
}

func tallyReports(t *testing.T, db *pgxpool.Pool) reportTally {
	t.Helper()
	const q = `SELECT count(*),
		count(*) FILTER (WHERE n = 0),
		count(*) FILTER (WHERE n > 1),
		count(*) FILTER (WHERE n = 1 AND done = 0)
		FROM (SELECT p.id, count(r.id) AS n,
			count(r.id) FILTER (WHERE r.status = 'completed' AND r.result IS NOT NULL) AS done
			FROM products p LEFT JOIN reports r ON r.product_id = p.id GROUP BY p.id) per_product`
	var r reportTally
	if err := db.QueryRow(context.Background(), q).Scan(&r.products, &r.missing, &r.duplicated, &r.unfinished); err != nil {
		t.Fatalf("count reports: %v", err)
	}
	return r
}

// TestScaleOutFailover runs 3 api and 2 worker processes on PostgreSQL
// behind PgBouncer and Redis behind Sentinel, with the stale checker and a
// steady stream of product creations, and fails the Redis master over in
// the middle (gracefully with SENTINEL FAILOVER, then by killing it while
// its replica lags). It prints one verdict
// line and fails on any stale read, any 5xx or failed request, and any
// product whose report is missing, duplicated or not completed within
// seconds of the load's end (the sweeper, two minutes away, is no help).
// `make soak` runs it longer (SOAK_DURATION), against private servers or
// a topology of the user's (see soakEnv).
func TestScaleOutFailover(t *testing.T) {
	d := 30 * time.Second
	if v := soakEnv("DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SOAK_DURATION: %v", err)
		}
	}
	s := startScaleOut(t)
	c := s.start(t, 3, 2)
	db, err := pgxpool.New(context.Background(), s.direct+"&pool_max_conns=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	failovers := map[time.Duration]func(){}
	var window string
	if s.sentinel != nil {
		// Graceful and hard failovers take turns: a SENTINEL FAILOVER,
		// then a kill of the master while its replica lags (frozen behind a filler larger than the sockets buffer).
		step := 13 * time.Second
		if d > 2*time.Minute {
			step = 45 * time.Second
		}
		for i, at := 0, 6*time.Second; at < d-8*time.Second; i, at = i+1, at+step {
			graceful := i%2 == 0
			failovers[at] = func() { window += s.failover(t, at, graceful) }
		}
	}
	cr := &creator{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cr.run(c, time.Now().Add(d), 20*time.Millisecond)
	}()
	st := runLoad(t, c, d, failovers)
	wg.Wait()

	drained := time.Now()
	var r reportTally
	for {
		r = tallyReports(t, db)
		if r.missing == 0 && r.unfinished == 0 || time.Since(drained) > 30*time.Second {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	fives := 0
	for code, n := range st.statuses {
		if code >= 500 {
			fives += n
		}
	}
	t.Logf("verdict: 3 api + 2 worker, PgBouncer, Sentinel, %v:%s stale reads %d, 5xx %d, transport errors %d, bypassed %s, p99 %v; products created %d (failed %d), reports missing %d, duplicated %d, unfinished %d, all done %.1fs after the load",
		d, window, len(st.stale), fives, len(st.errors), st.bypassSpan(), st.p(.99), cr.created.Load(), cr.failed.Load(),
		r.missing, r.duplicated, r.unfinished, time.Since(drained).Seconds())
	st.check(t)
	if n := cr.failed.Load(); n > 0 {
		t.Errorf("%d creations failed, first: %v", n, cr.firstError.Load())
	}
	if r.missing > 0 || r.duplicated > 0 || r.unfinished > 0 {
		t.Errorf("reports: %d products without one, %d with several, %d not completed 30s after the load", r.missing, r.duplicated, r.unfinished)
	}
	if cr.created.Load() == 0 {
		t.Errorf("no product was created")
	}
}
