package cache

import (
	"context"
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/test/redisproc"
)

// TestRedisGenerationsNeverGoBack loses a generation (as eviction or a
// restart would) and checks that it comes back larger than before, so an
// entry stamped with the old value can never match again.
func TestRedisGenerationsNeverGoBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redisproc.Start(t)
	client := newRedis(t, srv)
	c := cache.NewRedis(client)
	gen := "etalase:gen:product:1"

	first, _, err := c.Read(ctx, "etalase:product:1", []string{gen})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := c.Bump(ctx, gen); err != nil {
			t.Fatalf("bump: %v", err)
		}
	}
	bumped, _, err := c.Read(ctx, "etalase:product:1", []string{gen})
	if err != nil || bumped[0] <= first[0] {
		t.Fatalf("after three bumps the generation is %v (%v), want more than %d", bumped, err, first[0])
	}
	cases := []struct {
		name string
		lose func()
	}{
		{"key evicted", func() { client.Del(ctx, gen) }},
		{"redis restarted empty", func() {
			srv.Restart()
			deadline := time.Now().Add(5 * time.Second)
			for client.Ping(ctx).Err() != nil && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
		}},
	}
	last := bumped[0]
	for _, tc := range cases {
		tc.lose()
		again, _, err := c.Read(ctx, "etalase:product:1", []string{gen})
		if err != nil || again[0] <= last {
			t.Fatalf("%s: the generation came back as %v (%v), want more than %d", tc.name, again, err, last)
		}
		last = again[0]
	}

	if err := c.Write(ctx, "etalase:product:1", []byte(`{"stamp":"x","value":{}}`), time.Minute); err != nil {
		t.Fatalf("write: %v", err)
	}
	_, v, err := c.Read(ctx, "etalase:product:1", []string{gen})
	if err != nil || string(v) != `{"stamp":"x","value":{}}` {
		t.Fatalf("read back %q (%v)", v, err)
	}
	ttl, err := client.TTL(ctx, "etalase:product:1").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("entry TTL = %v (%v), want up to a minute", ttl, err)
	}
	if ttl, _ := client.TTL(ctx, gen).Result(); ttl != -1 {
		t.Fatalf("generation TTL = %v, want none: generations must outlive entries", ttl)
	}
}
