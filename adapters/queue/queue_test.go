package queue

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/redisproc"
)

func job(id, typ string) domain.Job {
	return domain.Job{ID: id, Type: typ, Queue: domain.QueueReport, Payload: []byte(`{"reportId":1}`)}
}

func TestEnqueueKeepsOneCopyPerID(t *testing.T) {
	t.Parallel()
	redisproc.RunOnEach(t, enqueueKeepsOneCopyPerID)
}

func enqueueKeepsOneCopyPerID(t *testing.T, rdb redis.UniversalClient) {
	c := NewClient(rdb, Options{})
	ctx := context.Background()
	for _, j := range []domain.Job{job("report-1", domain.JobGenerateReport), job("report-1", domain.JobGenerateReport), job("report-2", domain.JobGenerateReport)} {
		if err := c.Enqueue(ctx, j); err != nil {
			t.Fatalf("Enqueue(%s): %v", j.ID, err)
		}
	}
	ins := asynq.NewInspectorFromRedisClient(rdb)
	tasks, err := ins.ListPendingTasks(domain.QueueReport)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 2 {
		t.Fatalf("pending = %d tasks, want 2", len(tasks))
	}
	info, err := ins.GetTaskInfo(domain.QueueReport, "report-1")
	if err != nil {
		t.Fatal(err)
	}
	if info.MaxRetry != DefaultMaxRetry || info.Retention != DefaultRetention || info.Type != domain.JobGenerateReport {
		t.Errorf("task = max retry %d, retention %v, type %s", info.MaxRetry, info.Retention, info.Type)
	}
}

func TestEnqueueUnreachable(t *testing.T) {
	t.Parallel()
	srv := redisproc.Start(t)
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{srv.Addr()}, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	srv.Kill()
	err := NewClient(rdb, Options{EnqueueTimeout: time.Second}).Enqueue(context.Background(), job("report-1", domain.JobGenerateReport))
	if domain.KindOf(err) != domain.KindUnavailable {
		t.Fatalf("err = %v, want unavailable", err)
	}
}

func TestInspector(t *testing.T) {
	t.Parallel()
	redisproc.RunOnEach(t, inspector)
}

func inspector(t *testing.T, rdb redis.UniversalClient) {
	ctx := context.Background()
	c := NewClient(rdb, Options{})
	for _, id := range []string{"report-1", "report-2", "report-3"} {
		if err := c.Enqueue(ctx, job(id, domain.JobGenerateReport)); err != nil {
			t.Fatal(err)
		}
	}
	raw := asynq.NewInspectorFromRedisClient(rdb)
	if err := raw.ArchiveTask(domain.QueueReport, "report-2"); err != nil {
		t.Fatal(err)
	}
	ins := NewInspector(rdb, domain.QueueReport, "other")

	counts, err := ins.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 2 || counts[0].Queue != "report" || counts[0].Pending != 2 || counts[0].Archived != 1 || counts[1].Queue != "other" {
		t.Fatalf("counts = %+v", counts)
	}

	failed, err := ins.Failed(ctx, domain.QueueReport, 10)
	if err != nil || len(failed) != 1 || failed[0].ID != "report-2" || failed[0].Type != domain.JobGenerateReport {
		t.Fatalf("failed = %+v, %v", failed, err)
	}

	tests := []struct {
		name, queue, id string
		want            domain.Kind
		ok              bool
	}{
		{"failed job", domain.QueueReport, "report-2", 0, true},
		{"pending job", domain.QueueReport, "report-1", domain.KindConflict, false},
		{"unknown job", domain.QueueReport, "report-9", domain.KindNotFound, false},
		{"unknown queue", "nope", "report-1", domain.KindNotFound, false},
	}
	for _, tc := range tests {
		err := ins.Retry(ctx, tc.queue, tc.id)
		if tc.ok && err != nil || !tc.ok && domain.KindOf(err) != tc.want {
			t.Errorf("%s: Retry = %v, want ok %v kind %v", tc.name, err, tc.ok, tc.want)
		}
	}
	info, err := raw.GetTaskInfo(domain.QueueReport, "report-2")
	if err != nil || info.State != asynq.TaskStatePending {
		t.Errorf("retried job state = %v, %v; want pending", info, err)
	}
	if _, err := ins.Failed(ctx, "nope", 10); domain.KindOf(err) != domain.KindNotFound {
		t.Errorf("Failed(unknown queue) = %v, want not found", err)
	}
}
