package cache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/contract"
	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
)

// newRedis returns a client of a private redis-server with the cache's
// short timeouts and no retries.
func newRedis(t *testing.T, srv *redisproc.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond,
		PoolTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("the private redis-server does not answer: %v", err)
	}
	return c
}

// newClusterRedis returns a client of a private Redis Cluster with the
// cache's short timeouts and no retries.
func newClusterRedis(t *testing.T, cl *redisproc.Cluster) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond,
		PoolTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.Ping(ctx).Err() }); err != nil {
		t.Fatalf("the private cluster does not answer: %v", err)
	}
	return c
}

// nodeOf returns the master of cl that holds key.
func nodeOf(t *testing.T, cl *redisproc.Cluster, key string) *redisproc.Server {
	t.Helper()
	client := newClusterRedis(t, cl)
	m, err := client.MasterForKey(context.Background(), key)
	if err != nil {
		t.Fatalf("find the master of %s: %v", key, err)
	}
	for _, n := range cl.Nodes {
		if n.Addr() == m.Options().Addr {
			return n
		}
	}
	t.Fatalf("%s is on %s, which is not a node of the cluster %v", key, m.Options().Addr, cl.Addrs())
	return nil
}

// cachedPostgres is the production stack: PostgreSQL, the epoch in it, and
// Redis in front, with the reads that reach PostgreSQL counted.
func cachedPostgres(t *testing.T, client redis.UniversalClient) (*cache.Store, *countingStore, *cache.Guard) {
	return cachedPostgresWith(t, client, cache.LocalConfig{})
}

// cachedPostgresWith is cachedPostgres with the local tier configured by local.
func cachedPostgresWith(t *testing.T, client redis.UniversalClient, local cache.LocalConfig) (*cache.Store, *countingStore, *cache.Guard) {
	t.Helper()
	pg := pgtest.NewStore(t)
	counted := &countingStore{Store: pg}
	g := startGuardWith(t, cache.NewRedis(client), postgres.NewCacheEpoch(pg.Pool(), ""), local)
	return cache.NewStore(counted, g, 0), counted, g
}

func TestContractCachedMemory(t *testing.T) {
	t.Parallel()
	contract.RunStore(t, func(t *testing.T) domain.Store {
		return cache.NewStore(memory.New(), startGuard(t, memory.NewCache(), memory.NewCacheEpoch()), 0)
	})
}

// TestContractCachedPostgres runs the store contract over PostgreSQL with
// the shared cache on one Redis, with the in-process tier in front of it,
// and with the shared cache on a Redis Cluster, where the keys of one
// lookup live on several nodes.
func TestContractCachedPostgres(t *testing.T) {
	t.Parallel()
	t.Run("shared", func(t *testing.T) {
		contractCachedPostgres(t, newRedis(t, redisproc.Start(t)), cache.LocalConfig{})
	})
	t.Run("local", func(t *testing.T) {
		contractCachedPostgres(t, newRedis(t, redisproc.Start(t)), cache.LocalConfig{Entries: 1000})
	})
	t.Run("cluster", func(t *testing.T) {
		contractCachedPostgres(t, newClusterRedis(t, redisproc.StartCluster(t)), cache.LocalConfig{})
	})
}

func contractCachedPostgres(t *testing.T, client redis.UniversalClient, local cache.LocalConfig) {
	contract.RunStore(t, func(t *testing.T) domain.Store {
		// Every subtest has a fresh database whose ids start again at 1:
		// it gets an empty cache too.
		redisproc.Flush(t, client)
		s, _, _ := cachedPostgresWith(t, client, local)
		return s
	})
}

// TestBurstReachesPostgresOnce sends 200 concurrent reads of one cold key,
// to the decorator and then over HTTP through the response cache, and
// counts the queries that reach PostgreSQL.
func TestBurstReachesPostgresOnce(t *testing.T) {
	t.Parallel()
	client := newRedis(t, redisproc.Start(t))
	store, counted, guard := cachedPostgres(t, client)
	_, ps := seed(t, store, 2)

	burst(t, store, ps[0].ID, 200)
	if got := counted.productGets.Load(); got != 1 {
		t.Fatalf("200 concurrent gets of a cold key ran %d PostgreSQL queries, want 1", got)
	}

	srv := httpapi.New(httpapi.Config{Responses: cache.NewResponses(guard)},
		httpapi.Services{Catalog: application.NewCatalog(store)}, nil, nil)
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	url := fmt.Sprintf("http://%s/products/%d", srv.Addr(), ps[1].ID)
	before := counted.productGets.Load()
	states := httpBurst(t, url, 200)
	if got := counted.productGets.Load() - before; got != 1 {
		t.Fatalf("200 concurrent GET %s ran %d PostgreSQL queries, want 1 (X-Cache: %v)", url, got, states)
	}
	t.Logf("200 concurrent GETs of a cold item: 1 PostgreSQL query; X-Cache %v", states)
}

