package application

import (
	"context"
	"time"
)

// JobState is where a job is in the queue.
type JobState string

// The states of a job, in the order a job passes them.
const (
	JobPending   JobState = "pending"
	JobActive    JobState = "active"
	JobScheduled JobState = "scheduled"
	JobRetry     JobState = "retry"
	JobArchived  JobState = "archived"
	JobCompleted JobState = "completed"
)

// JobStates lists every state, in display order.
var JobStates = []JobState{JobPending, JobActive, JobScheduled, JobRetry, JobArchived, JobCompleted}

// ParseJobState returns the state named s.
func ParseJobState(s string) (JobState, bool) {
	for _, st := range JobStates {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// JobInfo is one job as the queue holds it.
type JobInfo struct {
	ID        string // the queue's task id
	Queue     string
	Type      string
	State     JobState
	Payload   []byte
	Retried   int // failed attempts so far
	MaxRetry  int // retries allowed after the first attempt
	LastError string
	// LastFailedAt, NextProcessAt and CompletedAt are zero when they do not
	// apply.
	LastFailedAt  time.Time
	NextProcessAt time.Time
	CompletedAt   time.Time
}

// JobAttempt is one run of a job by a worker.
type JobAttempt struct {
	JobID    string // the queue's task id
	Queue    string
	Type     string
	Worker   string // host:pid of the process that ran it
	Started  time.Time
	Duration time.Duration
	Error    string // "" when the attempt succeeded
}

// WorkerProcess is a worker process the queue has heard from.
type WorkerProcess struct {
	ID          string
	Host        string
	PID         int
	Concurrency int
	Queues      []string
	Status      string // "active", "stopped", ...
	Started     time.Time
	Heartbeat   time.Time
	Active      int // jobs it runs now
}

// MinuteCount is how many jobs finished and how many of those failed in one
// minute.
type MinuteCount struct {
	Minute    time.Time
	Processed int
	Failed    int
}

// JobBrowser is what the console needs of a job queue beyond the queue
// admin's counts: listing and finding jobs, acting on one or on a whole
// set, pausing queues, and the worker processes. Unknown queues or jobs are
// KindNotFound errors; an action a job's state does not allow is
// KindConflict.
type JobBrowser interface {
	Jobs(ctx context.Context, queue string, state JobState, page, size int) ([]JobInfo, error)
	Job(ctx context.Context, queue, id string) (JobInfo, error)
	// TaskID is the queue's id of a domain job id (it may add the
	// database's namespace).
	TaskID(ctx context.Context, jobID string) (string, error)
	RunJob(ctx context.Context, queue, id string) error
	DeleteJob(ctx context.Context, queue, id string) error
	ArchiveJob(ctx context.Context, queue, id string) error
	// RunAll and DeleteAll act on every job of a retry or archived set.
	RunAll(ctx context.Context, queue string, state JobState) (int, error)
	DeleteAll(ctx context.Context, queue string, state JobState) (int, error)
	Pause(ctx context.Context, queue string) error
	Resume(ctx context.Context, queue string) error
	Paused(ctx context.Context, queue string) (bool, error)
	Workers(ctx context.Context) ([]WorkerProcess, error)
}

// JobHistory keeps what asynq forgets: every attempt of a job, and how many
// jobs finished and failed per minute. Workers record; the console reads.
type JobHistory interface {
	RecordAttempt(ctx context.Context, a JobAttempt) error
	Attempts(ctx context.Context, jobID string) ([]JobAttempt, error)
	// PerMinute returns the counts of the minutes from since to now, oldest
	// first, one entry per minute, zeros included.
	PerMinute(ctx context.Context, since time.Time) ([]MinuteCount, error)
}

// CacheCounts are a process's cache counters of one layer.
type CacheCounts struct {
	Layer     string // "repository" or "response"
	Hits      float64
	LocalHits float64 // of Hits, answered from the in-process tier
	Misses    float64
	Bypasses  float64
}

// ProcessStatus is the heartbeat a process publishes: what it runs and how
// its cache fares.
type ProcessStatus struct {
	ID          string // host:pid
	Role        string // api, worker, all, dev
	Started     time.Time
	Seen        time.Time
	CacheOn     bool // CACHE_ENABLED and a cache wired
	Trusted     bool // it uses the cache now
	Epoch       int64
	CacheCounts []CacheCounts
}

// ProcessBoard is where processes publish their heartbeats and the console
// reads them. Processes silent for longer than a few heartbeats drop off.
type ProcessBoard interface {
	Publish(ctx context.Context, s ProcessStatus) error
	Processes(ctx context.Context) ([]ProcessStatus, error)
}

// CacheEntry is what one cache layer holds under one key.
type CacheEntry struct {
	Layer   string // "repository", "response" or "local"
	Key     string
	Held    bool
	Stamp   string // the stamp the entry carries
	Current string // the stamp a current entry must carry
	Fresh   bool   // Held and Stamp == Current: it would be served
	TTL     time.Duration
	Value   string // the cached value, cut short
}

// ProductCacheView is what the cache knows about one product: the
// generations its entries depend on and each layer's entry.
type ProductCacheView struct {
	Trusted     bool
	Epoch       int64
	Generations map[string]int64
	Entries     []CacheEntry
}

// CacheInspector shows what the cache holds for a product.
type CacheInspector interface {
	InspectProduct(ctx context.Context, id int64) (ProductCacheView, error)
}

// RelayLagger is an outbox that can say how long the jobs it sent lately
// waited: the relay's lag.
type RelayLagger interface {
	RelayLag(ctx context.Context, since time.Time) (lag time.Duration, sent int, err error)
}
