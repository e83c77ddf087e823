package worker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/redisproc"
)

var errPermanent = errors.New("permanent")

// scriptedHandler fails the first failures attempts with err, then succeeds.
type scriptedHandler struct {
	mu       sync.Mutex
	failures int
	err      error
	attempts []bool // the final flag of each attempt
	done     chan struct{}
}

func (h *scriptedHandler) HandleJob(_ context.Context, _ domain.Job, final bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts = append(h.attempts, final)
	if len(h.attempts) <= h.failures {
		return h.err
	}
	close(h.done)
	return nil
}

func isPermanent(err error) bool { return errors.Is(err, errPermanent) }

func TestServerRunsJobs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		jobType      string
		failures     int
		err          error
		wantAttempts int
		wantState    asynq.TaskState
		wantFinal    bool
	}{
		{"succeeds at once", domain.JobGenerateReport, 0, nil, 1, asynq.TaskStateCompleted, false},
		{"succeeds after two retries", domain.JobGenerateReport, 2, errors.New("flaky"), 3, asynq.TaskStateCompleted, false},
		{"fails five times then is kept as failed", domain.JobGenerateReport, 99, errors.New("broken"), 5, asynq.TaskStateArchived, true},
		{"permanent error fails at once", "send-email", 99, errPermanent, 1, asynq.TaskStateArchived, false},
	}
	for _, tc := range tests {
		for _, topology := range redisproc.Topologies {
			t.Run(string(topology)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				rdb := redisproc.StartClient(t, topology)
				core, logs := observer.New(zap.InfoLevel)
				h := &scriptedHandler{failures: tc.failures, err: tc.err, done: make(chan struct{})}
				reg := prometheus.NewRegistry()
				metrics := NewMetrics(reg)
				w := NewServer(rdb, Config{Concurrency: 2, RetryBase: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond,
					PollInterval: 10 * time.Millisecond, ForwardInterval: 100 * time.Millisecond}, h, isPermanent, zap.New(core), metrics)
				if err := w.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(w.Shutdown)

				client := asynq.NewClientFromRedisClient(rdb)
				if _, err := client.Enqueue(asynq.NewTask(tc.jobType, []byte(`{"reportId":1}`)),
					asynq.TaskID("job-1"), asynq.Queue(domain.QueueReport), asynq.MaxRetry(4), asynq.Retention(time.Hour)); err != nil {
					t.Fatal(err)
				}
				ins := asynq.NewInspectorFromRedisClient(rdb)
				var info *asynq.TaskInfo
				deadline := time.Now().Add(40 * time.Second)
				for time.Now().Before(deadline) {
					var err error
					info, err = ins.GetTaskInfo(domain.QueueReport, "job-1")
					if err == nil && info.State == tc.wantState {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				if info == nil || info.State != tc.wantState {
					t.Fatalf("task = %+v, want state %v", info, tc.wantState)
				}
				h.mu.Lock()
				attempts := append([]bool(nil), h.attempts...)
				h.mu.Unlock()
				if len(attempts) != tc.wantAttempts {
					t.Fatalf("handler ran %d times, want %d", len(attempts), tc.wantAttempts)
				}
				if attempts[len(attempts)-1] != tc.wantFinal {
					t.Errorf("final flag of the last attempt = %v, want %v", attempts[len(attempts)-1], tc.wantFinal)
				}
				if tc.wantState == asynq.TaskStateArchived && info.LastErr == "" {
					t.Errorf("failed task has no last error")
				}
				if got := logs.FilterMessage("job started").Len(); got != tc.wantAttempts {
					t.Errorf("%d 'job started' lines, want %d", got, tc.wantAttempts)
				}
				failed := tc.wantAttempts
				if tc.wantState == asynq.TaskStateCompleted {
					failed--
					if logs.FilterMessage("job finished").Len() != 1 {
						t.Errorf("no 'job finished' line")
					}
				}
				if got := counterValue(t, metrics.failed, tc.jobType); int(got) != failed {
					t.Errorf("failed metric = %v, want %d", got, failed)
				}
				if got := counterValue(t, metrics.retried, tc.jobType); int(got) != tc.wantAttempts-1 {
					t.Errorf("retried metric = %v, want %d", got, tc.wantAttempts-1)
				}
				// asynq logs only warnings and errors, and of those only an
				// archived job's is expected: on a cluster, a script that
				// touched keys of two slots would show up here.
				complaints := logs.FilterField(zap.String("component", "asynq")).Filter(func(e observer.LoggedEntry) bool {
					return !strings.HasPrefix(e.Message, "Retry exhausted")
				}).All()
				if len(complaints) > 0 {
					t.Errorf("asynq complained %d times, first: %s", len(complaints), complaints[0].Message)
				}
			})
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	f := Backoff(time.Second, 10*time.Second)
	tests := []struct {
		n        int
		min, max time.Duration
	}{
		{0, time.Second, 1200 * time.Millisecond},
		{1, 2 * time.Second, 2400 * time.Millisecond},
		{2, 4 * time.Second, 4800 * time.Millisecond},
		{3, 8 * time.Second, 9600 * time.Millisecond},
		{4, 10 * time.Second, 12 * time.Second},
		{40, 10 * time.Second, 12 * time.Second},
	}
	for _, tc := range tests {
		for i := 0; i < 20; i++ {
			if d := f(tc.n, nil, nil); d < tc.min || d > tc.max {
				t.Errorf("Backoff(%d) = %v, want within [%v, %v]", tc.n, d, tc.min, tc.max)
			}
		}
	}
}

func counterValue(t *testing.T, v *prometheus.CounterVec, label string) float64 {
	t.Helper()
	var m dto.Metric
	if err := v.WithLabelValues(label).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestLaneConcurrency checks how the concurrency is split between lanes:
// a lane per 16 jobs, at least one, at most eight, and no job lost.
func TestLaneConcurrency(t *testing.T) {
	for _, tc := range []struct {
		concurrency int
		want        []int
	}{
		{1, []int{1}},
		{10, []int{10}},
		{16, []int{16}},
		{40, []int{20, 20}},
		{50, []int{17, 17, 16}},
		{128, []int{16, 16, 16, 16, 16, 16, 16, 16}},
		{1000, []int{125, 125, 125, 125, 125, 125, 125, 125}},
	} {
		if got := laneConcurrency(tc.concurrency); !slices.Equal(got, tc.want) {
			t.Errorf("laneConcurrency(%d) = %v, want %v", tc.concurrency, got, tc.want)
		}
	}
}
