package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/httpapi"
	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/adapters/postgres"
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
		fx.Invoke(runWorkerMetrics),
	)
}

// runWorkerMetrics serves /metrics on WORKER_METRICS_ADDR, when it is set:
// the job counters live in the process that runs the jobs.
func runWorkerMetrics(lc fx.Lifecycle, j JobsConfig, reg *prometheus.Registry, log *zap.Logger) {
	if j.MetricsAddr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Addr: j.MetricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", j.MetricsAddr)
			if err != nil {
				return fmt.Errorf("WORKER_METRICS_ADDR: %w", err)
			}
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("metrics server stopped", zap.Error(err))
				}
			}()
			log.Info("worker metrics listening", zap.String("addr", ln.Addr().String()))
			return nil
		},
		OnStop: srv.Shutdown,
	})
}

// AllOptions are the fx options of `etalase all`: the API's and the worker's.
func AllOptions(c Config, log *zap.Logger, fb Fallback) fx.Option {
	return fx.Options(
		APIOptions(c, log, fb),
		WorkerModule(fb),
	)
}

// JobsConfig is the tuning of the job side beyond CONTRACT.md's variables.
type JobsConfig struct {
	// SweepAfter is how long a report may stay queued or running before the
	// sweeper enqueues it again (REPORT_SWEEP_AFTER).
	SweepAfter time.Duration
	// SweepInterval is how often the sweeper looks (REPORT_SWEEP_INTERVAL).
	SweepInterval time.Duration
	// RelayPoll is the outbox poll when no notification arrives
	// (OUTBOX_POLL_INTERVAL).
	RelayPoll time.Duration
	// RetryBase is the delay before a failed job's first retry; each next
	// one doubles it (JOB_RETRY_BASE).
	RetryBase time.Duration
	// MetricsAddr, when set, is where `etalase worker`, which has no HTTP
	// API, serves /metrics (WORKER_METRICS_ADDR).
	MetricsAddr string
}

// The defaults of JobsConfig. Five attempts back off 2+4+8+16 s, so a
// report left queued or running for two minutes has lost its job.
const (
	DefaultSweepAfter    = 2 * time.Minute
	DefaultSweepInterval = 10 * time.Second
	DefaultRelayPoll     = 5 * time.Second
	DefaultJobRetryBase  = 2 * time.Second
)

