package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/valyala/fasthttp"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgbench"
	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

// Shape of the measurements.
const (
	pageRequests  = 200              // requests per page kind and op
	pageWarmup    = 20               // unmeasured requests per page kind first
	pageLimit     = 20               // the page size measured
	deepOffset    = 100              // how far from the end the deep page starts
	getClients    = 32               // concurrent clients of the read throughput and of pgbench -S
	getDuration   = 10 * time.Second // length of each throughput run
	pgbenchScale  = 10               // pgbench -i -s
	deepRatioGoal = 1.5              // a deep page may cost this much of the first
	// benchPoolMaxConns is a deployment's pool (the process default), not
	// the small pool tests run with.
	benchPoolMaxConns = 16
)

// env is the service under measurement, shared by every sub-benchmark.
type env struct {
	base   string
	dsn    string
	db     *pgx.Conn
	client *http.Client
	minID  int64
	maxID  int64
}

// BenchmarkCatalog seeds one database of a million products, starts one api
// process over it with every cache off, and runs the measurements against
// it as sub-benchmarks, so the seeding is paid once per run.
func BenchmarkCatalog(b *testing.B) {
	e := setUp(b)
	for _, sort := range []string{"id", "price", "name"} {
		b.Run("list/sort="+sort, func(b *testing.B) { benchPages(b, e, sort) })
	}
	b.Run("get-by-id", func(b *testing.B) { benchGetByID(b, e) })
}

func setUp(b *testing.B) *env {
	b.Helper()
	dsn := pgtest.NewDatabase(b)
	seed(b, dsn)
	port := testproc.FreePort(b)
	e := &env{
		base: fmt.Sprintf("http://127.0.0.1:%d", port),
		dsn:  dsn,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: getClients * 2,
			DisableCompression:  true,
		}},
	}
	proc := testproc.Start(b, map[string]string{
		"HTTP_ADDR":     fmt.Sprintf("127.0.0.1:%d", port),
		"DATABASE_URL":  testproc.WithPoolMaxConns(dsn, benchPoolMaxConns, true),
		"REDIS_URL":     redisproc.Start(b).URL(),
		"API_KEYS":      "bench:bench-secret-0123456789",
		"CACHE_ENABLED": "false",
		"LOG_LEVEL":     "warn",
	}, "api")
	proc.WaitHTTP(b, e.base+"/readyz", 30*time.Second)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatalf("connect to the bench database: %v", err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	e.db = conn
	if err := conn.QueryRow(ctx, `SELECT min(id), max(id) FROM products`).Scan(&e.minID, &e.maxID); err != nil {
		b.Fatalf("product id range: %v", err)
	}
	e.requireUncached(b)
	return e
}

// requireUncached makes sure the numbers are PostgreSQL's: with the cache
// off, a repeated read must not be a cache hit.
func (e *env) requireUncached(b *testing.B) {
	b.Helper()
	path := fmt.Sprintf("%s/products/%d", e.base, e.minID)
	for range 2 {
		resp, err := e.client.Get(path)
		if err != nil {
			b.Fatalf("GET %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d, want 200", path, resp.StatusCode)
		}
		if x := resp.Header.Get("X-Cache"); x == "HIT" {
			b.Fatalf("GET %s answered X-Cache: HIT with CACHE_ENABLED=false; the benchmark would measure the cache", path)
		}
	}
}

