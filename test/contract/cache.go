package contract

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

// RunCache runs the specification of domain.Cache. Every subtest calls
// newCache for a cache of its own, which must hold no entries, generations
// or claims.
//
// Decisions the port leaves open and this suite fixes:
//   - A generation is positive from its first Read, and every Bump makes it
//     larger than any value it had; concurrent bumps are none of them lost.
//   - Write keeps a copy: changing the caller's slice afterwards changes
//     nothing stored.
//   - An entry or a claim is gone once its TTL has passed (the suite waits
//     for it, with no bound on how soon).
func RunCache(t *testing.T, newCache func(t *testing.T) domain.Cache) {
	t.Helper()
	specs := []struct {
		name string
		run  func(t *testing.T, c domain.Cache)
	}{
		{"ping", testCachePing},
		{"read of nothing", testCacheReadMissing},
		{"write then read", testCacheWriteRead},
		{"write keeps a copy", testCacheWriteCopies},
		{"write replaces", testCacheWriteReplaces},
		{"entry expires", testCacheEntryExpires},
		{"bump advances only its generations", testCacheBump},
		{"bump of a generation never read", testCacheBumpUnread},
		{"concurrent bumps are all counted", testCacheConcurrentBumps},
		{"claim is exclusive until it expires", testCacheClaim},
	}
	for _, spec := range specs {
		t.Run(spec.name, func(t *testing.T) {
			spec.run(t, newCache(t))
		})
	}
}

func cacheCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func readCache(t *testing.T, c domain.Cache, key string, gens ...string) ([]int64, []byte) {
	t.Helper()
	g, v, err := c.Read(cacheCtx(t), key, gens)
	if err != nil {
		t.Fatalf("Read(%s, %v): %v", key, gens, err)
	}
	if len(g) != len(gens) {
		t.Fatalf("Read(%s, %v) returned %d generations", key, gens, len(g))
	}
	return g, v
}

