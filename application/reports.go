package application

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/etalase/etalase/domain"
)

// ReportPayload is the body of a generate-report job, as the seed tutorial's
// job carries it.
type ReportPayload struct {
	ProductID   int64  `json:"productId"`
	ReportID    int64  `json:"reportId"`
	RequestedBy string `json:"requestedBy"`
}

// ReportJob is the queue job that generates report r. Its ID derives from
// the report, so every path that enqueues it (outbox relay, sweeper, admin
// retry) names the same task and the queue keeps one copy.
func ReportJob(r domain.Report) domain.Job {
	payload, _ := json.Marshal(ReportPayload{ProductID: r.ProductID, ReportID: r.ID, RequestedBy: r.RequestedBy})
	return domain.Job{
		ID:      "report-" + strconv.FormatInt(r.ID, 10),
		Type:    domain.JobGenerateReport,
		Queue:   domain.QueueReport,
		Payload: payload,
	}
}

// requestReport records a queued report and its job in the outbox; run it
// inside the transaction that makes the reason for the report.
func requestReport(ctx context.Context, tx domain.Store, productID int64, requestedBy string) (domain.Report, error) {
	r, err := tx.Reports().Create(ctx, productID, requestedBy)
	if err != nil {
		return domain.Report{}, fmt.Errorf("request report: %w", err)
	}
	if err := tx.Outbox().Add(ctx, ReportJob(r)); err != nil {
		return domain.Report{}, fmt.Errorf("request report: %w", err)
	}
	return r, nil
}
