package redisproc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestStartClusterServesEverySlot starts a cluster and writes keys that land on
// every master through a cluster client.
func TestStartClusterServesEverySlot(t *testing.T) {
	t.Parallel()
	c := StartCluster(t)
	if len(c.Nodes) != Masters || len(strings.Split(c.AddrList(), ",")) != Masters {
		t.Fatalf("nodes %v, want %d", c.Addrs(), Masters)
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		if err := rdb.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	holding := 0
	err := rdb.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		if n > 0 {
			holding++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if holding != Masters {
		t.Fatalf("%d of %d masters hold keys, want every one", holding, Masters)
	}
}

// TestMissingBinaryIsNamed checks the message a machine without Redis gets.
func TestMissingBinaryIsNamed(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := lookBinaries("redis-server", "redis-cli")
	if err == nil || !strings.Contains(err.Error(), "redis-server is not installed") {
		t.Fatalf("lookBinaries = %v, want it to name redis-server", err)
	}
}
