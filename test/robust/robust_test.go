package robust

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
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

	proc := testproc.StartAPI(t, map[string]string{
		"DATABASE_URL":  pgtest.NewDatabase(t),
		"REDIS_URL":     redisproc.Start(t).URL(),
		"API_KEYS":      apiKeyName + ":" + apiKey,
		"ADMIN_KEYS":    "robust-admin:robust-admin-secret-0123",
		"LOG_LEVEL":     "error",
		"CACHE_ENABLED": "true",
	}, "api")
	proc.WaitHTTP(t, proc.URL+"/readyz", 30*time.Second)

	addr := strings.TrimPrefix(proc.URL, "http://")
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
		failures = map[string]*failure{}
		failed   int
		noReply  int
	)
	fail := func(r *request, p problem) {
		mu.Lock()
		defer mu.Unlock()
		failed++
		key := r.kind + ": " + p.class
		if f, ok := failures[key]; ok {
			f.count++
			return
		}
		failures[key] = &failure{key: key, count: 1, example: fmt.Sprintf("%s; request %s", p.detail, r)}
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
					fail(r, problem{"no response", err.Error()})
				default:
					for _, p := range check(r, rep) {
						fail(r, p)
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

	if failed > 0 {
		groups := slices.SortedFunc(maps.Values(failures), func(a, b *failure) int { return b.count - a.count })
		var report strings.Builder
		for _, g := range groups {
			fmt.Fprintf(&report, "\n%5d x %s\n        e.g. %s", g.count, g.key, g.example)
		}
		t.Errorf("%d of %d requests were answered wrongly (seed %d), by generator and fault:%s", failed, len(reqs), s, report.String())
	}
	if proc.Exited() {
		t.Fatalf("the api process died during the storm (seed %d)", s)
	}
	afterStorm(t, addr, f)
}

// failure is one kind of wrong answer: how often it happened and one
// example to replay.
type failure struct {
	key     string
	count   int
	example string
}

// problem is one thing wrong with a reply: a class to group by and the
// details of this occurrence.
type problem struct {
	class  string
	detail string
}

// check returns what is wrong with the reply to r.
func check(r *request, rep reply) []problem {
	var problems []problem
	add := func(class, format string, args ...any) {
		problems = append(problems, problem{class: class, detail: fmt.Sprintf(format, args...)})
	}
	if rep.status >= 500 {
		add(fmt.Sprintf("status %d", rep.status), "body %.300q", rep.body)
	}
	if r.kind == "valid" {
		switch rep.status {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed,
			http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity,
			http.StatusRequestHeaderFieldsTooLarge:
			// Not found, conflict and precondition may follow from what
			// the storm did concurrently; these say a valid request was refused.
			add(fmt.Sprintf("valid request refused with %d", rep.status), "body %.300q", rep.body)
		}
	}
	if rep.status < 400 {
		return problems
	}
	ct := rep.header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/problem+json") {
		add(fmt.Sprintf("status %d with Content-Type %q, want application/problem+json", rep.status, ct), "body %.200q", rep.body)
	}
	if rep.status == http.StatusUnauthorized && !strings.Contains(rep.header.Get("WWW-Authenticate"), "Bearer") {
		add("401 without WWW-Authenticate: Bearer", "headers %v", rep.header)
	}
	if r.method == "HEAD" {
		return problems
	}
	var body struct {
		Status *int    `json:"status"`
		Title  *string `json:"title"`
	}
	if err := json.Unmarshal(rep.body, &body); err != nil {
		add(fmt.Sprintf("status %d with a body that is not JSON", rep.status), "%v: %.200q", err, rep.body)
		return problems
	}
	if body.Status == nil || *body.Status != rep.status {
		add(fmt.Sprintf("status %d with another problem status", rep.status), "body %.200q", rep.body)
	}
	if body.Title == nil || *body.Title == "" {
		add("problem without a title", "body %.200q", rep.body)
	}
	for _, leak := range []string{"SQLSTATE", "postgres://", "pgx", "goroutine ", "runtime error", "panic", "redis://"} {
		if strings.Contains(string(rep.body), leak) {
			add(fmt.Sprintf("error body leaks %q", leak), "body %.300q", rep.body)
		}
	}
	return problems
}
