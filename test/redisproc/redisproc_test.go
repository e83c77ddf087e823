package redisproc

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestWith starts a server with settings of its own and checks that they
// override the defaults and survive a restart.
func TestWith(t *testing.T) {
	t.Parallel()
	s := Start(t, With("maxmemory", "4mb"), With("maxmemory-policy", "allkeys-lru"))
	check := func(when string) {
		t.Helper()
		client := redis.NewClient(&redis.Options{Addr: s.Addr()})
		defer client.Close()
		got, err := client.ConfigGet(context.Background(), "maxmemory*").Result()
		if err != nil {
			t.Fatalf("%s: CONFIG GET: %v", when, err)
		}
		if got["maxmemory"] != "4194304" || got["maxmemory-policy"] != "allkeys-lru" {
			t.Fatalf("%s: maxmemory %q, policy %q; want 4194304, allkeys-lru", when, got["maxmemory"], got["maxmemory-policy"])
		}
	}
	check("after start")
	s.Restart()
	check("after restart")
}

// TestDefaults checks that a server started without options never evicts.
func TestDefaults(t *testing.T) {
	t.Parallel()
	s := Start(t)
	client := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer client.Close()
	got, err := client.ConfigGet(context.Background(), "maxmemory-policy").Result()
	if err != nil {
		t.Fatalf("CONFIG GET: %v", err)
	}
	if got["maxmemory-policy"] != "noeviction" {
		t.Fatalf("maxmemory-policy %q, want noeviction", got["maxmemory-policy"])
	}
}
