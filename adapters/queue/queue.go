// Package queue is the Redis job queue: an asynq client that implements
// domain.JobQueue and an asynq inspector behind the queue admin. Both run on
// the shared go-redis client, so cluster and sentinel deployments work as
// the rest of etalase does.
//
// It imports domain, application and asynq; no other adapter.
package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/domain"
)

// The queue's defaults.
const (
	// DefaultMaxRetry gives every job five attempts before it is kept as failed.
	DefaultMaxRetry = 4
	// DefaultRetention keeps completed jobs visible (and counted) for a while.
	DefaultRetention = time.Hour
	// DefaultEnqueueTimeout bounds one enqueue, so a frozen Redis stalls a
	// relay step, not the relay.
	DefaultEnqueueTimeout = 3 * time.Second
)

// Options tune the jobs a Client enqueues.
type Options struct {
	MaxRetry       int           // retries after the first attempt; 0 means DefaultMaxRetry
	Retention      time.Duration // how long a completed job stays listed; 0 means DefaultRetention
	EnqueueTimeout time.Duration // 0 means DefaultEnqueueTimeout
	// Namespace returns the identity of the database the jobs belong to;
	// task ids are "<namespace>:<job id>", so a fresh or another database's
	// report-1 is never taken for this one's. nil leaves ids as they are.
	Namespace func(context.Context) (string, error)
	// Replicas is how many replicas must hold a job before Enqueue returns
	// nil (1 behind Sentinel: a failover promotes a replica and forgets what
	// the old master acknowledged alone); 0 trusts the master's word.
	Replicas int
	// ReplicaTimeout bounds the wait for them; 0 means DefaultReplicaTimeout.
	ReplicaTimeout time.Duration
}

// DefaultReplicaTimeout is how long an enqueue waits for its replicas
// before the job is left in the outbox for a later try.
const DefaultReplicaTimeout = time.Second

// fenceKey is written after an enqueue so that WAIT, which covers the
// writes of its own connection, covers the enqueue too: replication is one
// ordered stream per server.
const fenceKey = "etalase:queue-fence"

// ErrNotReplicated is an enqueue no replica acknowledged in time.
var ErrNotReplicated = errors.New("no replica acknowledged the job")

// Client enqueues jobs into asynq. It is a domain.JobQueue.
type Client struct {
	client *asynq.Client
	rdb    redis.UniversalClient
	opts   Options
}

var _ domain.JobQueue = (*Client)(nil)

// NewClient returns a client on rdb. Closing the client leaves rdb open: its
// owner closes it.
func NewClient(rdb redis.UniversalClient, opts Options) *Client {
	if opts.MaxRetry <= 0 {
		opts.MaxRetry = DefaultMaxRetry
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.EnqueueTimeout <= 0 {
		opts.EnqueueTimeout = DefaultEnqueueTimeout
	}
	if opts.ReplicaTimeout <= 0 {
		opts.ReplicaTimeout = DefaultReplicaTimeout
	}
	return &Client{client: asynq.NewClientFromRedisClient(rdb), rdb: rdb, opts: opts}
}

// Enqueue hands job to asynq with the job's ID as the task ID. A task with
// that ID already in the queue (pending, running, retrying, failed or
// retained as completed) means the job is already there: that is success,
// and the queue keeps one copy.
func (c *Client) Enqueue(ctx context.Context, job domain.Job) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.EnqueueTimeout)
	defer cancel()
	var ns string
	if c.opts.Namespace != nil {
		var err error
		if ns, err = c.opts.Namespace(ctx); err != nil {
			return domain.Unavailable("the database's identity is unknown", fmt.Errorf("enqueue %s: %w", job.ID, err))
		}
	}
	var server string
	if c.opts.Replicas > 0 {
		var err error
		if server, err = serverID(ctx, c.rdb); err != nil {
			return domain.Unavailable("the job queue is unreachable", fmt.Errorf("enqueue %s: %w", job.ID, err))
		}
	}
	task := asynq.NewTask(job.Type, job.Payload)
	_, err := c.client.EnqueueContext(ctx, task,
		asynq.TaskID(domain.QueueTaskID(ns, job.ID)),
		asynq.Queue(job.Queue),
		asynq.MaxRetry(c.opts.MaxRetry),
		asynq.Retention(c.opts.Retention),
	)
	if err == nil || errors.Is(err, asynq.ErrTaskIDConflict) {
		err = c.fence(ctx, server)
	}
	if err != nil {
		return domain.Unavailable("the job queue is unreachable", fmt.Errorf("enqueue %s: %w", job.ID, err))
	}
	return nil
}

// fence returns once the replicas hold everything server had when the
// enqueue was answered (a task id conflict included: the task may be there
// only because another relay's enqueue is not yet replicated). The fence,
// its WAIT and the server's name go in one pipeline; a server that is not
// the one the enqueue went to means the client moved in between, and the
// enqueue may be lost with the old server.
func (c *Client) fence(ctx context.Context, server string) error {
	if c.opts.Replicas <= 0 {
		return nil
	}
	var wait *redis.Cmd
	var info *redis.StringCmd
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, fenceKey)
		wait = p.Do(ctx, "wait", c.opts.Replicas, c.opts.ReplicaTimeout.Milliseconds())
		info = p.Info(ctx, "server")
		return nil
	})
	if err != nil {
		return fmt.Errorf("replication fence: %w", err)
	}
	n, err := wait.Int64()
	if err != nil {
		return fmt.Errorf("replication fence: %w", err)
	}
	if n < int64(c.opts.Replicas) {
		return fmt.Errorf("%w (%d of %d)", ErrNotReplicated, n, c.opts.Replicas)
	}
	if now := runID(info.Val()); now != server {
		return fmt.Errorf("the queue moved from server %s to %s during the enqueue", server, now)
	}
	return nil
}

// serverID returns the run id of the server the client talks to.
func serverID(ctx context.Context, rdb redis.UniversalClient) (string, error) {
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("server identity: %w", err)
	}
	id := runID(info)
	if id == "" {
		return "", errors.New("server identity: INFO has no run_id")
	}
	return id, nil
}

func runID(info string) string {
	for _, line := range strings.Split(info, "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return id
		}
	}
	return ""
}

// Ping checks that Redis answers.
func (c *Client) Ping() error {
	return c.client.Ping()
}
