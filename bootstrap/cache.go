package bootstrap

import (
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/adapters/postgres"
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

// HTTPHooks are the handlers the HTTP server takes from the cache module:
// the metrics middleware, the response cache and /metrics.
type HTTPHooks struct {
	Observe fiber.Handler
	Cache   fiber.Handler
	Metrics fiber.Handler
}

// CacheModule provides the cache of the API: with CACHE_ENABLED a Guard
// over Redis (CACHE_REDIS_URL in CACHE_REDIS_MODE) or, when dev fell back, over memory, with
// the cache epoch in PostgreSQL (or memory); and always the HTTP hooks
// (metrics, the response cache, which says BYPASS when the cache is off)
// and the pool statistics collectors.
func CacheModule(c Config, fb Fallback) fx.Option {
	opts := []fx.Option{
		fx.Provide(newCacheMetrics, newHTTPHooks),
		fx.Invoke(registerPoolStats),
	}
	if c.CacheEnabled {
		cacheStore := fx.Provide(newCacheRedis, fx.Annotate(newRedisCache, fx.As(new(domain.Cache))))
		if fb.Redis {
			cacheStore = fx.Provide(fx.Annotate(memory.NewCache, fx.As(new(domain.Cache))))
		}
		epoch := fx.Provide(fx.Annotate(newCacheEpoch, fx.As(new(domain.CacheEpoch))))
		if fb.Postgres {
			epoch = fx.Provide(fx.Annotate(memory.NewCacheEpoch, fx.As(new(domain.CacheEpoch))))
		}
		opts = append(opts, cacheStore, epoch, fx.Provide(newGuard))
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

// newCacheEpoch keeps the epoch through the pool and watches it on
// DATABASE_DIRECT_URL: LISTEN needs a session of its own.
func newCacheEpoch(pool *pgxpool.Pool, c Config) *postgres.CacheEpoch {
	return postgres.NewCacheEpoch(pool, c.DatabaseDirectURL)
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
	cfg := httpapi.ResponseCacheConfig{
		Rules:    httpapi.DefaultCacheRules(),
		Bypassed: func() { p.Metrics.Bypass(cache.LayerResponse) },
	}
	if p.Guard != nil {
		cfg.Store = cache.NewResponses(p.Guard)
	}
	return HTTPHooks{
		Observe: m.Middleware(),
		Cache:   httpapi.ResponseCache(cfg),
		Metrics: httpapi.MetricsHandler(p.Registry),
	}, nil
}

// poolParams are the pools whose statistics /metrics shows, when present.
type poolParams struct {
	fx.In

	Registry *prometheus.Registry
	Postgres *pgxpool.Pool `optional:"true"`
	Redis    *cacheRedis   `optional:"true"`
}

func registerPoolStats(p poolParams) error {
	var cs []prometheus.Collector
	if p.Postgres != nil {
		cs = append(cs, pgxPoolCollectors(p.Postgres)...)
	}
	if p.Redis != nil {
		cs = append(cs, redisPoolCollectors("cache", p.Redis)...)
	}
	for _, c := range cs {
		if err := p.Registry.Register(c); err != nil {
			return fmt.Errorf("register pool metrics: %w", err)
		}
	}
	return nil
}

func pgxPoolCollectors(pool *pgxpool.Pool) []prometheus.Collector {
	gauge := func(name, help string, f func(*pgxpool.Stat) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "etalase_pgx_pool_" + name, Help: help},
			func() float64 { return f(pool.Stat()) })
	}
	counter := func(name, help string, f func(*pgxpool.Stat) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "etalase_pgx_pool_" + name, Help: help},
			func() float64 { return f(pool.Stat()) })
	}
	return []prometheus.Collector{
		gauge("total_conns", "Connections in the PostgreSQL pool.", func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }),
		gauge("idle_conns", "Idle connections in the PostgreSQL pool.", func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
		gauge("acquired_conns", "Connections in use.", func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
		gauge("max_conns", "Largest size of the pool.", func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
		counter("acquires_total", "Connections acquired from the pool.", func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }),
		counter("empty_acquires_total", "Acquires that had to wait for a connection.", func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }),
		counter("acquire_seconds_total", "Time spent acquiring connections.", func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }),
	}
}

func redisPoolCollectors(name string, client redis.UniversalClient) []prometheus.Collector {
	labels := prometheus.Labels{"pool": name}
	gauge := func(metric, help string, f func(*redis.PoolStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "etalase_redis_pool_" + metric, Help: help, ConstLabels: labels},
			func() float64 { return f(client.PoolStats()) })
	}
	counter := func(metric, help string, f func(*redis.PoolStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "etalase_redis_pool_" + metric, Help: help, ConstLabels: labels},
			func() float64 { return f(client.PoolStats()) })
	}
	return []prometheus.Collector{
		gauge("total_conns", "Connections in the Redis pool.", func(s *redis.PoolStats) float64 { return float64(s.TotalConns) }),
		gauge("idle_conns", "Idle connections in the Redis pool.", func(s *redis.PoolStats) float64 { return float64(s.IdleConns) }),
		counter("hits_total", "Times a free connection was found in the pool.", func(s *redis.PoolStats) float64 { return float64(s.Hits) }),
		counter("misses_total", "Times no free connection was found in the pool.", func(s *redis.PoolStats) float64 { return float64(s.Misses) }),
		counter("timeouts_total", "Times waiting for a connection timed out.", func(s *redis.PoolStats) float64 { return float64(s.Timeouts) }),
		counter("stale_conns_total", "Stale connections removed from the pool.", func(s *redis.PoolStats) float64 { return float64(s.StaleConns) }),
	}
}
