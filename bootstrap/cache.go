package bootstrap

import (
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/domain"
)

// cacheRedisDefaults are the go-redis options the cache client gets unless
// CACHE_REDIS_URL sets them: a cache that does not answer within a
// hundred milliseconds is bypassed, not waited for, and never retried.
var cacheRedisDefaults = map[string]string{
	"dial_timeout":  "200ms",
	"read_timeout":  "100ms",
	"write_timeout": "100ms",
	"pool_timeout":  "100ms",
	"max_retries":   "-1",
}

// HTTPHooks are what the HTTP server takes from the cache module: the
// metrics middleware, the response store (nil when the cache is off) and
// the count of bypassed responses. /metrics itself is the ops listener's
// (OpsModule).
type HTTPHooks struct {
	Observe   fiber.Handler
	Responses httpapi.ResponseStore
	Bypassed  func()
}

// CacheModule provides the cache of the API: with CACHE_ENABLED a Guard
// over Redis (CACHE_REDIS_URL in CACHE_REDIS_MODE) or, when dev fell back,
// over memory, with the cache epoch of the storage module; and always the
// HTTP hooks (metrics, the response cache, which says BYPASS when the cache
// is off).
func CacheModule(c Config, fb Fallback) fx.Option {
	opts := []fx.Option{
		fx.Provide(newCacheMetrics, newHTTPHooks),
	}
	if c.CacheEnabled {
		cacheStore := fx.Provide(newCacheRedis, fx.Annotate(newRedisCache, fx.As(new(domain.Cache))))
		if fb.Redis {
			cacheStore = fx.Provide(fx.Annotate(memory.NewCache, fx.As(new(domain.Cache))))
		}
		opts = append(opts, cacheStore, fx.Provide(newGuard))
	}
	return fx.Module("cache", opts...)
}

// cacheRedisURL adds cacheRedisDefaults to raw where it sets nothing else.
func cacheRedisURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k, v := range cacheRedisDefaults {
		if !q.Has(k) {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// cacheRedis is the cache's own go-redis client, named so the pool
// statistics can find it.
type cacheRedis struct{ redis.UniversalClient }

func newCacheRedis(lc fx.Lifecycle, c Config) (*cacheRedis, error) {
	client, err := NewRedisClient(cacheRedisURL(c.CacheRedisURL), c.CacheRedisMode, c.CacheRedisAddrs)
	if err != nil {
		return nil, fmt.Errorf("CACHE_REDIS_URL: %w", err)
	}
	lc.Append(fx.StopHook(client.Close))
	return &cacheRedis{client}, nil
}

// newRedisCache is the cache on its client. Behind Sentinel every bump
// waits for a replica's acknowledgement: a failover promotes a replica, and
// a bump only the old master held would be forgotten with it. The cache's
// own mode decides: a cache on Cluster beside a queue on Sentinel has no
// replica to wait for.
func newRedisCache(r *cacheRedis, c Config) *cache.Redis {
	cfg := cache.RedisConfig{}
	if c.CacheRedisMode == RedisSentinel {
		cfg.Replicas = 1
	}
	return cache.NewRedisWith(r.UniversalClient, cfg)
}

func newCacheMetrics(reg *prometheus.Registry) (*cache.Metrics, error) {
	return cache.NewMetrics(reg)
}

func newGuard(lc fx.Lifecycle, c Config, store domain.Cache, epochs domain.CacheEpoch, m *cache.Metrics, log *zap.Logger) *cache.Guard {
	g := cache.NewGuard(store, epochs, m, log.Named("cache"), cache.GuardConfig{TTL: c.CacheTTL,
		Local: cache.LocalConfig{Entries: c.CacheLocalEntries, Bytes: int64(c.CacheLocalBytes), Window: c.CacheLocalWindow}})
	lc.Append(fx.Hook{OnStart: g.Start, OnStop: g.Stop})
	return g
}

// hookParams is what the HTTP hooks are built from; the Guard is absent
// when the cache is off.
type hookParams struct {
	fx.In

	Registry *prometheus.Registry
	Metrics  *cache.Metrics
	Guard    *cache.Guard `optional:"true"`
}

func newHTTPHooks(p hookParams) (HTTPHooks, error) {
	m, err := httpapi.NewMetrics(p.Registry)
	if err != nil {
		return HTTPHooks{}, err
	}
	hooks := HTTPHooks{
		Observe:  m.Middleware(),
		Bypassed: func() { p.Metrics.Bypass(cache.LayerResponse) },
	}
	if p.Guard != nil {
		hooks.Responses = cache.NewResponses(p.Guard)
	}
	return hooks, nil
}
