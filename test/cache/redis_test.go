package cache

import (
	"context"
	"strings"
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

// TestClusterLookupSpansNodes runs the cache on a Redis Cluster with a
// lookup whose generations and entry live on different masters: Read
// pipelines GETs per node, Bump runs its script once per key, and the
// decorator over PostgreSQL serves hits and retires them on a write.
func TestClusterLookupSpansNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redisproc.StartCluster(t)
	client := newClusterRedis(t, cl)
	c := cache.NewRedis(client)

	// The keys of GET /products/1 and of the product lists.
	entry := "etalase:product:1"
	gens := []string{"etalase:gen:product:1", "etalase:gen:category-names", "etalase:gen:products"}
	nodes := map[*redisproc.Server]bool{}
	for _, k := range append([]string{entry}, gens...) {
		nodes[nodeOf(t, cl, k)] = true
	}
	if len(nodes) < 2 {
		t.Fatalf("the lookup's keys all live on one node; the test needs them spread")
	}

	first, v, err := c.Read(ctx, entry, gens)
	if err != nil || v != nil || len(first) != len(gens) {
		t.Fatalf("cold read = %v %q (%v), want %d generations and no entry", first, v, err, len(gens))
	}
	if err := c.Write(ctx, entry, []byte(`{"stamp":"x","value":{}}`), time.Minute); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := c.Bump(ctx, gens...); err != nil {
		t.Fatalf("bump across nodes: %v", err)
	}
	if err := client.Del(ctx, gens[2]).Err(); err != nil {
		t.Fatalf("lose a generation: %v", err)
	}
	again, v, err := c.Read(ctx, entry, gens)
	if err != nil || string(v) != `{"stamp":"x","value":{}}` {
		t.Fatalf("read back = %q (%v)", v, err)
	}
	for i, g := range gens {
		if again[i] <= first[i] {
			t.Errorf("%s went from %d to %d, want it larger after a bump (or a loss)", g, first[i], again[i])
		}
	}

	// The server's name, which the Guard compares to notice a failover, is
	// every master's: stable while they stay, whichever node INFO reaches.
	name, err := c.Server(ctx)
	if err != nil || strings.Count(name, "=") != redisproc.Masters {
		t.Fatalf("Server() = %q (%v), want one address=run_id per master", name, err)
	}
	for i := 0; i < 5; i++ {
		if again, err := c.Server(ctx); err != nil || again != name {
			t.Fatalf("Server() = %q (%v), then %q: it must not change while the masters stay", name, err, again)
		}
	}

	// The Guard trusts the cache when it answers: on a cluster, every
	// master must, since any of them may hold a generation a write bumps.
	frozen := nodeOf(t, cl, gens[0])
	frozen.Freeze()
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err = c.Ping(pctx)
	cancel()
	frozen.Thaw()
	if err == nil {
		t.Fatalf("Ping answered with the master of %s frozen", gens[0])
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping after the thaw: %v", err)
	}

	store, counted, _ := cachedPostgres(t, client)
	_, ps := seed(t, store, 3)
	p := ps[1]
	for i := 0; i < 3; i++ {
		if _, err := store.Products().Get(ctx, p.ID); err != nil {
			t.Fatalf("get: %v", err)
		}
		firstPage(t, store)
	}
	if gets, lists := counted.productGets.Load(), counted.productLists.Load(); gets != 1 || lists != 1 {
		t.Fatalf("three reads of an item and a list reached PostgreSQL %d and %d times, want 1 and 1: the cluster served no hit", gets, lists)
	}
	fields := p.Fields()
	fields.Stock = 4242
	if _, err := store.Products().Update(ctx, p.ID, p.Revision(), fields); err != nil {
		t.Fatalf("update: %v", err)
	}
	got, err := store.Products().Get(ctx, p.ID)
	listed, ok := find(firstPage(t, store), p.ID)
	if err != nil || got.Stock != 4242 || !ok || listed.Stock != 4242 {
		t.Fatalf("after the update: item stock %d (%v), listed %v stock %d; want 4242 in both", got.Stock, err, ok, listed.Stock)
	}
}
