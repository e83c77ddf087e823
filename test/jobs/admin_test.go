package jobs

import (
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/etalase/etalase/test/apiclient"
)

// TestUnknownJobFailsAtOnce puts a job of a type no handler knows on the
// report queue of a running worker: it fails in its first attempt, lands in
// the failed set with its error, and the admin API lists and retries it.
func TestUnknownJobFailsAtOnce(t *testing.T) {
	t.Parallel()
	c := newCluster(t, nil)
	c.startAPI()
	c.startWorker(nil)
	rdb := redis.NewClient(&redis.Options{Addr: c.redis.Addr()})
	defer rdb.Close()
	client := asynq.NewClientFromRedisClient(rdb)
	if _, err := client.Enqueue(asynq.NewTask("send-email", []byte(`{"to":"x"}`)),
		asynq.TaskID("mystery-1"), asynq.Queue("report"), asynq.MaxRetry(4)); err != nil {
		t.Fatal(err)
	}
	admin := func(method, path string) (int, map[string]any) {
		r, err := c.api.Do(method, path, nil, apiclient.Bearer(rootSecret))
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = r.Decode(&body)
		return r.Status, body
	}
	deadline := time.Now().Add(20 * time.Second)
	var job map[string]any
	for job == nil {
		status, body := admin(http.MethodGet, "/admin/queues/report/failed")
		if status != http.StatusOK {
			t.Fatalf("GET failed jobs = %d %v", status, body)
		}
		if data, _ := body["data"].([]any); len(data) == 1 {
			job = data[0].(map[string]any)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unknown job never reached the failed set: %v", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if job["id"] != "mystery-1" || job["type"] != "send-email" || job["retried"] != 0.0 || job["lastError"] == "" {
		t.Errorf("failed job = %v; want mystery-1 failed in its first attempt with an error", job)
	}
	if status, body := admin(http.MethodPost, "/admin/queues/report/failed/mystery-1/retry"); status != http.StatusAccepted {
		t.Errorf("retry = %d %v", status, body)
	}
	if status, _ := admin(http.MethodPost, "/admin/queues/report/failed/nothing-here/retry"); status != http.StatusNotFound {
		t.Errorf("retry of an unknown job = %d, want 404", status)
	}
}
