package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/application"
)

// The keys of the job history and the process board. asynq keeps a job's
// last error only and counts per day; these keep every attempt and count
// per minute, beside asynq's own keys, readable with redis-cli.
const (
	attemptsPrefix  = "etalase:jobs:attempts:"
	minutePrefix    = "etalase:jobs:minute:"
	processPrefix   = "etalase:console:process:"
	processIndexKey = "etalase:console:processes"
)

// How long the history is kept, and how many attempts per job.
const (
	attemptsTTL   = 7 * 24 * time.Hour
	maxAttempts   = 50
	minuteTTL     = 2 * time.Hour
	processTTL    = 30 * time.Second
	maxErrorChars = 500
)

// History keeps every attempt of a job and the per-minute counts of
// finished and failed jobs in Redis: workers record, the console reads. It
// is the application.JobHistory and the application.ProcessBoard.
type History struct {
	rdb redis.UniversalClient
	now func() time.Time
}

var (
	_ application.JobHistory   = (*History)(nil)
	_ application.ProcessBoard = (*History)(nil)
)

// NewHistory returns the history on rdb.
func NewHistory(rdb redis.UniversalClient) *History {
	return &History{rdb: rdb, now: time.Now}
}

// attemptRecord is the stored form of an attempt.
type attemptRecord struct {
	Queue      string    `json:"queue"`
	Type       string    `json:"type"`
	Worker     string    `json:"worker"`
	Started    time.Time `json:"started"`
	DurationMS float64   `json:"durationMs"`
	Error      string    `json:"error,omitempty"`
}

// RecordAttempt appends an attempt to its job's list and counts it in the
// minute it finished.
func (h *History) RecordAttempt(ctx context.Context, a application.JobAttempt) error {
	if len(a.Error) > maxErrorChars {
		a.Error = a.Error[:maxErrorChars]
	}
	rec, err := json.Marshal(attemptRecord{Queue: a.Queue, Type: a.Type, Worker: a.Worker, Started: a.Started.UTC(),
		DurationMS: float64(a.Duration) / float64(time.Millisecond), Error: a.Error})
	if err != nil {
		return err
	}
	key := attemptsPrefix + a.JobID
	minute := minutePrefix + strconv.FormatInt(a.Started.Add(a.Duration).Unix()/60, 10)
	_, err = h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, key, rec)
		p.LTrim(ctx, key, -maxAttempts, -1)
		p.Expire(ctx, key, attemptsTTL)
		p.HIncrBy(ctx, minute, "processed", 1)
		if a.Error != "" {
			p.HIncrBy(ctx, minute, "failed", 1)
		}
		p.Expire(ctx, minute, minuteTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record attempt of %s: %w", a.JobID, err)
	}
	return nil
}

// Attempts returns a job's attempts, oldest first.
func (h *History) Attempts(ctx context.Context, jobID string) ([]application.JobAttempt, error) {
	raw, err := h.rdb.LRange(ctx, attemptsPrefix+jobID, 0, -1).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]application.JobAttempt, 0, len(raw))
	for _, r := range raw {
		var rec attemptRecord
		if json.Unmarshal([]byte(r), &rec) != nil {
			continue
		}
		out = append(out, application.JobAttempt{JobID: jobID, Queue: rec.Queue, Type: rec.Type, Worker: rec.Worker,
			Started: rec.Started, Duration: time.Duration(rec.DurationMS * float64(time.Millisecond)), Error: rec.Error})
	}
	return out, nil
}

// PerMinute returns the counts of every minute from since to now.
func (h *History) PerMinute(ctx context.Context, since time.Time) ([]application.MinuteCount, error) {
	first, last := since.Unix()/60, h.now().Unix()/60
	if last-first > 24*60 {
		first = last - 24*60
	}
	cmds := make([]*redis.MapStringStringCmd, 0, last-first+1)
	_, err := h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for m := first; m <= last; m++ {
			cmds = append(cmds, p.HGetAll(ctx, minutePrefix+strconv.FormatInt(m, 10)))
		}
		return nil
	})
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]application.MinuteCount, 0, len(cmds))
	for i, c := range cmds {
		v := c.Val()
		p, _ := strconv.Atoi(v["processed"])
		f, _ := strconv.Atoi(v["failed"])
		out = append(out, application.MinuteCount{Minute: time.Unix((first+int64(i))*60, 0).UTC(), Processed: p, Failed: f})
	}
	return out, nil
}

// processRecord is the stored form of a process's heartbeat.
type processRecord struct {
	ID      string                    `json:"id"`
	Role    string                    `json:"role"`
	Started time.Time                 `json:"started"`
	Seen    time.Time                 `json:"seen"`
	CacheOn bool                      `json:"cacheOn"`
	Trusted bool                      `json:"trusted"`
	Epoch   int64                     `json:"epoch"`
	Cache   []application.CacheCounts `json:"cache"`
}

// Publish stores a process's heartbeat for processTTL.
func (h *History) Publish(ctx context.Context, s application.ProcessStatus) error {
	rec, err := json.Marshal(processRecord{ID: s.ID, Role: s.Role, Started: s.Started.UTC(), Seen: s.Seen.UTC(),
		CacheOn: s.CacheOn, Trusted: s.Trusted, Epoch: s.Epoch, Cache: s.CacheCounts})
	if err != nil {
		return err
	}
	now := h.now()
	_, err = h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, processPrefix+s.ID, rec, processTTL)
		p.ZAdd(ctx, processIndexKey, redis.Z{Score: float64(now.Unix()), Member: s.ID})
		p.ZRemRangeByScore(ctx, processIndexKey, "-inf", strconv.FormatInt(now.Add(-processTTL).Unix(), 10))
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish process status: %w", err)
	}
	return nil
}

// Processes returns the processes heard from within processTTL, by id.
func (h *History) Processes(ctx context.Context) ([]application.ProcessStatus, error) {
	min := strconv.FormatInt(h.now().Add(-processTTL).Unix(), 10)
	ids, err := h.rdb.ZRangeByScore(ctx, processIndexKey, &redis.ZRangeBy{Min: min, Max: "+inf"}).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	cmds := make([]*redis.StringCmd, len(ids))
	_, err = h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Get(ctx, processPrefix+id)
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return nil, unavailable(err)
	}
	out := make([]application.ProcessStatus, 0, len(ids))
	for _, c := range cmds {
		var rec processRecord
		if c.Err() != nil || json.Unmarshal([]byte(c.Val()), &rec) != nil {
			continue
		}
		out = append(out, application.ProcessStatus{ID: rec.ID, Role: rec.Role, Started: rec.Started, Seen: rec.Seen,
			CacheOn: rec.CacheOn, Trusted: rec.Trusted, Epoch: rec.Epoch, CacheCounts: rec.Cache})
	}
	slices.SortFunc(out, func(a, b application.ProcessStatus) int { return a.Started.Compare(b.Started) })
	return out, nil
}
