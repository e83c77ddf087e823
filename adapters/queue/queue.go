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
}

// Client enqueues jobs into asynq. It is a domain.JobQueue.
type Client struct {
	client *asynq.Client
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
	return &Client{client: asynq.NewClientFromRedisClient(rdb), opts: opts}
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
	task := asynq.NewTask(job.Type, job.Payload)
	_, err := c.client.EnqueueContext(ctx, task,
		asynq.TaskID(domain.QueueTaskID(ns, job.ID)),
		asynq.Queue(job.Queue),
		asynq.MaxRetry(c.opts.MaxRetry),
		asynq.Retention(c.opts.Retention),
	)
	switch {
	case err == nil, errors.Is(err, asynq.ErrTaskIDConflict):
		return nil
	default:
		return domain.Unavailable("the job queue is unreachable", fmt.Errorf("enqueue %s: %w", job.ID, err))
	}
}

// Ping checks that Redis answers.
func (c *Client) Ping() error {
	return c.client.Ping()
}