// TestLateResponseMissLoadsOnce follows the slowest request of a burst: it
// missed the response before the first request filled it, and reads the
// product after that request's load finished. It is answered by that load,
// not by a second query; a write in between moves the stamp, and the next
// miss loads the written row.
func TestLateResponseMissLoadsOnce(t *testing.T) {
	t.Parallel()
	client := newRedis(t, redisproc.Start(t))
	store, counted, guard := cachedPostgres(t, client)
	_, ps := seed(t, store, 1)
	p := ps[0]
	responses := cache.NewResponses(guard)
	view := domain.View{Resource: domain.ResourceProducts, ID: p.ID}
	ctx := context.Background()

	missThenRead := func() (domain.Product, func(context.Context, []byte, time.Duration)) {
		t.Helper()
		rctx := responses.Scope(ctx)
		hit, fill := responses.Lookup(rctx, view)
		if hit != nil || fill == nil {
			t.Fatalf("the response lookup did not miss (hit %q)", hit)
		}
		got, err := store.Products().Get(rctx, p.ID)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		return got, fill
	}
	_, fillFirst := missThenRead()
	_, _ = missThenRead() // the late one: missed before any fill
	if got := counted.productGets.Load(); got != 1 {
		t.Fatalf("two misses of one response under one stamp ran %d PostgreSQL queries, want 1", got)
	}
	fillFirst(ctx, []byte(`{}`), 0)

	fields := p.Fields()
	fields.Stock = 4242
	if _, err := store.Products().Update(ctx, p.ID, p.Revision(), fields); err != nil {
		t.Fatalf("update: %v", err)
	}
	got, _ := missThenRead()
	if got.Stock != 4242 || counted.productGets.Load() != 2 {
		t.Fatalf("the miss after a write read stock %d with %d queries in all; want 4242 from a second query",
			got.Stock, counted.productGets.Load())
	}
}

// TestBurstAcrossProcessesReachesPostgresOnce sends 100 concurrent reads
// of one cold key to each of two processes' stores (one Redis, one
// PostgreSQL): the claim lets one of them load.
func TestBurstAcrossProcessesReachesPostgresOnce(t *testing.T) {
	t.Parallel()
	client := newRedis(t, redisproc.Start(t))
	pg := pgtest.NewStore(t)
	_, ps := seed(t, pg, 1)
	var stores []*cache.Store
	var counters []*countingStore
	var guards []*cache.Guard
	for i := 0; i < 2; i++ {
		counted := &countingStore{Store: pg}
		g := startGuard(t, cache.NewRedis(client), postgres.NewCacheEpoch(pg.Pool(), ""))
		stores, counters, guards = append(stores, cache.NewStore(counted, g, 0)), append(counters, counted), append(guards, g)
	}
	// Each Guard bumped the epoch when it started; wait until both stamp
	// with the same one, as running processes do.
	deadline := time.Now().Add(5 * time.Second)
	for guards[0].Epoch() != guards[1].Epoch() {
		if time.Now().After(deadline) {
			t.Fatalf("the processes disagree on the epoch: %d and %d", guards[0].Epoch(), guards[1].Epoch())
		}
		time.Sleep(5 * time.Millisecond)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = burstErr(s, ps[0].ID, 100)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("get: %v", err)
		}
	}
	total := counters[0].productGets.Load() + counters[1].productGets.Load()
	if total != 1 {
		t.Fatalf("two processes' bursts on one cold key ran %d PostgreSQL queries (%d and %d), want 1",
			total, counters[0].productGets.Load(), counters[1].productGets.Load())
	}
}

// httpBurst GETs url n times at once and counts the X-Cache values; any
// status but 200 fails the test.
func httpBurst(t *testing.T, url string, n int) map[string]int {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}, Timeout: 10 * time.Second}
	var (
		start, wg sync.WaitGroup
		mu        sync.Mutex
		states    = map[string]int{}
		failures  []string
	)
	start.Add(1)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			resp, err := client.Get(url)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures = append(failures, err.Error())
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failures = append(failures, resp.Status)
			}
			states[resp.Header.Get(httpapi.HeaderXCache)]++
		}()
	}
	start.Done()
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d requests failed, first: %s", len(failures), n, failures[0])
	}
	return states
}
