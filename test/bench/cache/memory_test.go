package cache

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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
// largest resident set size (process_resident_memory_bytes of its own
// /metrics on OPS_ADDR, sampled every 100 ms) while 32 clients
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
	metrics := p.MetricsURL()
	idle, err := rss(metrics)
	if err != nil {
		b.Fatal(err)
	}
	peak := idle
	var sampleErr error // the sampler's first failure
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
				v, err := rss(metrics)
				if err != nil {
					sampleErr = cmp.Or(sampleErr, err)
					continue
				}
				peak = max(peak, v)
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
	if sampleErr != nil {
		b.Fatalf("sample the RSS: %v", sampleErr)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(n)/memLoad.Seconds(), "req/s")
	fmt.Printf("one API process, default configuration: RSS %.1f MiB after seeding %d products, peak %.1f MiB under %d clients reading for %v (%d reads)\n",
		float64(idle)/(1<<20), memProducts, float64(peak)/(1<<20), memClients, memLoad, n)
	fmt.Printf("its cache metrics:\n%s\n", cacheLines(b, metrics))
}

// rss returns the resident set size in bytes that the process reports at
// metrics, its /metrics: what an operator's Prometheus would record.
// It runs on the sampling goroutine, so it returns its error.
func rss(metrics string) (int64, error) {
	page, err := scrape(metrics)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(page, "\n") {
		if rest, ok := strings.CutPrefix(line, "process_resident_memory_bytes "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return 0, fmt.Errorf("process_resident_memory_bytes %q: %w", rest, err)
			}
			return int64(v), nil
		}
	}
	return 0, fmt.Errorf("%s has no process_resident_memory_bytes", metrics)
}

// scrape returns the text of the metrics page at url.
func scrape(url string) (string, error) {
	status, body, err := fasthttp.GetTimeout(nil, url, 5*time.Second)
	if err != nil || status != fiber.StatusOK {
		return "", fmt.Errorf("GET %s: %d %v", url, status, err)
	}
	return string(body), nil
}

// cacheLines returns the cache's lines of the process's /metrics.
func cacheLines(b *testing.B, metrics string) string {
	var lines []string
	page, err := scrape(metrics)
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(page, "\n") {
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
