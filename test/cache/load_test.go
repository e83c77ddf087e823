package cache

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

const (
	loadClients  = 16
	loadProducts = 50
	apiSecret    = "load-secret"
)

// cluster is two `etalase api` processes sharing one fresh PostgreSQL
// database and one private Redis.
type cluster struct {
	urls []string
	// metrics are the processes' /metrics URLs (on OPS_ADDR), in urls' order.
	metrics []string
	redis   freezer // what a freeze stops: the Redis, or one cluster node
	ids     []int64
	catID   int64
	procs   []*testproc.Proc
}

// freezer is a Redis server, or a node of a cluster, that can hang.
type freezer interface {
	Freeze()
	Thaw()
}

// sharedRedis is the Redis the processes share: their environment and the
// server a freeze stops.
type sharedRedis struct {
	env    map[string]string
	frozen freezer
	// cluster says the cache is on a Redis Cluster, where the local tier is
	// off by default.
	cluster bool
}

// singleRedis is one private redis-server for the queue and the cache.
func singleRedis(t *testing.T) sharedRedis {
	srv := redisproc.Start(t)
	return sharedRedis{env: map[string]string{"REDIS_URL": srv.URL()}, frozen: srv}
}

// clusterRedis puts the cache on a private three-master Redis Cluster and
// the queue on a private single Redis. A freeze stops the node that holds
// the product lists' generation, which every write bumps.
func clusterRedis(t *testing.T) sharedRedis {
	cl := redisproc.StartCluster(t)
	queue := redisproc.Start(t)
	return sharedRedis{
		env: map[string]string{"REDIS_URL": queue.URL(), "CACHE_REDIS_MODE": "cluster",
			"CACHE_REDIS_ADDRS": cl.AddrList()},
		frozen:  nodeOf(t, cl, "etalase:gen:products"),
		cluster: true,
	}
}

// sharedOnly is the environment that turns off the local tier, which is
// on by default (except on a Redis Cluster).
var sharedOnly = map[string]string{"CACHE_LOCAL_ENTRIES": "0"}

// startCluster starts processes `etalase api` on a private Redis and a
// fresh database, with env added to their environment, and seeds the
// catalog.
func startCluster(t *testing.T, processes int, env map[string]string) *cluster {
	t.Helper()
	return startClusterOn(t, processes, singleRedis(t), env)
}

// startClusterOn is startCluster on the Redis r.
func startClusterOn(t *testing.T, processes int, r sharedRedis, env map[string]string) *cluster {
	t.Helper()
	c := &cluster{redis: r.frozen}
	dsn := pgtest.NewDatabase(t)
	for i := 0; i < processes; i++ {
		vars := map[string]string{
			"DATABASE_URL": dsn,
			"API_KEYS":     "load:" + apiSecret,
			"LOG_LEVEL":    "warn",
		}
		for k, v := range r.env {
			vars[k] = v
		}
		for k, v := range env {
			vars[k] = v
		}
		p := testproc.StartAPI(t, vars, "api")
		p.WaitHealthy(t, 60*time.Second)
		c.urls = append(c.urls, p.URL)
		c.metrics = append(c.metrics, p.MetricsURL())
		c.procs = append(c.procs, p.Proc)
	}
	c.seed(t)
	return c
}

var loadHTTP = &http.Client{
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64},
	Timeout:   10 * time.Second,
}

func (c *cluster) seed(t *testing.T) {
	t.Helper()
	var cat struct{ ID int64 }
	if status := call(t, http.MethodPost, c.urls[0]+"/categories", `{"name":"Load"}`, &cat); status != http.StatusCreated {
		t.Fatalf("create category: %d", status)
	}
	c.catID = cat.ID
	for i := 0; i < loadProducts; i++ {
		var p wireProduct
		body := fmt.Sprintf(`{"name":"load %02d","price":"%d.00","stock":%d,"categoryId":%d}`, i, 10+i, i, cat.ID)
		if status := call(t, http.MethodPost, c.urls[0]+"/products", body, &p); status != http.StatusCreated {
			t.Fatalf("create product: %d", status)
		}
		c.ids = append(c.ids, p.ID)
	}
}

