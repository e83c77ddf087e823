package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/test/testproc"
)

// TestGracefulShutdown runs the real binary, slows PostgreSQL down so a
// write is in flight, sends SIGTERM during it, and expects the write to
// finish with 201, new connections to be refused, and exit code 0.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	vars, px := backends(t)
	vars["LOG_LEVEL"] = "info"
	base := "http://" + vars["HTTP_ADDR"]
	p := testproc.Start(t, vars, "api")
	p.WaitHTTP(t, base+"/readyz", 30*time.Second)

	px.SetDelay(400 * time.Millisecond)
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	started := time.Now()
	go func() {
		req, _ := http.NewRequest("POST", base+"/categories", strings.NewReader(`{"name":"In flight"}`))
		req.Header.Set("Authorization", "Bearer "+apiSecret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	time.Sleep(200 * time.Millisecond) // the request has reached the handler and waits on PostgreSQL

	stopped := make(chan int, 1)
	go func() { stopped <- p.Stop(20 * time.Second) }()

	r := <-done
	if r.err != nil || r.status != 201 {
		t.Fatalf("in-flight request during SIGTERM: status %d, err %v (after %s)", r.status, r.err, time.Since(started))
	}
	if elapsed := time.Since(started); elapsed < 400*time.Millisecond {
		t.Fatalf("the request took %s: it was not in flight when SIGTERM came", elapsed)
	}
	t.Logf("in-flight request answered after %s", time.Since(started))
	if code := <-stopped; code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	t.Logf("process exited after %s", time.Since(started))
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("the stopped process still answers")
	}
	out := p.Output()
	for _, want := range []string{`"stopping"`, `"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

// TestStartFailures runs the binary with a bad variable and with a taken
// port: the first exits 2 with one line naming the variable, the second 1.
func TestStartFailures(t *testing.T) {
	t.Parallel()
	bad := testproc.Start(t, map[string]string{"API_KEYS": "a:b", "CACHE_TTL": "forever"}, "api")
	if code := bad.Wait(30 * time.Second); code != 2 {
		t.Fatalf("bad CACHE_TTL: exit %d, want 2", code)
	}
	if out := strings.TrimSpace(bad.Output()); strings.Count(out, "\n") != 0 || !strings.Contains(out, "CACHE_TTL") {
		t.Fatalf("bad CACHE_TTL output is not one line naming it: %q", out)
	}

	vars, _ := backends(t)
	first := testproc.Start(t, vars, "api")
	first.WaitHTTP(t, "http://"+vars["HTTP_ADDR"]+"/healthz", 30*time.Second)
	second := testproc.Start(t, vars, "api")
	if code := second.Wait(30 * time.Second); code != 1 {
		t.Fatalf("second api on a taken port: exit %d, want 1\n%s", code, second.Output())
	}
	if out := second.Output(); !strings.Contains(out, "HTTP_ADDR") {
		t.Fatalf("taken port error does not name HTTP_ADDR:\n%s", out)
	}
	if resp, err := http.Get(fmt.Sprintf("http://%s/healthz", vars["HTTP_ADDR"])); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the first process stopped answering: %v", err)
	}
}
