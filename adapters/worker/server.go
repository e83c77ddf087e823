package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// JobHandler runs one attempt of a job; final says no attempt follows. Its
// errors for which Permanent is true are not retried.
type JobHandler interface {
	HandleJob(ctx context.Context, job domain.Job, final bool) error
}

// Config tunes a Server.
type Config struct {
	// Concurrency is how many jobs run at once (WORKER_CONCURRENCY).
	Concurrency int
	// ShutdownTimeout is how long a running job may finish after shutdown
	// starts; past it the job is handed back to the queue.
	ShutdownTimeout time.Duration
	// PollInterval is how often an idle server looks for new jobs.
	PollInterval time.Duration
	// ForwardInterval is how often jobs due for a retry are moved back to
	// pending: the granularity of the backoff.
	ForwardInterval time.Duration
	// RetryBase is the first retry's delay; each next one doubles it.
	RetryBase time.Duration
	// RetryMax caps a retry's delay.
	RetryMax time.Duration
	// Queues are the queues served; nil means the report queue.
	Queues []string
	// Namespace returns the identity of this worker's database (see
	// queue.Options.Namespace). A task of another namespace belongs to
	// another database sharing the Redis: it is handed back, uncounted, for
	// that database's workers. nil serves every task.
	Namespace func(context.Context) (string, error)
	// History, when set, records every attempt (the console shows them;
	// asynq keeps only a job's last error).
	History AttemptRecorder
}

// AttemptRecorder keeps the attempts of jobs.
type AttemptRecorder interface {
	RecordAttempt(ctx context.Context, a application.JobAttempt) error
}

// The defaults of Config.
const (
	DefaultConcurrency     = 10
	DefaultShutdownTimeout = 15 * time.Second
	DefaultPollInterval    = 20 * time.Millisecond
	DefaultForwardInterval = time.Second
	DefaultRetryBase       = 2 * time.Second
	DefaultRetryMax        = 5 * time.Minute
	// foreignDelay is how long a task of another database waits before a
	// worker (one of that database's, in time) takes it again.
	foreignDelay = 500 * time.Millisecond
)

// errForeign is a task of another database's namespace.
var errForeign = errors.New("the job belongs to another database")

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.ForwardInterval <= 0 {
		c.ForwardInterval = DefaultForwardInterval
	}
	if c.RetryBase <= 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if len(c.Queues) == 0 {
		c.Queues = []string{domain.QueueReport}
	}
	return c
}

// Server runs jobs on asynq servers, its lanes. An asynq server takes its
// jobs from Redis one at a time, each a script's round trip in one loop, so
// one server starts no more jobs a second than Redis answers it: measured
// here, about 800 a second while the API, the jobs and PostgreSQL shared two
// CPUs, with a backlog in Redis and slots idle; more concurrency did not
// help it. A lane per jobsPerLane of the concurrency, up to maxLanes, takes
// jobs in parallel; the lanes split the concurrency.
type Server struct {
	lanes     []*asynq.Server
	namespace func(context.Context) (string, error)
	handler   JobHandler
	permanent func(error) bool
	log       *zap.Logger
	metrics   *Metrics
	history   AttemptRecorder
	self      string // host:pid, the Worker of its attempts
}

// NewServer returns a server on the shared Redis client. permanent says
// which handler errors no retry can fix: those jobs fail at once. metrics
// may be nil.
func NewServer(rdb redis.UniversalClient, cfg Config, handler JobHandler, permanent func(error) bool, log *zap.Logger, metrics *Metrics) *Server {
	cfg = cfg.withDefaults()
	queues := make(map[string]int, len(cfg.Queues))
	for _, q := range cfg.Queues {
		queues[q] = 1
	}
	s := &Server{namespace: cfg.Namespace, handler: handler, permanent: permanent, log: log, metrics: metrics,
		history: cfg.History, self: ProcessID()}
	backoff := Backoff(cfg.RetryBase, cfg.RetryMax)
	for _, concurrency := range laneConcurrency(cfg.Concurrency) {
		s.lanes = append(s.lanes, newLane(rdb, cfg, concurrency, queues, backoff, log))
	}
	return s
}

const (
	// jobsPerLane is the concurrency that gets a lane of its own.
	jobsPerLane = 16
	// maxLanes bounds the lanes of a process: each holds a subscription
	// and background loops of its own.
	maxLanes = 8
)

// laneConcurrency splits concurrency between the lanes.
func laneConcurrency(concurrency int) []int {
	n := min(max(concurrency/jobsPerLane, 1), maxLanes)
	out := make([]int, n)
	for i := range out {
		out[i] = concurrency / n
		if i < concurrency%n {
			out[i]++
		}
	}
	return out
}

func newLane(rdb redis.UniversalClient, cfg Config, concurrency int, queues map[string]int, backoff asynq.RetryDelayFunc, log *zap.Logger) *asynq.Server {
	return asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              concurrency,
		Queues:                   queues,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		TaskCheckInterval:        cfg.PollInterval,
		DelayedTaskCheckInterval: cfg.ForwardInterval,
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			if errors.Is(err, errForeign) {
				return foreignDelay + time.Duration(rand.Int64N(int64(foreignDelay)))
			}
			return backoff(n, err, t)
		},
		// A task handed back to its own database's workers is no failure:
		// it keeps its attempts.
		IsFailure: func(err error) bool { return !errors.Is(err, errForeign) },
		Logger:    asynqLogger{log.Sugar().With("component", "asynq")},
		LogLevel:  asynq.WarnLevel,
	})
}