func call(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiSecret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := loadHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

type wireProduct struct {
	ID      int64 `json:"id"`
	Version int64 `json:"version"`
}

type wireList struct {
	Data []wireProduct `json:"data"`
}

// tracker remembers, per product, the newest version a write acknowledged
// (a PATCH's 200) and the newest version any read has shown.
type tracker struct {
	mu    sync.Mutex
	acked map[int64]int64
	seen  map[int64]int64
}

// snapshot copies what is known when a read is sent.
func (tr *tracker) snapshot() (acked, seen map[int64]int64) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	acked = make(map[int64]int64, len(tr.acked))
	seen = make(map[int64]int64, len(tr.seen))
	for k, v := range tr.acked {
		acked[k] = v
	}
	for k, v := range tr.seen {
		seen[k] = v
	}
	return acked, seen
}

func (tr *tracker) ack(id, version int64, write bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if write && version > tr.acked[id] {
		tr.acked[id] = version
	}
	if version > tr.seen[id] {
		tr.seen[id] = version
	}
}

// loadStats is what a run counted.
type loadStats struct {
	mu        sync.Mutex
	requests  map[string]int // by kind
	statuses  map[int]int
	xcache    map[string]int
	errors    []string
	stale     []string
	staleAt   []time.Duration
	regressed int // reads older than another read's answer, but not than any acknowledged write
	slow      int // slower than hangBound
	maxLat    time.Duration
	latencies []time.Duration
	// bypass spans the answers that said X-Cache: BYPASS (the cache was
	// distrusted), from the load's start.
	bypassFrom, bypassTo time.Duration
}

func (s *loadStats) String() string {
	return fmt.Sprintf("requests %v, statuses %v, X-Cache %v, transport errors %d, stale reads %d (reads behind a read of a write still in flight: %d), slower than %v %d, p50 %v p99 %v max %v, bypassed %s",
		s.requests, s.statuses, s.xcache, len(s.errors), len(s.stale), s.regressed, hangBound, s.slow, s.p(.5), s.p(.99), s.maxLat, s.bypassSpan())
}

// p returns the q quantile of the latencies.
func (s *loadStats) p(q float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.latencies) == 0 {
		return 0
	}
	sort.Slice(s.latencies, func(i, j int) bool { return s.latencies[i] < s.latencies[j] })
	return s.latencies[int(q*float64(len(s.latencies)-1))]
}

// bypassSpan says when the answers that bypassed the cache came.
func (s *loadStats) bypassSpan() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.xcache["BYPASS"] == 0 {
		return "never"
	}
	return fmt.Sprintf("from %.2fs to %.2fs", s.bypassFrom.Seconds(), s.bypassTo.Seconds())
}

// runLoad has loadClients clients PATCH and GET (items and list pages)
// across the cluster's processes for d, checking every read against the
// tracker. at, if set, runs at the given offsets (freeze, thaw).
func runLoad(t *testing.T, c *cluster, d time.Duration, at map[time.Duration]func()) *loadStats {
	t.Helper()
	tr := &tracker{acked: map[int64]int64{}}
	tr.seen = map[int64]int64{}
	for _, id := range c.ids {
		tr.acked[id], tr.seen[id] = 1, 1
	}
	st := &loadStats{requests: map[string]int{}, statuses: map[int]int{}, xcache: map[string]int{}}
	lists := []string{
		"/products?limit=50",
		"/products?limit=20&sort=-price",
		fmt.Sprintf("/products?categoryId=%d&limit=50&sort=name", c.catID),
		"/products?sort=-id&limit=50",
		"/products?q=load&limit=30&sort=createdAt",
	}
	begin := time.Now()
	stop := begin.Add(d)
	var wg sync.WaitGroup
	for offset, fn := range at {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(offset)
			fn()
		}()
	}
	for w := 0; w < loadClients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for time.Now().Before(stop) {
				base := c.urls[rng.IntN(len(c.urls))]
				id := c.ids[rng.IntN(len(c.ids))]
				switch r := rng.IntN(10); {
				case r < 3:
					body := fmt.Sprintf(`{"stock":%d}`, rng.IntN(1000))
					st.do(tr, begin, "patch", http.MethodPatch, base+fmt.Sprintf("/products/%d", id), body)
				case r < 7:
					st.do(tr, begin, "get item", http.MethodGet, base+fmt.Sprintf("/products/%d", id), "")
				default:
					st.do(tr, begin, "get list", http.MethodGet, base+lists[rng.IntN(len(lists))], "")
				}
			}
		}()
	}
	wg.Wait()
	for i, u := range c.urls {
		t.Logf("%s cache metrics:\n%s", u, cacheMetrics(c.metrics[i]))
	}
	return st
}

// allMetrics returns a process's metrics from their URL.
func allMetrics(t *testing.T, url string) string {
	t.Helper()
	resp, err := loadHTTP.Get(url)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	return string(b)
}

