package robust

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

// The storm's size and seed. The seed is printed on every run; a failure is
// replayed with -args -robust.seed=N (or ETALASE_ROBUST_SEED=N).
var (
	seedFlag  = flag.Uint64("robust.seed", 0, "PRNG seed of the request storm (0: from ETALASE_ROBUST_SEED or the clock)")
	countFlag = flag.Int("robust.n", 10000, "number of requests in the storm")
)

const (
	workers    = 8
	apiKeyName = "robust"
	apiKey     = "robust-secret-0123456789"
	timeout    = 15 * time.Second
)

func seed(t *testing.T) uint64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	if s := os.Getenv("ETALASE_ROBUST_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ETALASE_ROBUST_SEED=%q is not an unsigned integer", s)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestRequestStorm sends thousands of random, malformed and hostile requests
// to a real api process and requires every one to be answered below 500,
// every error as problem+json, and the process to stay up and correct.
func TestRequestStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("the request storm takes up to a minute; skipped with -short")
	}
	s := seed(t)
	t.Logf("seed %d (replay: go test ./test/robust -run TestRequestStorm -args -robust.seed=%d)", s, s)
	fmt.Printf("robust: seed %d\n", s)

	port := testproc.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	proc := testproc.Start(t, map[string]string{
		"HTTP_ADDR":     fmt.Sprintf("127.0.0.1:%d", port),
		"DATABASE_URL":  pgtest.NewDatabase(t),
		"REDIS_URL":     redisproc.Start(t).URL(),
		"API_KEYS":      apiKeyName + ":" + apiKey,
		"ADMIN_KEYS":    "robust-admin:robust-admin-secret-0123",
		"LOG_LEVEL":     "error",
		"CACHE_ENABLED": "true",
	}, "api")
	proc.WaitHTTP(t, base+"/readyz", 30*time.Second)

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	f := setUp(t, addr)

	rng := rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
	reqs := make([]*request, *countFlag)
	for i := range reqs {
		g := pick(rng)
		reqs[i] = g.make(rng, f)
	}

	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		kinds    = map[string]int{}
		failures []string
		noReply  int
	)
	fail := func(r *request, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf("%s: %s", fmt.Sprintf(format, args...), r))
	}
	start := time.Now()
	next := make(chan *request)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			c := &client{addr: addr, timeout: timeout}
			defer c.close()
			for r := range next {
				rep, err := c.do(r)
				mu.Lock()
				kinds[r.kind]++
				if err == nil {
					statuses[rep.status]++
				}
				mu.Unlock()
				switch {
				case err != nil && r.noReply && strings.Contains(err.Error(), errNoReply.Error()):
					mu.Lock()
					noReply++
					mu.Unlock()
				case err != nil:
					fail(r, "no response: %v", err)
				default:
					for _, problem := range check(r, rep) {
						fail(r, "%s", problem)
					}
				}
			}
		})
	}
	for _, r := range reqs {
		next <- r
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)

	codes := make([]int, 0, len(statuses))
	for code := range statuses {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	var summary strings.Builder
	fmt.Fprintf(&summary, "%d requests in %s (seed %d); status counts:", len(reqs), elapsed.Round(time.Millisecond), s)
	for _, code := range codes {
		fmt.Fprintf(&summary, " %d=%d", code, statuses[code])
	}
	fmt.Fprintf(&summary, "; closed without answer (allowed for non-HTTP bytes)=%d; by generator:", noReply)
	for _, g := range generators {
		fmt.Fprintf(&summary, " %s=%d", g.name, kinds[g.name])
	}
	t.Log(summary.String())
	fmt.Println("robust: " + summary.String())

	if len(failures) > 0 {
		shown := failures[:min(len(failures), 30)]
		t.Errorf("%d of %d requests were answered wrongly (seed %d); the first %d:\n%s",
			len(failures), len(reqs), s, len(shown), strings.Join(shown, "\n"))
	}
	if proc.Exited() {
		t.Fatalf("the api process died during the storm (seed %d)", s)
	}
	afterStorm(t, addr, f)
}

// check returns what is wrong with the reply to r.
func check(r *request, rep reply) []string {
	var problems []string
	if rep.status >= 500 {
		problems = append(problems, fmt.Sprintf("status %d", rep.status))
	}
	if rep.status < 400 {
		return problems
	}
	ct := rep.header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/problem+json") {
		problems = append(problems, fmt.Sprintf("status %d with Content-Type %q, want application/problem+json", rep.status, ct))
	}
	if rep.status == http.StatusUnauthorized && !strings.Contains(rep.header.Get("WWW-Authenticate"), "Bearer") {
		problems = append(problems, "401 without WWW-Authenticate: Bearer")
	}
	if r.method == "HEAD" {
		return problems
	}
	var body struct {
		Status *int    `json:"status"`
		Title  *string `json:"title"`
	}
	if err := json.Unmarshal(rep.body, &body); err != nil {
		problems = append(problems, fmt.Sprintf("status %d with a body that is not JSON (%v): %.200q", rep.status, err, rep.body))
		return problems
	}
	if body.Status == nil || *body.Status != rep.status {
		problems = append(problems, fmt.Sprintf("status %d but problem status %v: %.200q", rep.status, body.Status, rep.body))
	}
	if body.Title == nil || *body.Title == "" {
		problems = append(problems, fmt.Sprintf("problem without a title: %.200q", rep.body))
	}
	for _, leak := range []string{"SQLSTATE", "postgres://", "pgx", "goroutine ", "runtime error", "panic", "redis://"} {
		if strings.Contains(string(rep.body), leak) {
			problems = append(problems, fmt.Sprintf("error body leaks %q: %.300q", leak, rep.body))
		}
	}
	return problems
}
