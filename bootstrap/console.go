package bootstrap

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/cache"
	"github.com/etalase/etalase/adapters/console"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/adapters/queue"
	"github.com/etalase/etalase/adapters/worker"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// heartbeatEvery is how often a process publishes its status for the
// console.
const heartbeatEvery = 5 * time.Second

// historyOptions provide the job history, the process board and the job
// browser: on the queue's Redis, or in memory when dev fell back. Every
// process with jobs publishes its heartbeat on the board.
func historyOptions(fb Fallback) fx.Option {
	provide := fx.Provide(
		func(r *jobsRedis) *queue.History { return queue.NewHistory(r.UniversalClient) },
		fx.Annotate(func(h *queue.History) *queue.History { return h }, fx.As(new(application.JobHistory))),
		fx.Annotate(func(h *queue.History) *queue.History { return h }, fx.As(new(application.ProcessBoard))),
		fx.Annotate(func(r *jobsRedis, ns jobNamespace) *queue.Browser {
			return queue.NewBrowser(r.UniversalClient, ns, domain.QueueReport)
		}, fx.As(new(application.JobBrowser))),
	)
	if fb.Redis {
		provide = fx.Provide(
			memory.NewHistory,
			fx.Annotate(func(h *memory.History) *memory.History { return h }, fx.As(new(application.JobHistory))),
			fx.Annotate(func(h *memory.History) *memory.History { return h }, fx.As(new(application.ProcessBoard))),
			fx.Annotate(memory.NewBrowser, fx.As(new(application.JobBrowser))),
		)
	}
	return fx.Options(provide, fx.Invoke(runHeartbeat))
}

// heartbeatParams is what a heartbeat reports on.
type heartbeatParams struct {
	fx.In

	Config   Config
	Board    application.ProcessBoard
	Registry *prometheus.Registry
	Log      *zap.Logger
	Guard    *cache.Guard `optional:"true"`
}

// runHeartbeat publishes this process's status every heartbeatEvery until
// the process stops.
func runHeartbeat(lc fx.Lifecycle, p heartbeatParams) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	started := time.Now()
	id := worker.ProcessID()
	publish := func() {
		s := application.ProcessStatus{ID: id, Role: p.Config.Command, Started: started, Seen: time.Now(),
			CacheCounts: cacheCounts(p.Registry)}
		if p.Guard != nil && p.Config.CacheEnabled {
			s.CacheOn, s.Trusted, s.Epoch = true, p.Guard.Trusted(), p.Guard.Epoch()
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := p.Board.Publish(pctx, s); err != nil && ctx.Err() == nil {
			p.Log.Debug("heartbeat not published", zap.Error(err))
		}
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				t := time.NewTicker(heartbeatEvery)
				defer t.Stop()
				for {
					publish()
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
				}
			}()
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			select {
			case <-done:
			case <-stop.Done():
			}
			return nil
		},
	})
}

// cacheCounts reads this process's cache counters from the registry
// /metrics serves, by layer.
func cacheCounts(reg *prometheus.Registry) []application.CacheCounts {
	families, err := reg.Gather()
	if err != nil {
		return nil
	}
	byLayer := map[string]*application.CacheCounts{}
	var order []string
	for _, f := range families {
		var field func(*application.CacheCounts) *float64
		switch f.GetName() {
		case "etalase_cache_hits_total":
			field = func(c *application.CacheCounts) *float64 { return &c.Hits }
		case "etalase_cache_local_hits_total":
			field = func(c *application.CacheCounts) *float64 { return &c.LocalHits }
		case "etalase_cache_misses_total":
			field = func(c *application.CacheCounts) *float64 { return &c.Misses }
		case "etalase_cache_bypasses_total":
			field = func(c *application.CacheCounts) *float64 { return &c.Bypasses }
		default:
			continue
		}
		for _, m := range f.GetMetric() {
			layer := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "layer" {
					layer = l.GetValue()
				}
			}
			c, ok := byLayer[layer]
			if !ok {
				c = &application.CacheCounts{Layer: layer}
				byLayer[layer] = c
				order = append(order, layer)
			}
			*field(c) += m.GetCounter().GetValue()
		}
	}
	out := make([]application.CacheCounts, 0, len(order))
	for _, l := range order {
		out = append(out, *byLayer[l])
	}
	return out
}

// consoleParams is what the console is built from.
type consoleParams struct {
	fx.In

	Config  Config
	Store   domain.Store `name:"primary"`
	Admin   *application.QueueAdmin
	Jobs    application.JobBrowser
	History application.JobHistory
	Board   application.ProcessBoard
	Guard   *cache.Guard `optional:"true"`
	Log     *zap.Logger
}

// ConsoleModule provides the operator console, which the API's route
// table mounts at /admin. The console reads the store beneath the cache,
// so its product lookup compares what the cache holds with PostgreSQL.
func ConsoleModule() fx.Option {
	return fx.Module("console", fx.Provide(newConsole))
}

func newConsole(p consoleParams) *console.Console {
	deps := application.ConsoleDeps{Store: p.Store, Admin: p.Admin, Jobs: p.Jobs, History: p.History, Board: p.Board}
	if p.Guard != nil && p.Config.CacheEnabled {
		deps.Cache = p.Guard
	}
	return console.New(console.Config{AdminKeys: consoleKeys(p.Config.AdminKeys), WriterKeys: consoleKeys(p.Config.APIKeys)},
		application.NewConsole(deps), p.Log.Named("console"))
}

func consoleKeys(keys []Key) []console.Key {
	out := make([]console.Key, len(keys))
	for i, k := range keys {
		out[i] = console.Key{Name: k.Name, Secret: k.Secret}
	}
	return out
}
