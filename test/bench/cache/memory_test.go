package cache

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

const (
	memProducts = 3000
	memClients  = 32
	memLoad     = 15 * time.Second
	memSecret   = "bench-memory"
)

// BenchmarkAPIMemory starts one `etalase api` process with the default
// configuration (the local tier at its default size) and reports its
// largest resident set size (VmRSS, sampled every 100 ms) while 32 clients
// read items and list pages for 15 s. The products carry descriptions of
// the largest size allowed, and the list pages' searches vary, so the
// responses the tier could keep add up to far more than its byte bound.
func BenchmarkAPIMemory(b *testing.B) {
	rs := redisproc.Start(b)
	addr := fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(b))
	p := testproc.Start(b, map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(b), "REDIS_URL": rs.URL(), "HTTP_ADDR": addr,
		"API_KEYS": "bench:" + memSecret, "LOG_LEVEL": "warn",
	}, "api")
	p.WaitHTTP(b, "http://"+addr+"/healthz", 60*time.Second)
	c := &fasthttp.HostClient{Addr: addr, MaxConns: 256, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	desc := strings.Repeat("word ", 400) // 2,000 characters
	var cat struct{ ID int64 }
	mustDo(b, c, fiber.MethodPost, "/categories", `{"name":"memory"}`, &cat)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < memProducts; i += 8 {
				mustDo(b, c, fiber.MethodPost, "/products", fmt.Sprintf(`{"name":"memory %d","description":%q,"price":"9.99","stock":1,"categoryId":%d}`, i, desc, cat.ID), nil)
			}
		}()
	}
	wg.Wait()
	idle := rss(b, p.Pid())
	peak := idle
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				peak = max(peak, rss(b, p.Pid()))
			}
		}
	}()
	var reads sync.WaitGroup
	var n int64
	var mu sync.Mutex
	end := time.Now().Add(memLoad)
	b.ResetTimer()
	for w := range memClients {
		reads.Add(1)
		go func() {
			defer reads.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			count := int64(0)
			for time.Now().Before(end) {
				path := "/products/" + strconv.Itoa(1+rng.IntN(memProducts))
				if rng.IntN(4) == 0 {
					path = fmt.Sprintf("/products?limit=100&q=memory%%20%d", rng.IntN(2000))
				}
				req.SetRequestURI("http://" + addr + path)
				if err := c.Do(req, resp); err != nil || resp.StatusCode() != fiber.StatusOK {
					b.Errorf("GET %s: %v %d", path, err, resp.StatusCode())
					return
				}
				count++
			}
			mu.Lock()
			n += count
			mu.Unlock()
		}()
	}
	reads.Wait()
	b.StopTimer()
	close(stop)
	<-sampled
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(n)/memLoad.Seconds(), "req/s")
	fmt.Printf("one API process, default configuration: RSS %.1f MiB after seeding %d products, peak %.1f MiB under %d clients reading for %v (%d reads)\n",
		float64(idle)/(1<<20), memProducts, float64(peak)/(1<<20), memClients, memLoad, n)
	fmt.Printf("its cache metrics:\n%s\n", cacheLines(b, c))
}

// rss returns the resident set size of process pid in bytes.
func rss(b *testing.B, pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("read the status of process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	b.Fatalf("process %d has no VmRSS", pid)
	return 0
}

// cacheLines returns the cache's lines of the process's /metrics.
func cacheLines(b *testing.B, c *fasthttp.HostClient) string {
	var lines []string
	for _, l := range strings.Split(string(mustDo(b, c, fiber.MethodGet, "/metrics", "", nil)), "\n") {
		if strings.HasPrefix(l, "etalase_cache_") && !strings.HasPrefix(l, "etalase_cache_errors") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// mustDo sends one request and decodes a 2xx answer into out (if set).
func mustDo(b *testing.B, c *fasthttp.HostClient, method, path, body string, out any) []byte {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + c.Addr + path)
	if body != "" {
		req.Header.SetContentType(fiber.MIMEApplicationJSON)
		req.Header.Set(fiber.HeaderAuthorization, "Bearer "+memSecret)
		req.SetBodyString(body)
	}
	if err := c.Do(req, resp); err != nil || resp.StatusCode() >= 300 {
		b.Errorf("%s %s: %v %d %s", method, path, err, resp.StatusCode(), resp.Body())
		return nil
	}
	if out != nil {
		if err := json.Unmarshal(resp.Body(), out); err != nil {
			b.Errorf("%s %s: %v", method, path, err)
		}
	}
	return append([]byte(nil), resp.Body()...)
}