// cacheMetrics returns the cache lines of a process's metrics.
func cacheMetrics(url string) string {
	resp, err := loadHTTP.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "etalase_cache_") || strings.HasPrefix(l, "etalase_redis_pool_timeouts") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// do sends one request and records it: a read is judged against what the
// tracker knew when it was sent; a write's answer is an acknowledgement.
func (st *loadStats) do(tr *tracker, begin time.Time, kind, method, url, body string) {
	write := method != http.MethodGet
	acked, seen := tr.snapshot()
	req, _ := http.NewRequest(method, url, nil)
	if body != "" {
		req, _ = http.NewRequest(method, url, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+apiSecret)
		req.Header.Set("Content-Type", "application/merge-patch+json")
	}
	sent := time.Now()
	resp, err := loadHTTP.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	lat := time.Since(sent)
	st.mu.Lock()
	st.requests[kind]++
	st.latencies = append(st.latencies, lat)
	if lat > st.maxLat {
		st.maxLat = lat
	}
	if lat > hangBound {
		st.slow++
	}
	if err != nil {
		st.errors = append(st.errors, fmt.Sprintf("%s %s: %v", kind, url, err))
		st.mu.Unlock()
		return
	}
	st.statuses[resp.StatusCode]++
	if x := resp.Header.Get("X-Cache"); x != "" {
		st.xcache[x]++
		if at := sent.Sub(begin); x == "BYPASS" {
			if st.xcache[x] == 1 {
				st.bypassFrom = at
			}
			st.bypassTo = max(st.bypassTo, at)
		}
	}
	st.mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		return
	}
	var got []wireProduct
	if strings.Contains(url, "?") {
		var l wireList
		if json.Unmarshal(b, &l) != nil {
			return
		}
		got = l.Data
	} else {
		var p wireProduct
		if json.Unmarshal(b, &p) != nil {
			return
		}
		got = []wireProduct{p}
	}
	for _, p := range got {
		switch {
		case write:
		case p.Version < acked[p.ID]:
			st.mu.Lock()
			st.stale = append(st.stale, fmt.Sprintf("%s %s: product %d version %d, but %d was acknowledged before the read (X-Cache %s)",
				kind, url, p.ID, p.Version, acked[p.ID], resp.Header.Get("X-Cache")))
			st.staleAt = append(st.staleAt, sent.Sub(begin))
			st.mu.Unlock()
		case p.Version < seen[p.ID]:
			st.mu.Lock()
			st.regressed++
			st.mu.Unlock()
		}
		tr.ack(p.ID, p.Version, write)
	}
}

func (st *loadStats) check(t *testing.T) {
	t.Helper()
	for code, n := range st.statuses {
		if code >= 500 {
			t.Errorf("%d responses with status %d", n, code)
		}
	}
	if len(st.errors) > 0 {
		t.Errorf("%d transport errors, first: %s", len(st.errors), st.errors[0])
	}
	if len(st.stale) > 0 {
		t.Errorf("%d stale reads, first: %s (at %v)", len(st.stale), st.stale[0], st.staleAt[0])
	}
	if st.requests["patch"] == 0 || st.requests["get item"] == 0 || st.requests["get list"] == 0 {
		t.Errorf("the load did not mix its requests: %v", st.requests)
	}
}

// TestNoStaleReadsAcrossProcesses is the freshness guarantee under load:
// 16 clients PATCH and GET 50 products for 20 s through two API processes,
// with the default configuration (the local tier in front of the shared
// cache), with the shared cache only, with the shared cache on a Redis
// Cluster, and with the default configuration while one of the processes
// is stalled (SIGSTOP) for 3 s, far longer than the local tier's window,
// in the middle of the writes.
func TestNoStaleReadsAcrossProcesses(t *testing.T) {
	t.Run("default", func(t *testing.T) { noStaleReads(t, singleRedis(t), nil, false) })
	t.Run("shared", func(t *testing.T) { noStaleReads(t, singleRedis(t), sharedOnly, false) })
	t.Run("cluster", func(t *testing.T) { noStaleReads(t, clusterRedis(t), nil, false) })
	t.Run("stalled", func(t *testing.T) { noStaleReads(t, singleRedis(t), nil, true) })
}

