package bootstrap

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/adapters/console"
	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// Fallback records what `etalase dev` decided to run in memory because the
// default server was unreachable. Every other command runs with the zero
// value: nothing falls back.
type Fallback struct {
	Postgres bool // the store is adapters/memory
	Redis    bool // no Redis: the cache and the jobs in memory
}

// primaryTag names the store the data lives in (PostgreSQL or memory),
// before any decorator; StoreProvider turns it into the domain.Store every
// consumer receives.
const primaryTag = `name:"primary"`

// CoreModule is what every long-running command shares: the configuration,
// the logger, the fallback decision and the metrics.
func CoreModule(c Config, log *zap.Logger, fb Fallback) fx.Option {
	return fx.Options(
		fx.Supply(c, fb, log),
		MetricsModule(),
	)
}

// PostgresModule provides the pgx pool, closed at stop; the PostgreSQL
// store as the primary domain.Store, with a critical readiness check; and
// what else lives in PostgreSQL: the cache epoch and the outbox's wake-ups.
func PostgresModule() fx.Option {
	return fx.Module("postgres",
		fx.Provide(
			newPool,
			fx.Annotate(postgres.NewStore, fx.As(new(domain.Store)), fx.ResultTags(primaryTag)),
			fx.Annotate(newCacheEpoch, fx.As(new(domain.CacheEpoch))),
			fx.Annotate(newOutboxWakeups, fx.As(new(domain.OutboxWakeups))),
			fx.Annotate(postgresCheck, fx.ResultTags(`group:"checks"`)),
		),
	)
}

