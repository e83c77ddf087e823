package bootstrap

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/adapters/queue"
	"github.com/etalase/etalase/adapters/worker"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// workerCommand runs the job worker and the outbox relay.
var workerCommand = Command{
	Name:    "worker",
	Summary: "run report jobs, the outbox relay and the sweeper (no HTTP API)",
	Options: WorkerOptions,
}

// allCommand runs the API, the worker and the relay in one process.
var allCommand = Command{
	Name:    "all",
	Summary: "serve the HTTP API and run the worker and the relay in one process",
	Options: AllOptions,
}

// WorkerOptions are the fx options of `etalase worker`.
func WorkerOptions(c Config, log *zap.Logger, fb Fallback) fx.Option {
	return fx.Options(
		CoreModule(c, log, fb),
		StorageModule(fb),
		JobsModule(fb),
		WorkerModule(fb),
		OpsModule(),
	)
}

// AllOptions are the fx options of `etalase all`: the API's and the worker's.
func AllOptions(c Config, log *zap.Logger, fb Fallback) fx.Option {
	return fx.Options(
		APIOptions(c, log, fb),
		WorkerModule(fb),
	)
}

// jobsRedis is the job queue's go-redis client (REDIS_URL), apart from the
// cache's: a queue wants patience where a cache wants speed.
type jobsRedis struct{ redis.UniversalClient }

func newJobsRedis(lc fx.Lifecycle, c Config) (*jobsRedis, error) {
	client, err := NewRedisClient(c.RedisURL, c.RedisMode, c.RedisAddrs)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	lc.Append(fx.StopHook(client.Close))
	return &jobsRedis{client}, nil
}

// JobsModule provides the report use cases, the job queue (domain.JobQueue)
// and its inspector: asynq on REDIS_URL, or, when dev fell back, the
// in-memory queue. It also adds a non-critical readiness check of the queue
// and the outbox and queue figures of /metrics. Every command with jobs,
// API or worker, includes it once.
func JobsModule(fb Fallback) fx.Option {
	opts := []fx.Option{
		fx.Provide(newReports, application.NewQueueAdmin),
		historyOptions(fb),
	}
	if fb.Redis {
		opts = append(opts, fx.Provide(
			newMemoryQueue,
			fx.Annotate(func(q *memory.Queue) *memory.Queue { return q }, fx.As(new(domain.JobQueue))),
			fx.Annotate(newMemoryInspector, fx.As(new(application.QueueInspector))),
			fx.Annotate(memoryQueueCheck, fx.ResultTags(`group:"checks"`)),
		))
	} else {
		opts = append(opts, fx.Provide(
			newJobsRedis,
			newJobNamespace,
			newQueueClient,
			fx.Annotate(func(q *queue.Client) *queue.Client { return q }, fx.As(new(domain.JobQueue))),
			fx.Annotate(newQueueInspector, fx.As(new(application.QueueInspector))),
			fx.Annotate(queueCheck, fx.ResultTags(`group:"checks"`)),
		))
	}
	return fx.Module("jobs", opts...)
}

// newQueueClient is the job queue on its client. Behind Sentinel an
// enqueue counts only once a replica holds it: a failover promotes a
// replica, and a job only the old master held would be lost with it (until
// the sweeper's pass); until then the job waits in the outbox.
func newQueueClient(r *jobsRedis, ns jobNamespace, c Config) *queue.Client {
	opts := queue.Options{Namespace: ns}
	if c.RedisMode == RedisSentinel {
		opts.Replicas = 1
	}
	return queue.NewClient(r.UniversalClient, opts)
}

// jobNamespace returns the identity of the database, which the ids of its
// queue tasks carry so that databases sharing one Redis (or a database
// recreated behind a Redis that remembers the old one) never take each
// other's jobs.
type jobNamespace func(context.Context) (string, error)

func newJobNamespace(epochs domain.CacheEpoch) jobNamespace {
	// Read once PostgreSQL answers, then kept: a process does not outlive
	// its database's identity (a recreated database means a restart).
	var (
		mu sync.Mutex
		id string
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if id != "" {
			return id, nil
		}
		v, err := epochs.Identity(ctx)
		if err != nil {
			return "", err
		}
		id = v
		return id, nil
	}
}

