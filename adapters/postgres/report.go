package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/domain"
)

// ReportRepo stores reports in table reports and computes their results
// from products and categories.
type ReportRepo struct {
	db     querier
	queued func() // wakes the relays once a new report commits
	// batches shares the jobs' finishing statements outside a transaction;
	// nil inside one, whose statements must run on its connection.
	batches *batcher[finishCall, finished]
}

var (
	_ domain.ReportRepository = (*ReportRepo)(nil)
	_ domain.ReportFinisher   = (*ReportRepo)(nil)
)

// reportColumns is the select list reportRow scans.
const reportColumns = `id, product_id, status, requested_by, request_id, attempts, error,
	created_at, started_at, finished_at, result`

// reportRow is a row of reports; Result is the jsonb document of a
// reportResultRow, nil until the report completes.
type reportRow struct {
	ID          int64
	ProductID   int64
	Status      string
	RequestedBy string
	RequestID   *string
	Attempts    int
	Error       *string
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	Result      []byte
}

// reportResultRow is the stored form of a ReportResult, column result.
type reportResultRow struct {
	ProductID          int64     `json:"productId"`
	SKU                *string   `json:"sku"`
	Name               string    `json:"name"`
	CategoryID         int64     `json:"categoryId"`
	CategoryName       string    `json:"categoryName"`
	PriceCents         int64     `json:"priceCents"`
	Stock              int64     `json:"stock"`
	StockValueCents    int64     `json:"stockValueCents"`
	PriceRank          int       `json:"priceRank"`
	CategorySize       int       `json:"categorySize"`
	CategoryValueCents int64     `json:"categoryValueCents"`
	ComputedAt         time.Time `json:"computedAt"`
}

func scanReport(row pgx.Row) (reportRow, error) {
	var r reportRow
	err := row.Scan(r.dest()...)
	return r, err
}

// dest is where a row of reportColumns scans to.
func (r *reportRow) dest() []any {
	return []any{&r.ID, &r.ProductID, &r.Status, &r.RequestedBy, &r.RequestID, &r.Attempts, &r.Error,
		&r.CreatedAt, &r.StartedAt, &r.FinishedAt, &r.Result}
}

func (r reportRow) toDomain() (domain.Report, error) {
	rep := domain.Report{
		RequestID:   deref(r.RequestID),
		ID:          r.ID,
		ProductID:   r.ProductID,
		Status:      domain.ReportStatus(r.Status),
		RequestedBy: r.RequestedBy,
		Attempts:    r.Attempts,
		Error:       r.Error,
		CreatedAt:   r.CreatedAt.UTC(),
		StartedAt:   utcPtr(r.StartedAt),
		FinishedAt:  utcPtr(r.FinishedAt),
	}
	if r.Result != nil {
		var res reportResultRow
		if err := json.Unmarshal(r.Result, &res); err != nil {
			return domain.Report{}, fmt.Errorf("postgres: decode result of report %d: %w", r.ID, err)
		}
		d := res.toDomain()
		rep.Result = &d
	}
	return rep, nil
}

func (r reportResultRow) toDomain() domain.ReportResult {
	return domain.ReportResult{
		ProductID:     r.ProductID,
		SKU:           r.SKU,
		Name:          r.Name,
		CategoryID:    r.CategoryID,
		CategoryName:  r.CategoryName,
		Price:         domain.Price(r.PriceCents),
		Stock:         r.Stock,
		StockValue:    domain.Price(r.StockValueCents),
		PriceRank:     r.PriceRank,
		CategorySize:  r.CategorySize,
		CategoryValue: domain.Price(r.CategoryValueCents),
		ComputedAt:    r.ComputedAt.UTC(),
	}
}

func reportResultFromDomain(r domain.ReportResult) reportResultRow {
	return reportResultRow{
		ProductID:          r.ProductID,
		SKU:                r.SKU,
		Name:               r.Name,
		CategoryID:         r.CategoryID,
		CategoryName:       r.CategoryName,
		PriceCents:         int64(r.Price),
		Stock:              r.Stock,
		StockValueCents:    int64(r.StockValue),
		PriceRank:          r.PriceRank,
		CategorySize:       r.CategorySize,
		CategoryValueCents: int64(r.CategoryValue),
		ComputedAt:         r.ComputedAt.UTC(),
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// queryReport runs a statement returning at most one report row; no row is
// reported as pgx.ErrNoRows.
func (r *ReportRepo) queryReport(ctx context.Context, sql string, args ...any) (domain.Report, error) {
	row, err := scanReport(r.db.QueryRow(ctx, sql, args...))
	if err != nil {
		return domain.Report{}, err
	}
	return row.toDomain()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Create records a queued report of product productID. The row is its own
// outbox row: relayed_at stays NULL until a relay has sent its job.
func (r *ReportRepo) Create(ctx context.Context, productID int64, requestedBy, requestID string) (domain.Report, error) {
	const q = `INSERT INTO reports (product_id, requested_by, request_id) VALUES ($1, $2, nullif($3, ''))
		RETURNING ` + reportColumns
	rep, err := r.queryReport(ctx, q, productID, requestedBy, requestID)
	if isCode(err, codeForeignKeyViolation) {
		e := domain.NotFound("product %d does not exist", productID)
		e.Err = err
		return domain.Report{}, e
	}
	if err != nil {
		return domain.Report{}, mapError("postgres: create report", err)
	}
	r.queued()
	return rep, nil
}

// Get returns report id.
func (r *ReportRepo) Get(ctx context.Context, id int64) (domain.Report, error) {
	const q = `SELECT ` + reportColumns + ` FROM reports WHERE id = $1`
	rep, err := r.queryReport(ctx, q, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Report{}, domain.NotFound("report %d does not exist", id)
	}
	if err != nil {
		return domain.Report{}, mapError("postgres: get report", err)
	}
	return rep, nil
}

// ListByProduct returns the reports of product productID, newest first.
func (r *ReportRepo) ListByProduct(ctx context.Context, productID int64) ([]domain.Report, error) {
	const q = `SELECT ` + reportColumns + ` FROM reports WHERE product_id = $1 ORDER BY id DESC`
	return r.list(ctx, "postgres: list reports", q, productID)
}

// Stale lists reports queued or running whose last change is older than
// before, oldest first.
func (r *ReportRepo) Stale(ctx context.Context, before time.Time, limit int) ([]domain.Report, error) {
	const q = `SELECT ` + reportColumns + ` FROM reports
		WHERE status IN ('queued', 'running') AND updated_at < $1
		ORDER BY updated_at, id
		LIMIT $2`
	return r.list(ctx, "postgres: list stale reports", q, before, limit)
}

// List returns reports newest first, filtered by status and paged by id.
func (r *ReportRepo) List(ctx context.Context, q domain.ReportQuery) ([]domain.Report, error) {
	const sql = `SELECT ` + reportColumns + ` FROM reports
		WHERE ($1 = '' OR status = $1) AND ($2 <= 0 OR id < $2)
		ORDER BY id DESC
		LIMIT $3`
	return r.list(ctx, "postgres: list reports", sql, string(q.Status), q.BeforeID, q.Limit)
}

func (r *ReportRepo) list(ctx context.Context, op, sql string, args ...any) ([]domain.Report, error) {
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapError(op, err)
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (reportRow, error) { return scanReport(row) })
	if err != nil {
		return nil, mapError(op, err)
	}
	reports := make([]domain.Report, 0, len(found))
	for _, row := range found {
		rep, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		reports = append(reports, rep)
	}
	return reports, nil
}