// newPool opens the pool of ordinary queries on DATABASE_URL. A
// DATABASE_URL other than DATABASE_DIRECT_URL is taken to be a
// transaction-mode pooler, and the pool runs statements it can carry.
func newPool(lc fx.Lifecycle, c Config, log *zap.Logger) (*pgxpool.Pool, error) {
	open := postgres.NewPool
	if c.DatabaseURL != c.DatabaseDirectURL {
		open = postgres.NewPoolForPooler
	}
	pool, err := open(context.Background(), c.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	log.Info("postgres pool", zap.Int32("max_conns", pool.Config().MaxConns),
		zap.Bool("through_pooler", c.DatabaseURL != c.DatabaseDirectURL),
		zap.Stringer("query_exec_mode", pool.Config().ConnConfig.DefaultQueryExecMode))
	lc.Append(fx.StopHook(pool.Close))
	return pool, nil
}

// newCacheEpoch keeps the epoch through the pool and watches it on
// DATABASE_DIRECT_URL: LISTEN needs a session of its own, which a
// transaction-mode pooler on DATABASE_URL cannot give.
func newCacheEpoch(pool *pgxpool.Pool, c Config) *postgres.CacheEpoch {
	return postgres.NewCacheEpoch(pool, c.DatabaseDirectURL)
}

// newOutboxWakeups listens on DATABASE_DIRECT_URL, like the epoch.
func newOutboxWakeups(pool *pgxpool.Pool, c Config) *postgres.OutboxWakeups {
	return postgres.NewOutboxWakeups(pool, c.DatabaseDirectURL)
}

func postgresCheck(pool *pgxpool.Pool) httpapi.Check {
	return httpapi.Check{Name: "postgres", Critical: true, Run: pool.Ping}
}

// MemoryModule provides the in-memory store as the primary domain.Store,
// the in-memory cache epoch and the store's outbox wake-ups: the dev
// fallback when PostgreSQL is unreachable. Its readiness check says so.
func MemoryModule() fx.Option {
	return fx.Module("memory",
		fx.Provide(
			memory.New,
			fx.Annotate(func(s *memory.Store) *memory.Store { return s }, fx.As(new(domain.Store)), fx.ResultTags(primaryTag)),
			fx.Annotate(memory.NewCacheEpoch, fx.As(new(domain.CacheEpoch))),
			fx.Annotate(memory.NewOutboxWakeups, fx.As(new(domain.OutboxWakeups))),
			fx.Annotate(memoryStoreCheck, fx.ResultTags(`group:"checks"`)),
		),
	)
}

// memoryStoreCheck stands where the postgres check would: /readyz lists
// what it checked, and that the store is the in-memory fallback.
func memoryStoreCheck(s *memory.Store) httpapi.Check {
	return httpapi.Check{Name: "memory-store", Critical: true, Run: s.Ping}
}

// StorageModule picks PostgreSQL, or memory when dev fell back, and
// provides the domain.Store the use cases run on.
func StorageModule(fb Fallback) fx.Option {
	primary := PostgresModule()
	if fb.Postgres {
		primary = MemoryModule()
	}
	return fx.Options(primary, fx.Provide(StoreProvider))
}

// StoreParams is what StoreProvider may build the store from. The cache
// module adds its fields here.
type StoreParams struct {
	fx.In

	Config  Config
	Primary domain.Store `name:"primary"`
	// Guard is the cache, present when CacheModule runs with CACHE_ENABLED.
	Guard *cache.Guard `optional:"true"`
}

// StoreProvider is the one place that decides which domain.Store the
// application sees: the primary store, wrapped in decorators (the cache)
// when the configuration asks for them. fx.Decorate in a child module would
// not reach consumers outside it, so the choice is made here, explicitly.
func StoreProvider(p StoreParams) domain.Store {
	if p.Config.CacheEnabled && p.Guard != nil {
		return cache.NewStore(p.Primary, p.Guard, p.Config.CacheTTL)
	}
	return p.Primary
}

// CatalogModule provides the catalog use cases.
func CatalogModule() fx.Option {
	return fx.Module("catalog", fx.Provide(application.NewCatalog))
}

// HTTPParams is what the HTTP server is built from.
type HTTPParams struct {
	fx.In

	Config  Config
	Catalog *application.Catalog
	Reports *application.Reports
	Queues  *application.QueueAdmin
	Log     *zap.Logger
	Checks  []httpapi.Check `group:"checks"`
	// Hooks are the metrics middleware and the response cache of CacheModule.
	Hooks HTTPHooks `optional:"true"`
	// Console is the operator console of ConsoleModule.
	Console *console.Console `optional:"true"`
}

// HTTPModule provides the fiber server and ties it to the lifecycle:
// OnStart binds HTTP_ADDR synchronously, so a taken port fails the start;
// OnStop stops accepting and waits for in-flight requests until the stop
// context (SHUTDOWN_TIMEOUT) ends.
func HTTPModule() fx.Option {
	return fx.Module("httpapi",
		fx.Provide(newHTTPServer),
		fx.Invoke(runHTTPServer),
	)
}

func newHTTPServer(p HTTPParams) *httpapi.Server {
	cfg := httpapi.Config{APIKeys: apiKeys(p.Config.APIKeys), AdminKeys: apiKeys(p.Config.AdminKeys)}
	cfg.Observe = p.Hooks.Observe
	cfg.Responses, cfg.CacheBypassed = p.Hooks.Responses, p.Hooks.Bypassed
	svc := httpapi.Services{Catalog: p.Catalog, Reports: p.Reports, Queues: p.Queues}
	if p.Console != nil {
		svc.Console = p.Console
	}
	return httpapi.New(cfg, svc, p.Log.Named("http"), p.Checks)
}

func apiKeys(keys []Key) []httpapi.APIKey {
	out := make([]httpapi.APIKey, len(keys))
	for i, k := range keys {
		out[i] = httpapi.APIKey{Name: k.Name, Secret: k.Secret}
	}
	return out
}

func runHTTPServer(lc fx.Lifecycle, s *httpapi.Server, c Config, log *zap.Logger) {
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			if err := s.Listen(c.HTTPAddr); err != nil {
				return fmt.Errorf("HTTP_ADDR: %w", err)
			}
			log.Info("http server listening", zap.String("addr", s.Addr().String()))
			return nil
		},
		OnStop: func(ctx context.Context) error {
			log.Info("http server stopping")
			return s.Shutdown(ctx)
		},
	})
}
