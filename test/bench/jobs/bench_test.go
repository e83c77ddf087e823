package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"

	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

// Shape of the measurements.
const (
	categories    = 100              // products spread over them, so a report ranks within a modest category
	clients       = 64               // concurrent clients of the throughput run
	burstClients  = 32               // concurrent clients of a burst
	burstSize     = 6000             // creations per burst
	workers       = 2                // worker processes, as a deployment scales them
	moderateRate  = 200              // creations per second of the latency run
	completionMax = 60 * time.Second // how long a run may wait for its reports
	secret        = "bench-secret-0123456789"
	// benchPoolMaxConns is a deployment's pool (the process default), not
	// the small pool tests run with.
	benchPoolMaxConns = 16
)

type env struct {
	vars    map[string]string
	workers []*testproc.Proc
	started time.Time // when the worker was started
	// top is the top-level benchmark: processes started for a later
	// sub-benchmark run belong to it, not to the run that started them.
	top    testing.TB
	base   string
	db     *pgxpool.Pool
	client *fasthttp.HostClient
	cats   []int64
	seq    atomic.Int64
}

// BenchmarkReports starts one api and two worker processes on a fresh
// database and a private Redis, with REPORT_DELAY=0, and measures the
// pipeline as sub-benchmarks.
func BenchmarkReports(b *testing.B) {
	e := setUp(b, "api")
	b.Run("throughput", func(b *testing.B) { benchThroughput(b, e) })
	b.Run("burst", func(b *testing.B) { benchBurst(b, e) })
	b.Run("latency", func(b *testing.B) { benchLatency(b, e) })
	b.Run("drain", func(b *testing.B) { benchDrain(b, e) })
}

// BenchmarkReportsAll is the burst a user would try first: one `etalase
// all` with its defaults (worker concurrency, relay, pool) and
// REPORT_DELAY=0.
func BenchmarkReportsAll(b *testing.B) {
	benchBurst(b, setUp(b, "all"))
}

// pacedRates are the arrival rates of BenchmarkReportsAllPaced, creations
// per second; pacedFor is how long each run sends, and pacedInFlight bounds
// the creations awaiting their answer (a run that reaches it sends slower
// than its rate, which its sent/s shows).
var pacedRates = []int{1000, 2000}

const (
	pacedFor      = 3 * time.Second
	pacedInFlight = 256
)

// BenchmarkReportsAllPaced sends creations to one `etalase all` with its
// defaults and REPORT_DELAY=0 at a steady rate, whatever the API answers,
// as a shop's traffic arrives: issue 12 asks that 2,000 reports per second
// complete while creations arrive at that rate, with the p50 from each 201
// to its report's completion at most 20 ms. Each sub-benchmark reports
// the rate it sent at, the rate reports completed at (from the first POST
// to the last completion) and the p50 and p99 from 201 to completion.
func BenchmarkReportsAllPaced(b *testing.B) {
	e := setUp(b, "all")
	for _, rate := range pacedRates {
		b.Run(fmt.Sprintf("%d-per-s", rate), func(b *testing.B) { benchPaced(b, e, rate) })
	}
}

func benchPaced(b *testing.B, e *env, rate int) {
	total := int(pacedFor.Seconds() * float64(rate))
	var (
		lat           []time.Duration
		sending, till time.Duration
	)
	b.ResetTimer()
	for range b.N {
		floor := e.maxProductID(b)
		answered := newAnswers(total)
		var wg sync.WaitGroup
		slots := make(chan struct{}, pacedInFlight)
		start := time.Now()
		for i := range total {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				if err := answered.create(e); err != nil {
					b.Error(err)
				}
			})
		}
		sending += time.Since(start)
		wg.Wait()
		took, l := e.finish(b, floor, start, answered)
		till, lat = till+took, append(lat, l...)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*total)/sending.Seconds(), "sent/s")
	b.ReportMetric(float64(b.N*total)/till.Seconds(), "reports/s")
	reportLatencies(b, lat)
}

