package cache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/test/redisproc"
)

// Under eviction: the cache's own Redis holds evictionMaxMemory and evicts
// allkeys-lru, and the filler writes fillerBatch values of fillerValue bytes
// every fillerEvery, several times that memory a second.
const (
	evictionMaxMemory = "4mb"
	evictionLoad      = 12 * time.Second
	fillerValue       = 8 << 10
	fillerBatch       = 8
	fillerEvery       = 10 * time.Millisecond
)

// TestNoStaleReadsUnderEviction is the freshness guarantee when the cache's
// Redis forgets keys of every kind: the load of TestNoStaleReadsAcrossProcesses
// through two API processes whose cache Redis (CACHE_REDIS_URL) is small and
// LRU-evicting, kept under pressure by a filler, while the queue stays on a
// Redis that never evicts. Entries, generations and leases must really be
// evicted, the cache must still hit, and no read may be stale; with the
// shared cache only and with the local tier (the default).
func TestNoStaleReadsUnderEviction(t *testing.T) {
	t.Run("shared", func(t *testing.T) { noStaleReadsUnderEviction(t, sharedOnly) })
	t.Run("local", func(t *testing.T) { noStaleReadsUnderEviction(t, nil) })
}

func noStaleReadsUnderEviction(t *testing.T, env map[string]string) {
	rs := redisproc.Start(t,
		redisproc.With("maxmemory", evictionMaxMemory),
		redisproc.With("maxmemory-policy", "allkeys-lru"),
		// Evicted keys are announced, so the test can tell their kinds apart.
		redisproc.With("notify-keyspace-events", "Ee"))
	vars := map[string]string{"CACHE_REDIS_URL": rs.URL()}
	for k, v := range env {
		vars[k] = v
	}
	c := startCluster(t, 2, vars)
	client := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	t.Cleanup(func() { client.Close() })

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	evicted := watchEvictions(ctx, t, client, &wg)
	filled := fill(ctx, client, &wg)
	st := runLoad(t, c, evictionLoad, nil)
	cancel()
	wg.Wait()

	info, err := client.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatalf("INFO stats: %v", err)
	}
	t.Logf("cache Redis of %s under a filler of %d values: %v; evicted %v (INFO: evicted_keys %s, keyspace_hits %s, keyspace_misses %s)",
		evictionMaxMemory, *filled, st, evicted, infoField(info, "evicted_keys"),
		infoField(info, "keyspace_hits"), infoField(info, "keyspace_misses"))
	st.check(t)
	// A few hundred of each kind: the cache's keys were forgotten again and
	// again while the load ran, not once by chance.
	for kind, least := range map[string]int{"entry": 200, "generation": 100, "lease": 20} {
		if evicted[kind] < least {
			t.Errorf("%d %s keys evicted, want at least %d: %v", evicted[kind], kind, least, evicted)
		}
	}
	if st.xcache["HIT"] == 0 {
		t.Errorf("no response was served from the cache: %v", st.xcache)
	}
	checkLocalHits(t, c, env["CACHE_LOCAL_ENTRIES"] != "0")
}

// fill writes values the cache never reads until ctx ends and returns how
// many it wrote, valid once wg is done. Errors (none are expected: the
// Redis evicts rather than refuse) end it early, which the eviction counts
// then show.
func fill(ctx context.Context, client *redis.Client, wg *sync.WaitGroup) *int {
	n := new(int)
	value := strings.Repeat("f", fillerValue)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(fillerEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			_, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := 0; i < fillerBatch; i++ {
					p.Set(ctx, fmt.Sprintf("filler:%d", *n+i), value, 0)
				}
				return nil
			})
			if err != nil {
				return
			}
			*n += fillerBatch
		}
	}()
	return n
}

// watchEvictions counts the keys the Redis of client evicts, by kind, until
// ctx ends; the map is complete once wg is done.
func watchEvictions(ctx context.Context, t *testing.T, client *redis.Client, wg *sync.WaitGroup) map[string]int {
	t.Helper()
	ps := client.Subscribe(ctx, "__keyevent@0__:evicted")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatalf("subscribe to evictions: %v", err)
	}
	// A blocked receive does not watch ctx; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	counts := map[string]int{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stop()
		for {
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil {
				return
			}
			counts[keyKind(msg.Payload)]++
		}
	}()
	return counts
}

// keyKind names what an evicted key was to the cache.
func keyKind(key string) string {
	switch {
	case strings.HasPrefix(key, "etalase:gen:"):
		return "generation"
	case strings.HasPrefix(key, "etalase:lease:"):
		return "lease"
	case strings.HasPrefix(key, "etalase:"):
		return "entry"
	default:
		return "filler"
	}
}

// infoField returns the value of name in an INFO answer.
func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	return "?"
}
