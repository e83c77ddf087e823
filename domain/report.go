package domain

import (
	"strings"
	"time"
)

// ReportStatus is where a report is in its life.
type ReportStatus string

// A report is queued when requested, running while a worker holds it, and
// ends completed or failed (after the last attempt).
const (
	ReportQueued    ReportStatus = "queued"
	ReportRunning   ReportStatus = "running"
	ReportCompleted ReportStatus = "completed"
	ReportFailed    ReportStatus = "failed"
)

// Report is the visible record of one generate-report job. PostgreSQL holds
// it; the queue only carries the job.
type Report struct {
	ID          int64
	ProductID   int64
	Status      ReportStatus
	RequestedBy string
	// RequestID is the id of the request that asked for the report (the
	// product's creation or a report request), "" when none was known.
	RequestID  string
	Attempts   int
	Error      *string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	Result     *ReportResult
}

// ReportQuery filters and pages a list of reports, newest first.
type ReportQuery struct {
	Status   ReportStatus // "" lists every status
	BeforeID int64        // 0 starts at the newest; else only ids below it
	Limit    int          // 1 to MaxPageSize
}

// ReportResult is the summary of a product that a report job computes.
type ReportResult struct {
	ProductID     int64
	SKU           *string
	Name          string
	CategoryID    int64
	CategoryName  string
	Price         Price
	Stock         int64
	StockValue    Price // price × stock
	PriceRank     int   // 1 = the most expensive product of its category
	CategorySize  int   // products in the category
	CategoryValue Price // stock value of the whole category
	ComputedAt    time.Time
}

// The job types the worker knows.
const (
	JobGenerateReport = "generate-report"
	QueueReport       = "report"
)

// Job is a unit of background work on its way to a queue. ID is unique per
// piece of work, so enqueueing the same job twice runs it once.
type Job struct {
	ID      string
	Type    string
	Queue   string
	Payload []byte
}

// QueueTaskID is the id a job has in a queue shared by several databases:
// "<namespace>:<job id>", where the namespace is the identity of the
// database the job belongs to (CacheEpoch.Identity). An empty namespace
// leaves the id as it is.
func QueueTaskID(namespace, jobID string) string {
	if namespace == "" {
		return jobID
	}
	return namespace + ":" + jobID
}

// TaskNamespace returns the namespace of a queue task id, "" for an id
// without one.
func TaskNamespace(taskID string) string {
	ns, _, found := strings.Cut(taskID, ":")
	if !found {
		return ""
	}
	return ns
}
