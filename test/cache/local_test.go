package cache

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/redisproc"
)

// nearGuards starts n Guards with the in-process tier, as n processes
// would have, on one private Redis and one epoch.
func nearGuards(t *testing.T, n int) ([]*cache.Guard, *redisproc.Server) {
	t.Helper()
	rs := redisproc.Start(t)
	epochs := memory.NewCacheEpoch()
	var gs []*cache.Guard
	for range n {
		client := redis.NewClient(&redis.Options{Addr: rs.Addr(), DialTimeout: 200 * time.Millisecond,
			ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond, MaxRetries: -1})
		t.Cleanup(func() { _ = client.Close() })
		g := cache.NewGuard(cache.NewRedis(client), epochs, nil, nil,
			cache.GuardConfig{Local: cache.LocalConfig{Entries: 1000}})
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = g.Stop(context.Background()) })
		waitTrusted(t, g, true)
		gs = append(gs, g)
	}
	return gs, rs
}

// product1 is the view of product 1, as GET /products/1 renders it.
var product1 = domain.View{Resource: domain.ResourceProducts, ID: 1}

// The generations a write of product 1 retires, as the key scheme names
// them.
var product1Written = []string{cache.Prefix + "gen:product:1", cache.Prefix + "gen:products"}

// readVersion reads product 1 through two layers of g's response store,
// as the response cache sits on the repository cache: an outer entry whose
// miss is computed from an inner entry, whose miss loads db. Both depend
// on the same generations, so each layer must see what the other would.
func readVersion(ctx context.Context, t *testing.T, g *cache.Guard, db *atomic.Int64) (int64, string) {
	responses := cache.NewResponses(g)
	read := func(view domain.View, load func() int64) (int64, string) {
		value, fill := responses.Lookup(ctx, view)
		state := "BYPASS"
		if fill != nil {
			state = "MISS"
		}
		if value != nil {
			state = "HIT"
			v, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				t.Errorf("cached value %q", value)
			}
			return v, state
		}
		v := load()
		if fill != nil {
			fill(ctx, []byte(strconv.FormatInt(v, 10)), 0)
		}
		return v, state
	}
	// Many outer variants, so that outer misses over inner hits are common.
	outer := product1
	outer.Variant = "variant=" + strconv.Itoa(rand.IntN(20))
	return read(outer, func() int64 {
		v, _ := read(product1, db.Load)
		return v
	})
}

// TestNearTierNeverServesRetiredEntries races writers and readers of one
// key through three Guards: after a write returns, no Guard's read may
// return an older version.
func TestLocalTierNeverServesRetiredEntries(t *testing.T) {
	gs, _ := nearGuards(t, 3)
	ctx := context.Background()
	var db, acked atomic.Int64
	var hits, reads, stale atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// loop runs step in a goroutine until stop is closed.
	loop := func(step func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					step()
				}
			}
		}()
	}
	for i, g := range gs {
		loop(func() { // one writer per process: commit, invalidate, acknowledge
			v := db.Add(1)
			if err := g.Invalidate(ctx, product1Written); err != nil {
				t.Errorf("invalidate: %v", err)
			}
			for cur := acked.Load(); v > cur && !acked.CompareAndSwap(cur, v); cur = acked.Load() {
			}
			time.Sleep(time.Duration(i+1) * 100 * time.Microsecond)
		})
		for range 3 {
			loop(func() {
				floor := acked.Load()
				v, state := readVersion(ctx, t, g, &db)
				reads.Add(1)
				if state == "HIT" {
					hits.Add(1)
				}
				if v < floor && stale.Add(1) <= 5 {
					t.Errorf("read version %d (%s) after %d was acknowledged", v, state, floor)
				}
			})
		}
	}
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d reads, %d hits, %d stale, %d writes", reads.Load(), hits.Load(), stale.Load(), db.Load())
	if hits.Load() == 0 || db.Load() < 10 {
		t.Errorf("the race did not happen: %d hits, %d writes", hits.Load(), db.Load())
	}
}

// localHits reads etalase_cache_local_hits_total of layer response from reg.
func localHits(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "etalase_cache_local_hits_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "layer" && l.GetValue() == cache.LayerResponse {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestNearTierStopsServingWhenRedisFreezes: a frozen Redis answers no
// pings, so within a window the tier stops answering from memory (a write
// elsewhere could not reach it), and it serves again after the thaw.
func TestLocalTierStopsServingWhenRedisFreezes(t *testing.T) {
	rs := redisproc.Start(t)
	reg := prometheus.NewRegistry()
	metrics, err := cache.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(&redis.Options{Addr: rs.Addr(), DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	g := cache.NewGuard(cache.NewRedis(client), memory.NewCacheEpoch(), metrics, nil,
		cache.GuardConfig{Probe: 20 * time.Millisecond, Local: cache.LocalConfig{Entries: 100}})
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop(context.Background()) })
	waitTrusted(t, g, true)
	responses := cache.NewResponses(g)
	ctx := context.Background()
	// servedFromMemory reads until the tier answers, for up to 5 s.
	servedFromMemory := func() bool {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			before := localHits(t, reg)
			value, fill := responses.Lookup(ctx, product1)
			if fill != nil {
				fill(ctx, []byte(`"v"`), 0)
			}
			if value != nil && localHits(t, reg) > before {
				return true
			}
		}
		return false
	}
	if !servedFromMemory() {
		t.Fatal("the tier never answered")
	}

	rs.Freeze()
	thawed := false
	defer func() {
		if !thawed {
			rs.Thaw()
		}
	}()
	time.Sleep(50 * time.Millisecond) // five windows
	before := localHits(t, reg)
	if value, _ := responses.Lookup(ctx, product1); value != nil {
		t.Fatal("a lookup 50ms into the freeze was a hit")
	}
	if after := localHits(t, reg); after != before {
		t.Fatalf("the tier answered %v times while Redis was frozen", after-before)
	}
	rs.Thaw()
	thawed = true
	waitTrusted(t, g, true)
	if !servedFromMemory() {
		t.Fatal("the tier did not answer again after the thaw")
	}
}