// setUp starts command ("api" with the workers beside it, or "all", which
// runs the worker and relay itself) on a fresh database and a private
// Redis, and creates the categories.
func setUp(b *testing.B, command string) *env {
	b.Helper()
	dsn := pgtest.NewDatabase(b)
	rds := redisproc.Start(b)
	vars := map[string]string{
		"DATABASE_URL": testproc.WithPoolMaxConns(dsn, benchPoolMaxConns, true),
		"REDIS_URL":    rds.URL(),
		"API_KEYS":     "bench:" + secret,
		"LOG_LEVEL":    "warn",
		"REPORT_DELAY": "0s",
	}
	if command == "all" {
		// Nothing but what a user must set: logging at its default too.
		delete(vars, "LOG_LEVEL")
	}
	port := testproc.FreePort(b)
	apiVars := map[string]string{"HTTP_ADDR": "127.0.0.1:" + strconv.Itoa(port)}
	for k, v := range vars {
		apiVars[k] = v
	}
	api := testproc.Start(b, apiVars, command)
	// fasthttp's client, as in the other benchmarks that load the API: the
	// client shares the two cores with etalase, PostgreSQL and Redis, and
	// with net/http's this process took a quarter more CPU per report.
	addr := "127.0.0.1:" + strconv.Itoa(port)
	e := &env{base: "http://" + addr, client: &fasthttp.HostClient{Addr: addr, MaxConns: max(clients, pacedInFlight),
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}}
	api.WaitHTTP(b, e.base+"/healthz", 30*time.Second)
	e.vars, e.top = vars, b
	if command == "api" {
		e.startWorkers()
	}
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	e.db = pool
	for i := 0; i < categories; i++ {
		id, err := e.post("/categories", map[string]any{"name": fmt.Sprintf("Bench %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		e.cats = append(e.cats, id)
	}
	return e
}

// startWorkers starts the worker processes; they belong to the top-level
// benchmark, whichever run starts them.
func (e *env) startWorkers() {
	e.workers = e.workers[:0]
	for i := 0; i < workers; i++ {
		e.workers = append(e.workers, testproc.Start(e.top, e.vars, "worker"))
	}
	e.started = time.Now()
}

func (e *env) post(path string, body any) (int64, error) {
	raw, _ := json.Marshal(body)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(e.base + path)
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	req.SetBodyRaw(raw)
	if err := e.client.Do(req, resp); err != nil {
		return 0, err
	}
	if resp.StatusCode() != fasthttp.StatusCreated {
		return 0, fmt.Errorf("POST %s: %d %s", path, resp.StatusCode(), resp.Body())
	}
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(resp.Body(), &v); err != nil {
		return 0, err
	}
	return v.ID, nil
}

func (e *env) createProduct() (int64, error) {
	n := e.seq.Add(1)
	return e.post("/products", map[string]any{"name": fmt.Sprintf("Bench product %d", n),
		"price": fmt.Sprintf("%d.%02d", n%1000, n%100), "stock": n % 50, "categoryId": e.cats[n%int64(len(e.cats))]})
}

// waitCompleted waits until no report after id floor is still unfinished
// and returns when the last of them finished, as PostgreSQL stamped it; a
// failed report fails the benchmark. The poll counts through the partial
// index of unfinished reports every pollEvery: the completion time comes
// from the reports themselves, so polling more often would only take
// PostgreSQL's time from the pipeline it measures.
func (e *env) waitCompleted(b *testing.B, floor int64) time.Time {
	b.Helper()
	const pollEvery = 25 * time.Millisecond
	deadline := time.Now().Add(completionMax)
	for {
		var open int
		if err := e.db.QueryRow(context.Background(),
			`SELECT count(*) FROM reports WHERE status IN ('queued', 'running') AND product_id > $1`, floor).Scan(&open); err != nil {
			b.Fatal(err)
		}
		if open == 0 {
			var (
				failed int
				last   time.Time
			)
			if err := e.db.QueryRow(context.Background(),
				`SELECT count(*) FILTER (WHERE status <> 'completed'), coalesce(max(finished_at), now())
				FROM reports WHERE product_id > $1`, floor).Scan(&failed, &last); err != nil {
				b.Fatal(err)
			}
			if failed > 0 {
				b.Fatalf("%d reports did not complete", failed)
			}
			return last
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d reports still open after %s", open, completionMax)
		}
		time.Sleep(pollEvery)
	}
}

func (e *env) maxProductID(b *testing.B) int64 {
	var id int64
	if err := e.db.QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM products`).Scan(&id); err != nil {
		b.Fatal(err)
	}
	return id
}

// createFrom runs create total times from clients goroutines at once and
// fails the benchmark with the first error.
func createFrom(b *testing.B, clients, total int, create func() error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(total) {
				if err := create(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// benchThroughput creates b.N products from many clients as fast as the API
// takes them and measures until the last of their reports is completed.
func benchThroughput(b *testing.B, e *env) {
	floor := e.maxProductID(b)
	b.ResetTimer()
	start := time.Now()
	createFrom(b, clients, b.N, func() error { _, err := e.createProduct(); return err })
	posted := time.Now()
	done := e.waitCompleted(b, floor)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/posted.Sub(start).Seconds(), "creates/s")
	b.ReportMetric(float64(b.N)/done.Sub(start).Seconds(), "reports/s")
}

// benchLatency creates b.N products at a moderate, steady rate and reports
// the p50 and p99 of the time from each 201 to its report's completion, as
// PostgreSQL recorded it.
func benchLatency(b *testing.B, e *env) {
	floor := e.maxProductID(b)
	answered := newAnswers(b.N)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / moderateRate)
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		wg.Go(func() {
			if err := answered.create(e); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	e.waitCompleted(b, floor)
	b.StopTimer()
	reportLatencies(b, e.toCompleted(b, floor, answered))
}

// benchBurst creates burstSize products per op from burstClients clients
// as fast as the API takes them, as a user trying the service would, and
// reports the reports completed per second from the first POST to the last
// completed report, and the p50 and p99 from each 201 (the product, its
// report and its outbox row committed) to its report's completion.
func benchBurst(b *testing.B, e *env) {
	var lat []time.Duration
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		floor := e.maxProductID(b)
		answered := newAnswers(burstSize)
		start := time.Now()
		createFrom(b, burstClients, burstSize, func() error { return answered.create(e) })
		took, l := e.finish(b, floor, start, answered)
		elapsed, lat = elapsed+took, append(lat, l...)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*burstSize)/elapsed.Seconds(), "reports/s")
	reportLatencies(b, lat)
}

// finish waits for the reports of the products after floor and returns
// how long after start the last completed and the latencies toCompleted
// measures; the timer stops while they are read.
func (e *env) finish(b *testing.B, floor int64, start time.Time, answered *answers) (time.Duration, []time.Duration) {
	took := e.waitCompleted(b, floor).Sub(start)
	b.StopTimer()
	defer b.StartTimer()
	return took, e.toCompleted(b, floor, answered)
}

// answers remembers when each creation was answered, by product id.
type answers struct {
	mu sync.Mutex
	at map[int64]time.Time
}

func newAnswers(n int) *answers { return &answers{at: make(map[int64]time.Time, n)} }

// create creates a product and records when its 201 arrived.
func (a *answers) create(e *env) error {
	id, err := e.createProduct()
	at := time.Now()
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at[id] = at
	return nil
}

// toCompleted returns, for each product after floor that answered holds,
// the time from its 201 to its report's completion as PostgreSQL stamped
// it, sorted.
func (e *env) toCompleted(b *testing.B, floor int64, answered *answers) []time.Duration {
	b.Helper()
	rows, err := e.db.Query(context.Background(),
		`SELECT product_id, finished_at FROM reports WHERE product_id > $1`, floor)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var lat []time.Duration
	for rows.Next() {
		var id int64
		var finished time.Time
		if err := rows.Scan(&id, &finished); err != nil {
			b.Fatal(err)
		}
		if at, ok := answered.at[id]; ok {
			lat = append(lat, max(finished.Sub(at), 0))
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if len(lat) == 0 {
		b.Fatal("no latencies measured")
	}
	slices.Sort(lat)
	return lat
}

// reportLatencies reports the p50 and p99 of lat, in milliseconds.
func reportLatencies(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(percentileMS(lat, 0.50), "p50-ms")
	b.ReportMetric(percentileMS(lat, 0.99), "p99-ms")
}

// percentileMS returns the p-quantile of the sorted lat in milliseconds.
func percentileMS(lat []time.Duration, p float64) float64 {
	return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
}

// benchDrain measures the job side alone: b.N products are created while no
// worker runs, then the workers start and the time until the last report is
// completed gives the relay's and worker's capacity, apart from the API's.
func benchDrain(b *testing.B, e *env) {
	b.StopTimer()
	// A worker stops gracefully on SIGTERM once it has finished starting.
	time.Sleep(time.Until(e.started.Add(3 * time.Second)))
	for _, w := range e.workers {
		if code := w.Stop(30 * time.Second); code != 0 {
			b.Fatalf("a worker exited with %d on SIGTERM", code)
		}
	}
	floor := e.maxProductID(b)
	createFrom(b, clients, b.N, func() error { _, err := e.createProduct(); return err })
	b.StartTimer()
	start := time.Now()
	e.startWorkers()
	done := e.waitCompleted(b, floor)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/done.Sub(start).Seconds(), "reports/s")
}