func noStaleReads(t *testing.T, r sharedRedis, env map[string]string, stall bool) {
	c := startClusterOn(t, 2, r, env)
	var at map[time.Duration]func()
	if stall {
		at = map[time.Duration]func(){
			6 * time.Second: c.procs[1].Pause,
			9 * time.Second: c.procs[1].Resume,
		}
	}
	st := runLoad(t, c, 20*time.Second, at)
	t.Logf("2 processes, %d clients, %d products, 20s (process 2 stalled from 6s to 9s: %t): %v", loadClients, loadProducts, stall, st)
	st.check(t)
	metrics := allMetrics(t, c.metrics[0])
	for _, want := range []string{
		`etalase_http_requests_total{method="GET",route="/products/:id",status="200"}`,
		`etalase_http_request_duration_seconds_bucket{method="PATCH",route="/products/:id",le="0.1"}`,
		`etalase_cache_hits_total{layer="response"}`,
		`etalase_cache_misses_total{layer="repository"}`,
		`etalase_pgx_pool_total_conns`,
		`etalase_redis_pool_total_conns{pool="cache"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	if st.xcache["HIT"] == 0 {
		t.Errorf("no response was served from the cache: %v", st.xcache)
	}
	on := env["CACHE_LOCAL_ENTRIES"] != "0" && !r.cluster
	checkLocalHits(t, c, on)
	if on {
		// The writers heard every process's acknowledgement, except (when
		// one was stalled) while it could not send it.
		acked := metricValue(metrics, `etalase_cache_local_invalidations_total{result="acked"}`)
		waited := metricValue(metrics, `etalase_cache_local_invalidations_total{result="waited"}`)
		t.Logf("%s: writes acknowledged by every process %v, that waited the whole window %v", c.urls[0], acked, waited)
		if acked == 0 || stall && waited == 0 {
			t.Errorf("acknowledged %v, waited %v: the stall (%t) did not show", acked, waited, stall)
		}
	}
}

// checkLocalHits asks every process how many hits its local tier
// answered: some when the tier is on, none otherwise.
func checkLocalHits(t *testing.T, c *cluster, on bool) {
	t.Helper()
	for i, url := range c.urls {
		n := metricValue(allMetrics(t, c.metrics[i]), `etalase_cache_local_hits_total{layer="response"}`)
		t.Logf("%s: %v hits from the local tier", url, n)
		if on != (n > 0) {
			t.Errorf("%s: %v local hits with the local tier on=%t", url, n, on)
		}
	}
}

// metricValue returns the value of the sample named exactly series, 0 if
// there is none.
func metricValue(metrics, series string) float64 {
	for _, line := range strings.Split(metrics, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	return 0
}

// TestRedisFrozenUnderLoad freezes the shared Redis (SIGSTOP) for 5 s in
// the middle of the same load, then thaws it: no 5xx, no request that
// waited for the thaw (slower than hangBound), no stale read before, during
// or after; with the shared cache only and with the local tier (the
// default). With the cache on a Redis
// Cluster one master is frozen: no 5xx and no stale read. Its durations are
// logged, not judged: the three extra redis-servers make the start of the
// load slow on a busy machine, before anything is frozen.
func TestRedisFrozenUnderLoad(t *testing.T) {
	t.Run("shared", func(t *testing.T) { frozenUnderLoad(t, singleRedis(t), sharedOnly, true) })
	t.Run("local", func(t *testing.T) { frozenUnderLoad(t, singleRedis(t), nil, true) })
	t.Run("cluster", func(t *testing.T) { frozenUnderLoad(t, clusterRedis(t), nil, false) })
}

// hangBound tells a request that waited on the frozen Redis (up to the 5 s
// of the freeze) from one that only queued on a busy machine: with the
// machine's two cores shared with other test runs (load average 13), a
// request that never touched Redis once took 1.006 s.
const hangBound = 2500 * time.Millisecond

func frozenUnderLoad(t *testing.T, r sharedRedis, env map[string]string, judgeDurations bool) {
	c := startClusterOn(t, 2, r, env)
	st := runLoad(t, c, 15*time.Second, map[time.Duration]func(){
		4 * time.Second: c.redis.Freeze,
		9 * time.Second: c.redis.Thaw,
	})
	t.Logf("Redis frozen from 4s to 9s of 15s: %v", st)
	st.check(t)
	if judgeDurations && st.slow > 0 {
		t.Errorf("%d requests took longer than %v (max %v)", st.slow, hangBound, st.maxLat)
	}
	if st.xcache["BYPASS"] == 0 {
		t.Errorf("no response said BYPASS while Redis was frozen: %v", st.xcache)
	}
}