func newQueueInspector(r *jobsRedis) *queue.Inspector {
	return queue.NewInspector(r.UniversalClient, domain.QueueReport)
}

func queueCheck(q *queue.Client) httpapi.Check {
	return httpapi.Check{Name: "queue", Critical: false, Run: func(context.Context) error { return q.Ping() }}
}

// memoryJobRetries and memoryJobRetryBase mirror the Redis queue's five
// attempts for the dev fallback.
const (
	memoryJobRetries   = queue.DefaultMaxRetry
	memoryJobRetryBase = time.Second
)

// memoryQueueCheck stands where the queue check would: /readyz lists it,
// and that the queue is the in-memory fallback.
func memoryQueueCheck() httpapi.Check {
	return httpapi.Check{Name: "memory-queue", Critical: false, Run: func(ctx context.Context) error { return ctx.Err() }}
}

func newMemoryQueue() *memory.Queue { return memory.NewQueue(memoryJobRetries, memoryJobRetryBase) }

func newMemoryInspector(q *memory.Queue) *memory.Inspector {
	return memory.NewInspector(q, domain.QueueReport)
}

func newReports(store domain.Store, c Config) *application.Reports {
	return application.NewReports(store, c.ReportDelay)
}

// WorkerModule runs jobs: the asynq server (or, when dev fell back, the
// in-memory queue's runner), the outbox relay loop and the sweeper loop.
// On stop the server stops taking jobs and lets running ones finish within
// SHUTDOWN_TIMEOUT; asynq hands back those that do not.
func WorkerModule(fb Fallback) fx.Option {
	opts := []fx.Option{
		fx.Provide(newWorkerMetrics),
		fx.Invoke(runRelay, runSweeper),
	}
	if fb.Redis {
		opts = append(opts, fx.Invoke(runMemoryWorker))
	} else {
		opts = append(opts, fx.Invoke(runWorker))
	}
	return fx.Module("worker", opts...)
}

func newWorkerMetrics(reg *prometheus.Registry) *worker.Metrics { return worker.NewMetrics(reg) }

func runWorker(lc fx.Lifecycle, r *jobsRedis, ns jobNamespace, c Config, reports *application.Reports, m *worker.Metrics, h application.JobHistory, log *zap.Logger) {
	srv := worker.NewServer(r.UniversalClient, worker.Config{
		Concurrency:     c.WorkerConcurrency,
		ShutdownTimeout: c.ShutdownTimeout,
		RetryBase:       c.Jobs.RetryBase,
		Namespace:       ns,
		History:         h,
	}, reports, application.Permanent, log.Named("worker"), m)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			if err := srv.Start(); err != nil {
				return err
			}
			log.Info("worker started", zap.Int("concurrency", c.WorkerConcurrency), zap.String("queue", domain.QueueReport))
			return nil
		},
		OnStop: func(context.Context) error {
			log.Info("worker stopping")
			srv.Shutdown()
			return nil
		},
	})
}

func runMemoryWorker(lc fx.Lifecycle, q *memory.Queue, c Config, reports *application.Reports, log *zap.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				q.Run(ctx, c.WorkerConcurrency, reports.HandleJob, application.Permanent)
			}()
			log.Warn("worker runs on the in-memory queue: jobs do not survive a restart")
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			select {
			case <-done:
				return nil
			case <-stop.Done():
				return stop.Err()
			}
		},
	})
}

// runRelay moves the outbox to the queue, woken by the store's
// domain.OutboxWakeups and polling every OUTBOX_POLL_INTERVAL besides.
func runRelay(lc fx.Lifecycle, store domain.Store, q domain.JobQueue, wakeups domain.OutboxWakeups, c Config, log *zap.Logger) {
	loop := worker.NewRelayLoop(application.NewRelay(store, q, 0), wakeups, c.Jobs.RelayPoll, log)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { loop.Start(); return nil },
		OnStop:  loop.Stop,
	})
}

func runSweeper(lc fx.Lifecycle, store domain.Store, q domain.JobQueue, c Config, log *zap.Logger) {
	loop := worker.NewSweepLoop(application.NewSweeper(store, q, c.Jobs.SweepAfter, 0), c.Jobs.SweepInterval, log)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { loop.Start(); return nil },
		OnStop:  loop.Stop,
	})
}