// LoadJobsConfig reads the job tuning from getenv. REPORT_SWEEP_AFTER must
// exceed REPORT_DELAY, or every healthy job would be handed out twice.
func LoadJobsConfig(c Config, getenv func(string) string) (JobsConfig, error) {
	r := reader{getenv: getenv}
	j := JobsConfig{
		SweepAfter:    r.duration("REPORT_SWEEP_AFTER", DefaultSweepAfter, time.Second),
		SweepInterval: r.duration("REPORT_SWEEP_INTERVAL", DefaultSweepInterval, 100*time.Millisecond),
		RelayPoll:     r.duration("OUTBOX_POLL_INTERVAL", DefaultRelayPoll, 10*time.Millisecond),
		RetryBase:     r.duration("JOB_RETRY_BASE", DefaultJobRetryBase, time.Millisecond),
		MetricsAddr:   r.str("WORKER_METRICS_ADDR", ""),
	}
	if r.err != nil {
		return JobsConfig{}, r.err
	}
	if j.SweepAfter <= c.ReportDelay {
		return JobsConfig{}, &ConfigError{"REPORT_SWEEP_AFTER", fmt.Sprintf("must exceed REPORT_DELAY (%s)", c.ReportDelay)}
	}
	return j, nil
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
		fx.Invoke(registerBacklogCollector),
		historyOptions(fb),
	}
	if fb.Redis {
		opts = append(opts, fx.Provide(
			newMemoryQueue,
			fx.Annotate(func(q *memory.Queue) *memory.Queue { return q }, fx.As(new(domain.JobQueue))),
			fx.Annotate(newMemoryInspector, fx.As(new(application.QueueInspector))),
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

// namespaceParams is what the namespace is read from: PostgreSQL, or the
// memory store when dev fell back.
type namespaceParams struct {
	fx.In

	Pool *pgxpool.Pool `optional:"true"`
}

func newJobNamespace(p namespaceParams) jobNamespace {
	var epochs domain.CacheEpoch = memory.NewCacheEpoch()
	if p.Pool != nil {
		epochs = postgres.NewCacheEpoch(p.Pool, "")
	}
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

func registerBacklogCollector(reg *prometheus.Registry, store domain.Store, ins application.QueueInspector) error {
	return reg.Register(worker.NewBacklogCollector(store.Outbox(), ins))
}

// memoryJobRetries and memoryJobRetryBase mirror the Redis queue's five
// attempts for the dev fallback.
const (
	memoryJobRetries   = queue.DefaultMaxRetry
	memoryJobRetryBase = time.Second
)

func newMemoryQueue() *memory.Queue { return memory.NewQueue(memoryJobRetries, memoryJobRetryBase) }

// memoryInspector shows the in-memory queue to the queue admin.
type memoryInspector struct{ q *memory.Queue }

func newMemoryInspector(q *memory.Queue) memoryInspector { return memoryInspector{q} }

func (m memoryInspector) Counts(context.Context) ([]application.QueueCounts, error) {
	out := []application.QueueCounts{{Queue: domain.QueueReport}}
	for _, s := range m.q.States() {
		c := application.QueueCounts{Queue: s.Queue, Pending: s.Pending, Active: s.Active,
			Retry: s.Retry, Archived: s.Failed, Completed: s.Complete}
		if s.Queue == domain.QueueReport {
			out[0] = c
		} else {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m memoryInspector) Failed(_ context.Context, queueName string, limit int) ([]application.FailedJob, error) {
	var out []application.FailedJob
	for _, f := range m.q.Failures(queueName) {
		if len(out) == limit {
			break
		}
		out = append(out, application.FailedJob{ID: f.Job.ID, Type: f.Job.Type, Queue: f.Job.Queue,
			Payload: f.Job.Payload, Retried: f.Retried, MaxRetry: memoryJobRetries, LastError: f.LastError,
			LastFailedAt: f.FailedAt})
	}
	return out, nil
}

func (m memoryInspector) Retry(_ context.Context, queueName, id string) error {
	return m.q.RetryFailed(queueName, id)
}

// ReportsAPIModule adds the reports and queue admin routes to the HTTP
// server.
func ReportsAPIModule() fx.Option {
	return fx.Module("reports-api",
		fx.Invoke(func(s *httpapi.Server, r *application.Reports, a *application.QueueAdmin) {
			s.RegisterJobs(r, a)
		}),
	)
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
		fx.Provide(
			func(c Config) (JobsConfig, error) { return LoadJobsConfig(c, os.Getenv) },
			newWorkerMetrics,
		),
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

func runWorker(lc fx.Lifecycle, r *jobsRedis, ns jobNamespace, c Config, j JobsConfig, reports *application.Reports, m *worker.Metrics, h application.JobHistory, log *zap.Logger) {
	srv := worker.NewServer(r.UniversalClient, worker.Config{
		Concurrency:     c.WorkerConcurrency,
		ShutdownTimeout: c.ShutdownTimeout,
		RetryBase:       j.RetryBase,
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

func runRelay(lc fx.Lifecycle, store domain.Store, q domain.JobQueue, c Config, fb Fallback, j JobsConfig, log *zap.Logger) {
	// LISTEN needs a session of its own, which a transaction-mode pooler on
	// DATABASE_URL cannot give.
	dsn, poll := c.DatabaseDirectURL, j.RelayPoll
	if fb.Postgres {
		// The memory outbox sends no notifications: poll it briskly.
		dsn, poll = "", min(poll, 100*time.Millisecond)
	}
	loop := worker.NewRelayLoop(application.NewRelay(store, q, 0), dsn, poll, log)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { loop.Start(); return nil },
		OnStop:  loop.Stop,
	})
}

func runSweeper(lc fx.Lifecycle, store domain.Store, q domain.JobQueue, j JobsConfig, log *zap.Logger) {
	loop := worker.NewSweepLoop(application.NewSweeper(store, q, j.SweepAfter, 0), j.SweepInterval, log)
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { loop.Start(); return nil },
		OnStop:  loop.Stop,
	})
}
