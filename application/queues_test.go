package application_test

import (
	"context"
	"testing"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// inspector answers from fixed data and records what it was asked.
type inspector struct {
	counts  []application.QueueCounts
	failed  map[string][]application.FailedJob
	limit   int
	retried []string
}

func (i *inspector) Counts(context.Context) ([]application.QueueCounts, error) { return i.counts, nil }

func (i *inspector) Failed(_ context.Context, queue string, limit int) ([]application.FailedJob, error) {
	i.limit = limit
	jobs, ok := i.failed[queue]
	if !ok {
		return nil, domain.NotFound("queue %q not found", queue)
	}
	return jobs, nil
}

func (i *inspector) Retry(_ context.Context, queue, id string) error {
	for _, j := range i.failed[queue] {
		if j.ID == id {
			i.retried = append(i.retried, queue+"/"+id)
			return nil
		}
	}
	return domain.NotFound("job %q not found", id)
}

func TestQueueAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	in := &inspector{
		counts: []application.QueueCounts{{Queue: domain.QueueReport, Pending: 2, Archived: 1}},
		failed: map[string][]application.FailedJob{domain.QueueReport: {{ID: "report-7", Type: domain.JobGenerateReport, LastError: "boom"}}},
	}
	admin := application.NewQueueAdmin(in)
	counts, err := admin.Counts(ctx)
	if err != nil || len(counts) != 1 || counts[0].Pending != 2 || counts[0].Archived != 1 {
		t.Fatalf("Counts = %+v, %v", counts, err)
	}
	failed, err := admin.Failed(ctx, domain.QueueReport)
	if err != nil || len(failed) != 1 || failed[0].ID != "report-7" || in.limit != application.MaxFailedListed {
		t.Fatalf("Failed = %+v, %v (limit %d); want report-7 with limit %d", failed, err, in.limit, application.MaxFailedListed)
	}
	_, err = admin.Failed(ctx, "nope")
	wantKind(t, "Failed of an unknown queue", err, domain.KindNotFound)
	if err := admin.Retry(ctx, domain.QueueReport, "report-7"); err != nil || len(in.retried) != 1 {
		t.Fatalf("Retry = %v, retried %v", err, in.retried)
	}
	wantKind(t, "Retry of an unknown job", admin.Retry(ctx, domain.QueueReport, "report-8"), domain.KindNotFound)
}