// Backoff returns an exponential retry delay: base after the first failure,
// doubling up to ceiling, with up to 20% jitter so retries of a burst spread
// out.
func Backoff(base, ceiling time.Duration) asynq.RetryDelayFunc {
	return func(n int, _ error, _ *asynq.Task) time.Duration {
		d := base
		for i := 0; i < n && d < ceiling; i++ {
			d *= 2
		}
		d = min(d, ceiling)
		return d + time.Duration(rand.Int64N(int64(d)/5+1))
	}
}

// Start begins processing jobs. When a lane cannot start, those started
// are shut down.
func (s *Server) Start() error {
	for i, lane := range s.lanes {
		if err := lane.Start(asynq.HandlerFunc(s.ProcessTask)); err != nil {
			shutdown(s.lanes[:i])
			return fmt.Errorf("start worker: %w", err)
		}
	}
	return nil
}

// Shutdown stops taking jobs and waits up to the shutdown timeout for the
// running ones; those still running then go back to the queue.
func (s *Server) Shutdown() {
	shutdown(s.lanes)
}

// shutdown shuts lanes down at once, so that together they take no longer
// than one.
func shutdown(lanes []*asynq.Server) {
	var wg sync.WaitGroup
	for _, lane := range lanes {
		wg.Go(lane.Shutdown)
	}
	wg.Wait()
}

// ProcessTask runs one asynq task through the handler, logging its start
// and finish the way the seed tutorial's worker does, with fields.
func (s *Server) ProcessTask(ctx context.Context, t *asynq.Task) error {
	id, _ := asynq.GetTaskID(ctx)
	if err := s.own(ctx, id); err != nil {
		return err
	}
	queue, _ := asynq.GetQueueName(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	job := domain.Job{ID: id, Type: t.Type(), Queue: queue, Payload: t.Payload()}
	// The job's fields go with each line rather than through log.With, which
	// encodes them even when the level drops every line (LOG_LEVEL=warn and
	// a job that succeeds).
	fields := []zap.Field{zap.String("job_id", id), zap.String("job_type", job.Type),
		zap.String("queue", queue), zap.Int("attempt", retried+1), zap.Int("max_attempts", maxRetry+1)}
	if rid := application.JobRequestID(job); rid != "" {
		// The request that asked for the job, so its lines can be tied to it.
		fields = append(fields, zap.String("request_id", rid))
	}
	line := func(level zapcore.Level, msg string, more ...zap.Field) {
		if ce := s.log.Check(level, msg); ce != nil {
			ce.Write(append(fields, more...)...)
		}
	}
	line(zap.InfoLevel, "job started", zap.ByteString("payload", job.Payload))
	start := time.Now()

	err := s.handler.HandleJob(ctx, job, retried >= maxRetry)
	elapsed := time.Since(start)
	s.metrics.observe(job.Type, elapsed, err, retried)
	s.record(ctx, job, start, elapsed, err)
	switch {
	case err == nil:
		line(zap.InfoLevel, "job finished", zap.Duration("duration", elapsed))
		return nil
	case s.permanent(err):
		line(zap.ErrorLevel, "job failed without retry", zap.Duration("duration", elapsed), zap.Error(err))
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		line(zap.WarnLevel, "job interrupted, handed back to the queue", zap.Duration("duration", elapsed))
		return err
	case retried >= maxRetry:
		line(zap.ErrorLevel, "job failed for good", zap.Duration("duration", elapsed), zap.Error(err))
		return err
	default:
		line(zap.WarnLevel, "job failed, will retry", zap.Duration("duration", elapsed), zap.Error(err))
		return err
	}
}

// record keeps the attempt in the history. An attempt cut short by
// shutdown is no failure of the job and is not recorded; a history that
// cannot be written costs a log line, never the job.
func (s *Server) record(ctx context.Context, job domain.Job, start time.Time, elapsed time.Duration, err error) {
	if s.history == nil || (err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		return
	}
	a := application.JobAttempt{JobID: job.ID, Queue: job.Queue, Type: job.Type, Worker: s.self,
		Started: start, Duration: elapsed}
	if err != nil {
		a.Error = err.Error()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if herr := s.history.RecordAttempt(rctx, a); herr != nil {
		s.log.Warn("job attempt not recorded", zap.String("job_id", job.ID), zap.Error(herr))
	}
}

// ProcessID names this process as host:pid, the way asynq names a worker
// server's host and pid.
func ProcessID() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// own returns errForeign for a task of another database's namespace, or the
// error that kept it from knowing its own.
func (s *Server) own(ctx context.Context, taskID string) error {
	theirs := domain.TaskNamespace(taskID)
	if s.namespace == nil || theirs == "" {
		return nil
	}
	ours, err := s.namespace(ctx)
	if err != nil {
		return fmt.Errorf("job %s: %w", taskID, err)
	}
	if theirs != ours {
		s.log.Debug("job of another database handed back", zap.String("job_id", taskID))
		return errForeign
	}
	return nil
}

// asynqLogger writes asynq's own messages through zap.
type asynqLogger struct{ s *zap.SugaredLogger }

func (l asynqLogger) Debug(args ...any) { l.s.Debug(args...) }
func (l asynqLogger) Info(args ...any)  { l.s.Info(args...) }
func (l asynqLogger) Warn(args ...any)  { l.s.Warn(args...) }
func (l asynqLogger) Error(args ...any) { l.s.Error(args...) }
func (l asynqLogger) Fatal(args ...any) { l.s.Fatal(args...) }