// listPage is the part of a list response the benchmark reads.
type listPage struct {
	Data []struct {
		ID int64 `json:"id"`
	} `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// get fetches path and returns its status and body.
func (e *env) get(path string) (int, []byte, error) {
	resp, err := e.client.Get(e.base + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func (e *env) page(b *testing.B, path string) listPage {
	b.Helper()
	code, body, err := e.get(path)
	if err != nil || code != http.StatusOK {
		b.Fatalf("GET %s: %d %v: %.300s", path, code, err, body)
	}
	var p listPage
	if err := json.Unmarshal(body, &p); err != nil {
		b.Fatalf("GET %s: not a list page: %v", path, err)
	}
	return p
}

// sortColumns is the ORDER BY of each measured sort, as the schema indexes it.
var sortColumns = map[string]string{
	"id":    "id",
	"price": "price_cents, id",
	"name":  `name COLLATE "C", id`,
}

// deepCursor returns a cursor the service itself issued for a page that
// starts deepOffset rows before the end of the list in this sort. It asks
// the database for the row just before that point, builds a cursor for it
// (the key is the row's sort value as the service writes it: cents for a
// price, the name itself), checks that the service continues after exactly
// that row, and then takes the nextCursor the service returns.
func (e *env) deepCursor(b *testing.B, sort string) string {
	b.Helper()
	ctx := context.Background()
	q := `SELECT id, price_cents, name FROM products ORDER BY ` + sortColumns[sort] + ` OFFSET $1 LIMIT 2`
	rows, err := e.db.Query(ctx, q, seedProducts-deepOffset-pageLimit-1)
	if err != nil {
		b.Fatalf("find the deep row: %v", err)
	}
	type row struct {
		id    int64
		price int64
		name  string
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.price, &x.name)
		return x, err
	})
	if err != nil || len(found) != 2 {
		b.Fatalf("find the deep row: %d rows, %v", len(found), err)
	}
	c := domain.Cursor{Sort: sort, ID: found[0].id}
	switch sort {
	case "price":
		c.Key = strconv.FormatInt(found[0].price, 10)
	case "name":
		c.Key = found[0].name
	}
	p := e.page(b, fmt.Sprintf("/products?sort=%s&limit=%d&cursor=%s", sort, pageLimit, url.QueryEscape(c.Encode())))
	if len(p.Data) != pageLimit || p.Data[0].ID != found[1].id || p.NextCursor == nil {
		b.Fatalf("sort=%s: a cursor after product %d did not continue at product %d with a full page "+
			"(did the cursor key format change?): got %d items, first %v", sort, found[0].id, found[1].id, len(p.Data), p.Data)
	}
	deep := e.page(b, fmt.Sprintf("/products?sort=%s&limit=%d&cursor=%s", sort, pageLimit, url.QueryEscape(*p.NextCursor)))
	if len(deep.Data) != pageLimit {
		b.Fatalf("sort=%s: the deep page has %d items, want %d", sort, len(deep.Data), pageLimit)
	}
	return *p.NextCursor
}

// benchPages measures the first page of a sort against a page deepOffset
// rows from its end, pageRequests of each per op, interleaved so both see
// the same conditions.
func benchPages(b *testing.B, e *env, sort string) {
	first := fmt.Sprintf("/products?sort=%s&limit=%d", sort, pageLimit)
	var cursor string
	if sort == "id" {
		// An id cursor carries no key: it is built directly.
		cursor = domain.Cursor{Sort: "id", ID: e.maxID - deepOffset}.Encode()
		if p := e.page(b, first+"&cursor="+url.QueryEscape(cursor)); len(p.Data) != pageLimit {
			b.Fatalf("sort=id: the deep page has %d items, want %d", len(p.Data), pageLimit)
		}
	} else {
		cursor = e.deepCursor(b, sort)
	}
	deep := first + "&cursor=" + url.QueryEscape(cursor)
	timed := func(path string) time.Duration {
		start := time.Now()
		code, body, err := e.get(path)
		d := time.Since(start)
		if err != nil || code != http.StatusOK {
			b.Fatalf("GET %s: %d %v: %.300s", path, code, err, body)
		}
		return d
	}
	for range pageWarmup {
		timed(first)
		timed(deep)
	}
	var firsts, deeps []time.Duration
	b.ResetTimer()
	for range b.N {
		for range pageRequests {
			firsts = append(firsts, timed(first))
			deeps = append(deeps, timed(deep))
		}
	}
	b.StopTimer()
	f50, f99 := percentile(firsts, 50), percentile(firsts, 99)
	d50, d99 := percentile(deeps, 50), percentile(deeps, 99)
	ratio := float64(d50) / float64(f50)
	b.ReportMetric(ms(f50), "first-p50-ms")
	b.ReportMetric(ms(f99), "first-p99-ms")
	b.ReportMetric(ms(d50), "deep-p50-ms")
	b.ReportMetric(ms(d99), "deep-p99-ms")
	b.ReportMetric(ratio, "deep/first-p50")
	verdict := "meets"
	if ratio > deepRatioGoal {
		verdict = "MISSES"
	}
	msg := fmt.Sprintf("GET /products sort=%s limit=%d over %d products, %d requests each: first page p50 %.3f ms p99 %.3f ms; "+
		"page %d rows from the end p50 %.3f ms p99 %.3f ms; deep/first p50 ratio %.2f (%s the goal of <= %.1f)",
		sort, pageLimit, seedProducts, len(firsts), ms(f50), ms(f99), deepOffset, ms(d50), ms(d99), ratio, verdict, deepRatioGoal)
	b.Log(msg)
	fmt.Println("bench: " + msg)
}

// benchGetByID measures uncached GET /products/{id} with getClients
// concurrent clients, then pgbench's select-only run with as many clients
// on a scratch database of the same server: the ceiling a thin service over
// this PostgreSQL could approach.
func benchGetByID(b *testing.B, e *env) {
	pg := pgbench.Ready(b, pgbenchScale)
	var rates, tpss []float64
	b.ResetTimer()
	for range b.N {
		rates = append(rates, e.getThroughput(b))
		b.StopTimer()
		tpss = append(tpss, pg.SelectOnly(b, getClients, getDuration))
		b.StartTimer()
	}
	b.StopTimer()
	rate, tps := mean(rates), mean(tpss)
	b.ReportMetric(rate, "etalase-req/s")
	b.ReportMetric(tps, "pgbench-S-tps")
	b.ReportMetric(rate/tps, "etalase/pgbench")
	msg := fmt.Sprintf("uncached GET /products/{id}, %d clients for %s: %.0f req/s; pgbench -S -c %d -j 2 -T %d (scale %d): %.0f tps; ratio %.2f",
		getClients, getDuration, rate, getClients, int(getDuration.Seconds()), pgbenchScale, tps, rate/tps)
	b.Log(msg)
	fmt.Println("bench: " + msg)
}

// getThroughput runs getClients clients reading random products for
// getDuration and returns the successful reads per second. The clients
// share one fasthttp client, the one the cache benchmarks drive with: the
// load generator shares the machine's cores with etalase and PostgreSQL,
// pgbench's C client is cheap, and with Go's net/http client the same
// service measured a quarter less (see the README).
func (e *env) getThroughput(b *testing.B) float64 {
	client := &fasthttp.HostClient{Addr: strings.TrimPrefix(e.base, "http://"), MaxConns: getClients,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	var ok, bad atomic.Int64
	var firstBad atomic.Value
	deadline := time.Now().Add(getDuration)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range getClients {
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			for time.Now().Before(deadline) {
				id := e.minID + rng.Int64N(e.maxID-e.minID+1)
				req.SetRequestURI(e.base + "/products/" + strconv.FormatInt(id, 10))
				err := client.Do(req, resp)
				if err != nil || resp.StatusCode() != http.StatusOK || !bytes.Contains(resp.Body(), []byte(`"id":`+strconv.FormatInt(id, 10)+`,`)) {
					bad.Add(1)
					firstBad.CompareAndSwap(nil, fmt.Sprintf("GET /products/%d: %d %v %.200s", id, resp.StatusCode(), err, resp.Body()))
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := bad.Load(); n > 0 {
		b.Errorf("%d of %d reads failed; the first: %v", n, n+ok.Load(), firstBad.Load())
	}
	return float64(ok.Load()) / elapsed.Seconds()
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
