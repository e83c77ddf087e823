package bootstrap

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/etalase/etalase/adapters/worker"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// MetricsModule provides the Prometheus registry that adapters register
// their own metrics on and /metrics serves, and registers the collectors no
// adapter owns: the Go runtime and the process, the connection pools, and
// the outbox and queue backlog. Every long-running command includes it.
func MetricsModule() fx.Option {
	return fx.Module("metrics",
		fx.Provide(newRegistry),
		fx.Invoke(registerPoolStats, registerBacklogCollector),
	)
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

func registerBacklogCollector(reg *prometheus.Registry, store domain.Store, ins application.QueueInspector) error {
	return reg.Register(worker.NewBacklogCollector(store.Outbox(), ins))
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
