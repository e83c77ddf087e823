package pooler

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/etalase/etalase/test/apiclient"
	"github.com/etalase/etalase/test/pgbouncerproc"
	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

const (
	keySecret = "pooler-secret-0123456789"
	// testApp names the test's own direct connections in pg_stat_activity,
	// so that they are not counted as the processes'.
	testApp = "etalase-pooler-test"
)

// deployment is a fresh database reached through a private PgBouncer in
// transaction mode, a private Redis, and the etalase processes a test
// starts on them with DATABASE_URL through the pooler and
// DATABASE_DIRECT_URL direct.
type deployment struct {
	t       *testing.T
	direct  string // DSN of the database itself
	pooled  string // DSN of the database through PgBouncer
	bouncer *pgbouncerproc.Server
	db      *pgxpool.Pool // the test's own direct connections
	env     map[string]string
	api     *apiclient.Client // the writer's; requests name the process's URL
	client  *http.Client
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{t: t, direct: pgtest.NewDatabase(t), bouncer: pgbouncerproc.Start(t)}
	d.pooled = d.bouncer.URLFor(t, d.direct)
	redis := redisproc.Start(t)
	cfg, err := pgxpool.ParseConfig(d.direct)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 2
	cfg.ConnConfig.RuntimeParams["application_name"] = testApp
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	t.Cleanup(pool.Close)
	d.db = pool
	d.env = map[string]string{
		"DATABASE_URL":        d.pooled,
		"DATABASE_DIRECT_URL": d.direct,
		"REDIS_URL":           redis.URL(),
		"API_KEYS":            "loader:" + keySecret,
		"LOG_LEVEL":           "warn",
		"REPORT_DELAY":        "0s",
		"SHUTDOWN_TIMEOUT":    "5s",
	}
	d.api = &apiclient.Client{Token: keySecret, HTTP: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 100, MaxIdleConnsPerHost: 100}}}
	d.client = d.api.HTTP
	return d
}

// process is a running etalase with the addresses it serves.
type process struct {
	*testproc.Proc
	base string // HTTP_ADDR's URL
}

// start runs `etalase command` on free ports.
func (d *deployment) start(command string) *process {
	d.t.Helper()
	env := map[string]string{}
	for k, v := range d.env {
		env[k] = v
	}
	env["HTTP_ADDR"] = "127.0.0.1:" + strconv.Itoa(testproc.FreePort(d.t))
	return &process{Proc: testproc.Start(d.t, env, command), base: "http://" + env["HTTP_ADDR"]}
}

// response is a finished HTTP exchange.
type response = apiclient.Response

// do sends a request with the writer's key and a JSON body, if any.
func (d *deployment) do(method, url string, body any) (response, error) {
	return d.api.Do(method, url, body)
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns
// the errors.
func parallel(n, workers int, fn func(i int) error) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

// expect turns an unexpected status into an error naming the request.
func expect(r response, err error, want int, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if r.Status != want {
		return fmt.Errorf("%s: %d, want %d: %s", what, r.Status, want, r.Body)
	}
	return nil
}

// metrics returns p's Prometheus text, from its OPS_ADDR.
func (d *deployment) metrics(p *process) string {
	d.t.Helper()
	resp, err := d.client.Get(p.MetricsURL())
	if err != nil {
		d.t.Fatalf("GET %s: %v", p.MetricsURL(), err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("GET %s: %d", p.MetricsURL(), resp.StatusCode)
	}
	return string(b)
}

// metric returns the value of an unlabelled series in Prometheus text.
func metric(text, name string) (string, bool) {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// waitReports waits until every product has exactly one report and every
// report is completed.
func (d *deployment) waitReports(timeout time.Duration) pgtest.ReportState {
	d.t.Helper()
	return pgtest.WaitReportsCompleted(d.t, d.db, timeout)
}

// backends splits the PostgreSQL sessions of the test database that are
// not the test's own into those PgBouncer holds and the others, which the
// etalase processes opened directly.
func (d *deployment) backends() (viaBouncer, direct int) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := d.db.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND application_name <> $1`, testApp)
	if err != nil {
		d.t.Fatalf("list sessions: %v", err)
	}
	defer rows.Close()
	var pids []string
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			d.t.Fatal(err)
		}
		pids = append(pids, strconv.Itoa(pid))
	}
	servers := map[string]bool{}
	for _, s := range d.bouncer.Show(d.t, "SERVERS") {
		servers[s["remote_pid"]] = true
	}
	for _, pid := range pids {
		if servers[pid] {
			viaBouncer++
		} else {
			direct++
		}
	}
	return viaBouncer, direct
}
