package cache

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/redisproc"
)

// tripCounter is a go-redis hook that counts round trips: one per command
// sent alone, one per pipeline (which go-redis writes and reads in one
// go), and remembers what they were. A new connection's handshake (HELLO,
// CLIENT SETINFO) is the pool's growth, and the local tier's probe of its
// subscription the Guard's own work, not a request's: neither is counted.
type tripCounter struct {
	mu    sync.Mutex
	trips []string
}

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		switch args := cmd.Args(); {
		case cmd.Name() == "hello": // a new connection's handshake, not a request's
		case cmd.Name() == "publish" && len(args) > 1 && strings.HasPrefix(fmt.Sprint(args[1]), cache.Prefix+"acks:"):
			// The local tier's probe of its own subscription, not a request's.
		default:
			c.add(cmd.Name())
		}
		return next(ctx, cmd)
	}
}

func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		setup := true
		for i, cmd := range cmds {
			names[i] = cmd.Name()
			setup = setup && names[i] == "client" // CLIENT SETINFO of a new connection
		}
		if setup {
			return next(ctx, cmds)
		}
		c.add("pipeline(" + strings.Join(names, " ") + ")")
		return next(ctx, cmds)
	}
}

func (c *tripCounter) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips = append(c.trips, s)
}

// during returns the round trips fn made.
func (c *tripCounter) during(fn func()) []string {
	c.mu.Lock()
	from := len(c.trips)
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.trips[from:]...)
}

// TestRoundTrips counts the Redis round trips of the cache (a go-redis
// hook on its client) for one GET /products/{id} through the API's handler
// and response cache, and for one PATCH: a fully cold miss (the product's
// generations do not exist yet) costs at most three, a miss at most two, a
// hit one (none from the local tier), and a PATCH four: its read of the
// current product is a repository miss (a GET stores only the response, so
// Redis holds one shape of a product): read, re-read with the claim, fill;
// and its invalidation (bumps, publish and all) is one.
// The Guard's background work (refresh, pings, acknowledgements) is paced
// out of the way or runs on the subscribing connection, which no hook sees.
func TestRoundTrips(t *testing.T) {
	for _, tt := range []struct {
		name    string
		local   cache.LocalConfig
		hitWant int
	}{
		{"local tier off", cache.LocalConfig{}, 1},
		{"local tier on", cache.LocalConfig{Entries: 1000, Window: time.Second}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			pg := pgtest.NewStore(t)
			_, products := seed(t, pg, 2) // straight to PostgreSQL: no generation exists yet
			client := newRedis(t, redisproc.Start(t))
			trips := &tripCounter{}
			client.AddHook(trips)
			g := cache.NewGuard(cache.NewRedis(client), postgres.NewCacheEpoch(pg.Pool(), ""), nil, nil,
				cache.GuardConfig{TTL: time.Minute, Refresh: time.Hour, Local: tt.local})
			if err := g.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = g.Stop(context.Background()) })
			waitTrusted(t, g, true)
			srv := httpapi.New(httpapi.Config{APIKeys: []httpapi.APIKey{{Name: "t", Secret: "trips"}}, Responses: cache.NewResponses(g)},
				httpapi.Services{Catalog: application.NewCatalog(cache.NewStore(pg, g, time.Minute))}, nil, nil)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			_ = ln.Close()
			if err := srv.Listen(ln.Addr().String()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
			base := "http://" + srv.Addr().String()
			get := func(id int64, wantX httpapi.CacheState) []string {
				return trips.during(func() {
					resp, err := http.Get(fmt.Sprintf("%s/products/%d", base, id))
					if err != nil {
						t.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if x := resp.Header.Get(httpapi.HeaderXCache); resp.StatusCode != http.StatusOK || x != string(wantX) {
						t.Fatalf("GET /products/%d: %d, X-Cache %s; want 200, %s", id, resp.StatusCode, x, wantX)
					}
				})
			}
			check := func(what string, got []string, most int) {
				t.Helper()
				t.Logf("%s: %d round trips %v", what, len(got), got)
				if len(got) > most {
					t.Errorf("%s: %d round trips, want at most %d: %v", what, len(got), most, got)
				}
			}
			check("fully cold miss", get(products[0].ID, httpapi.CacheMiss), 3)
			check("hit", get(products[0].ID, httpapi.CacheHit), 1)
			// The first product's miss created the category names'
			// generation; the second's creates only its own.
			_ = get(products[1].ID, httpapi.CacheMiss)
			write := trips.during(func() {
				req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%s/products/%d", base, products[1].ID), strings.NewReader(`{"stock":7}`))
				req.Header.Set("Content-Type", "application/merge-patch+json")
				req.Header.Set("Authorization", "Bearer trips")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("PATCH: %d", resp.StatusCode)
				}
			})
			check("write (PATCH)", write, 4)
			check("miss", get(products[1].ID, httpapi.CacheMiss), 2)
			if tt.hitWant == 0 {
				// Memory is served once a ping was answered since it was read.
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					if len(get(products[1].ID, httpapi.CacheHit)) == 0 {
						break
					}
				}
			}
			check("hit", get(products[1].ID, httpapi.CacheHit), tt.hitWant)
		})
	}
}
