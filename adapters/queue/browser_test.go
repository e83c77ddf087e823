package queue

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/redisproc"
)

// TestBrowserBulkActions checks that a bulk action reaches the set it
// names, and only the retry and archived sets take one.
func TestBrowserBulkActions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redisproc.StartClient(t, redisproc.Standalone)
	raw := asynq.NewInspectorFromRedisClient(rdb)
	b := NewBrowser(rdb, nil, domain.QueueReport)
	count := func(state application.JobState) int {
		t.Helper()
		jobs, err := b.Jobs(ctx, domain.QueueReport, state, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(jobs)
	}
	tests := []struct {
		name        string
		action      func(context.Context, string, application.JobState) (int, error)
		wantPending int // after the archived set's two jobs were acted on
	}{
		{"RunAll", b.RunAll, 2},
		{"DeleteAll", b.DeleteAll, 0},
	}
	for _, tc := range tests {
		redisproc.Flush(t, rdb)
		for _, id := range []string{"report-1", "report-2"} {
			if err := NewClient(rdb, Options{}).Enqueue(ctx, job(id, domain.JobGenerateReport)); err != nil {
				t.Fatal(err)
			}
			if err := raw.ArchiveTask(domain.QueueReport, id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tc.action(ctx, domain.QueueReport, application.JobPending); domain.KindOf(err) != domain.KindInvalid {
			t.Errorf("%s(pending) = %v, want invalid", tc.name, err)
		}
		if n, err := tc.action(ctx, domain.QueueReport, application.JobRetry); n != 0 || err != nil {
			t.Errorf("%s(retry) with none retrying = %d, %v; want 0", tc.name, n, err)
		}
		if n, err := tc.action(ctx, domain.QueueReport, application.JobArchived); n != 2 || err != nil {
			t.Errorf("%s(archived) = %d, %v; want 2", tc.name, n, err)
		}
		if archived, pending := count(application.JobArchived), count(application.JobPending); archived != 0 || pending != tc.wantPending {
			t.Errorf("after %s(archived): %d archived, %d pending; want 0, %d", tc.name, archived, pending, tc.wantPending)
		}
	}
}