func testCachePing(t *testing.T, c domain.Cache) {
	if err := c.Ping(cacheCtx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testCacheReadMissing(t *testing.T, c domain.Cache) {
	gens, v := readCache(t, c, "t:entry", "t:gen:a", "t:gen:b")
	if v != nil {
		t.Fatalf("value of a missing entry = %q, want nil", v)
	}
	for i, g := range gens {
		if g <= 0 {
			t.Fatalf("generation %d = %d, want positive", i, g)
		}
	}
	again, _ := readCache(t, c, "t:entry", "t:gen:a", "t:gen:b")
	if again[0] != gens[0] || again[1] != gens[1] {
		t.Fatalf("generations moved without a bump: %v then %v", gens, again)
	}
	if _, v := readCache(t, c, "t:entry"); v != nil {
		t.Fatalf("value with no generations = %q, want nil", v)
	}
}

func testCacheWriteRead(t *testing.T, c domain.Cache) {
	ctx := cacheCtx(t)
	if err := c.Write(ctx, "t:one", []byte("first"), time.Minute); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := c.Write(ctx, "t:two", []byte{0, 0xff, '\n'}, time.Minute); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if _, v := readCache(t, c, "t:one", "t:gen"); string(v) != "first" {
		t.Fatalf("t:one = %q, want first", v)
	}
	if _, v := readCache(t, c, "t:two"); !bytes.Equal(v, []byte{0, 0xff, '\n'}) {
		t.Fatalf("t:two = %q, want its bytes", v)
	}
	if _, v := readCache(t, c, "t:three"); v != nil {
		t.Fatalf("t:three = %q, want nil", v)
	}
}

func testCacheWriteCopies(t *testing.T, c domain.Cache) {
	value := []byte("kept")
	if err := c.Write(cacheCtx(t), "t:k", value, time.Minute); err != nil {
		t.Fatalf("Write: %v", err)
	}
	copy(value, "XXXX")
	if _, v := readCache(t, c, "t:k"); string(v) != "kept" {
		t.Fatalf("after the caller changed its slice the entry is %q, want kept", v)
	}
}

func testCacheWriteReplaces(t *testing.T, c domain.Cache) {
	ctx := cacheCtx(t)
	for _, s := range []string{"old", "new"} {
		if err := c.Write(ctx, "t:k", []byte(s), time.Minute); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if _, v := readCache(t, c, "t:k"); string(v) != "new" {
		t.Fatalf("entry = %q, want new", v)
	}
}

// waitGone polls until gone reports true, failing after a minute.
func waitGone(t *testing.T, what string, gone func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !gone() {
		if time.Now().After(deadline) {
			t.Fatalf("%s is still there a minute after its TTL", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testCacheEntryExpires(t *testing.T, c domain.Cache) {
	ctx := cacheCtx(t)
	if err := c.Write(ctx, "t:short", []byte("v"), 100*time.Millisecond); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := c.Write(ctx, "t:long", []byte("v"), time.Hour); err != nil {
		t.Fatalf("Write: %v", err)
	}
	waitGone(t, "an entry", func() bool {
		_, v := readCache(t, c, "t:short")
		return v == nil
	})
	if _, v := readCache(t, c, "t:long"); v == nil {
		t.Fatal("an entry with an hour's TTL expired with a short one")
	}
}

func testCacheBump(t *testing.T, c domain.Cache) {
	before, _ := readCache(t, c, "t:e", "t:gen:a", "t:gen:b", "t:gen:c")
	if err := c.Bump(cacheCtx(t), "t:gen:a", "t:gen:c"); err != nil {
		t.Fatalf("Bump: %v", err)
	}
	after, _ := readCache(t, c, "t:e", "t:gen:a", "t:gen:b", "t:gen:c")
	if after[0] <= before[0] || after[2] <= before[2] {
		t.Fatalf("bumped generations went from %v to %v", before, after)
	}
	if after[1] != before[1] {
		t.Fatalf("a generation not bumped moved from %d to %d", before[1], after[1])
	}
	if err := c.Bump(cacheCtx(t), "t:gen:a"); err != nil {
		t.Fatalf("Bump: %v", err)
	}
	again, _ := readCache(t, c, "t:e", "t:gen:a")
	if again[0] <= after[0] {
		t.Fatalf("second bump went from %d to %d", after[0], again[0])
	}
}

func testCacheBumpUnread(t *testing.T, c domain.Cache) {
	if err := c.Bump(cacheCtx(t), "t:gen:new"); err != nil {
		t.Fatalf("Bump of a generation never read: %v", err)
	}
	g, _ := readCache(t, c, "t:e", "t:gen:new")
	if g[0] <= 0 {
		t.Fatalf("generation after a bump = %d, want positive", g[0])
	}
	if err := c.Bump(cacheCtx(t), "t:gen:new"); err != nil {
		t.Fatalf("Bump: %v", err)
	}
	if again, _ := readCache(t, c, "t:e", "t:gen:new"); again[0] <= g[0] {
		t.Fatalf("bump went from %d to %d", g[0], again[0])
	}
}

func testCacheConcurrentBumps(t *testing.T, c domain.Cache) {
	const bumpers = 8
	before, _ := readCache(t, c, "t:e", "t:gen")
	var wg sync.WaitGroup
	errs := make(chan error, bumpers)
	for range bumpers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.Bump(cacheCtx(t), "t:gen")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Bump: %v", err)
		}
	}
	after, _ := readCache(t, c, "t:e", "t:gen")
	if after[0]-before[0] < bumpers {
		t.Fatalf("%d concurrent bumps moved the generation from %d to %d", bumpers, before[0], after[0])
	}
}

func testCacheClaim(t *testing.T, c domain.Cache) {
	ctx := cacheCtx(t)
	claim := func(key string, ttl time.Duration) bool {
		t.Helper()
		ok, err := c.Claim(ctx, key, ttl)
		if err != nil {
			t.Fatalf("Claim(%s): %v", key, err)
		}
		return ok
	}
	if !claim("t:lease", 100*time.Millisecond) {
		t.Fatal("first claim of a free key failed")
	}
	if claim("t:lease", time.Hour) {
		t.Fatal("a held key was claimed again")
	}
	if !claim("t:other", time.Hour) {
		t.Fatal("a claim on one key blocked another key")
	}
	waitGone(t, "a claim", func() bool { return claim("t:lease", time.Hour) })
	if claim("t:lease", time.Hour) {
		t.Fatal("a key claimed again after expiry was claimed a third time")
	}
	if claim("t:other", time.Hour) {
		t.Fatal("an hour's claim was lost")
	}
}
