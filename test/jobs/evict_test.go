package jobs

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/test/redisproc"
	"github.com/etalase/etalase/test/testproc"
)

// TestEvictingQueueRedisIsRefused runs every command that uses the queue
// Redis against an allkeys-lru one: each exits 1 with one line that names
// the policy and the fixes, before anything listens. With
// REDIS_ALLOW_EVICTION=true the API starts, and says what it allowed.
func TestEvictingQueueRedisIsRefused(t *testing.T) {
	t.Parallel()
	lru := redisproc.Start(t, redisproc.With("maxmemory", "64mb"), redisproc.With("maxmemory-policy", "allkeys-lru"))
	c := newCluster(t, map[string]string{"REDIS_URL": lru.URL()})
	for _, cmd := range []string{"api", "worker", "all", "dev"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			addr := "127.0.0.1:" + strconv.Itoa(testproc.FreePort(t))
			p := testproc.Start(t, c.vars(map[string]string{"HTTP_ADDR": addr}), cmd)
			if code := p.Wait(60 * time.Second); code != 1 {
				t.Fatalf("etalase %s on an allkeys-lru queue Redis: exit %d, want 1\n%s", cmd, code, p.Output())
			}
			out := strings.TrimSpace(p.Output())
			t.Logf("etalase %s: exit 1: %s", cmd, out)
			if strings.Contains(out, "\n") || strings.Contains(out, "stacktrace") {
				t.Errorf("etalase %s said more than one line:\n%s", cmd, out)
			}
			for _, want := range []string{"REDIS_URL", "allkeys-lru", "noeviction", "CACHE_REDIS_URL", "REDIS_ALLOW_EVICTION=true"} {
				if !strings.Contains(out, want) {
					t.Errorf("etalase %s: %q lacks %q", cmd, out, want)
				}
			}
		})
	}
	t.Run("allowed", func(t *testing.T) {
		t.Parallel()
		p := testproc.StartAPI(t, c.vars(map[string]string{"REDIS_ALLOW_EVICTION": "true"}), "api")
		p.WaitHealthy(t, 30*time.Second)
		if out := p.Output(); !strings.Contains(out, "REDIS_ALLOW_EVICTION") || !strings.Contains(out, "allkeys-lru") {
			t.Errorf("the allowed api does not say what it allowed:\n%s", out)
		}
	})
}
