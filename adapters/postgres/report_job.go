package postgres

// The statements of a report's job: starting an attempt, computing the
// summary, completing the report (the three in one statement when nothing
// runs between them) and recording a failure. report.go has the rows.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/etalase/etalase/domain"
)

// Start marks report id running and counts the attempt, unless it is
// completed: then it is returned unchanged.
func (r *ReportRepo) Start(ctx context.Context, id int64) (domain.Report, error) {
	const q = `UPDATE reports
		SET status = 'running', attempts = attempts + 1, started_at = now(), finished_at = NULL,
			updated_at = now()
		WHERE id = $1 AND status <> 'completed'
		RETURNING ` + reportColumns
	rep, err := r.queryReport(ctx, q, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return r.Get(ctx, id)
	}
	if err != nil {
		return domain.Report{}, mapError("postgres: start report", err)
	}
	return rep, nil
}

// reportSummary selects the summary of product $1 a report stores, as one
// row (none when the product does not exist): its stock value, its price
// rank within its category (1 = most expensive, ties share a rank: 1 + how
// many cost more), and the size and stock value of that category. Sums are
// numeric. The category's figures are one aggregate over an index-only
// scan of products_category_price_stock_idx (migration 00005), which holds
// every column they need, rather than a window over the category's rows.
var reportSummary = summaryOf("$1")

// summaryOf is reportSummary of the product whose id is the SQL expression
// productID (a parameter, or a column of a batch's jobs).
func summaryOf(productID string) string {
	return `SELECT t.id, t.sku, t.name, t.category_id, c.name AS category_name, t.price_cents, t.stock,
			t.price_cents::numeric * t.stock AS stock_value, a.price_rank, a.category_size, a.category_value
		FROM products t
		JOIN categories c ON c.id = t.category_id
		CROSS JOIN LATERAL (
			SELECT count(*) FILTER (WHERE p.price_cents > t.price_cents) + 1 AS price_rank,
				count(*) AS category_size,
				sum(p.price_cents::numeric * p.stock) AS category_value
			FROM products p
			WHERE p.category_id = t.category_id
		) a
		WHERE t.id = ` + productID
}

// resultDocument is the stored result built in SQL from a summary row s,
// with the keys of reportResultRow.
const resultDocument = `jsonb_build_object(
					'productId', s.id, 'sku', s.sku, 'name', s.name,
					'categoryId', s.category_id, 'categoryName', s.category_name,
					'priceCents', s.price_cents, 'stock', s.stock,
					'stockValueCents', s.stock_value::bigint, 'priceRank', s.price_rank,
					'categorySize', s.category_size, 'categoryValueCents', s.category_value::bigint,
					'computedAt', now())`

// Compute summarizes product productID as it is now, in one statement: its
// stock value, its price rank within its category (1 = most expensive, ties
// share a rank), and the size and stock value of that category. Sums are
// numeric in SQL; a total beyond what a Price holds is an error.
func (r *ReportRepo) Compute(ctx context.Context, productID int64) (domain.ReportResult, error) {
	q := `SELECT s.id, s.sku, s.name, s.category_id, s.category_name, s.price_cents, s.stock,
			s.stock_value, s.price_rank, s.category_size, s.category_value, now()
		FROM (` + reportSummary + `) s`
	var (
		res                       reportResultRow
		stockValue, categoryValue pgtype.Numeric
		priceRank, categorySize   int64
	)
	err := r.db.QueryRow(ctx, q, productID).Scan(&res.ProductID, &res.SKU, &res.Name, &res.CategoryID,
		&res.CategoryName, &res.PriceCents, &res.Stock, &stockValue, &priceRank, &categorySize,
		&categoryValue, &res.ComputedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.ReportResult{}, domain.NotFound("product %d does not exist", productID)
	}
	if err != nil {
		return domain.ReportResult{}, mapError("postgres: compute report", err)
	}
	if res.StockValueCents, err = cents(stockValue); err != nil {
		return domain.ReportResult{}, fmt.Errorf("postgres: compute report of product %d: stock value: %w", productID, err)
	}
	if res.CategoryValueCents, err = cents(categoryValue); err != nil {
		return domain.ReportResult{}, fmt.Errorf("postgres: compute report of product %d: category value: %w", productID, err)
	}
	res.PriceRank, res.CategorySize = int(priceRank), int(categorySize)
	return res.toDomain(), nil
}

// cents converts an integral numeric to cents, failing when it exceeds the
// range of int64.
func cents(n pgtype.Numeric) (int64, error) {
	v, err := n.Int64Value()
	if err != nil || !v.Valid {
		return 0, errors.New("the amount exceeds the range of a price")
	}
	return v.Int64, nil
}

// Complete stores the result of report id and marks it completed, once: a
// completed report is returned unchanged.
func (r *ReportRepo) Complete(ctx context.Context, id int64, res domain.ReportResult) (domain.Report, error) {
	const q = `UPDATE reports
		SET status = 'completed', result = $2, error = NULL, finished_at = now(), updated_at = now()
		WHERE id = $1 AND status <> 'completed'
		RETURNING ` + reportColumns
	doc, err := json.Marshal(reportResultFromDomain(res))
	if err != nil {
		return domain.Report{}, fmt.Errorf("postgres: encode result of report %d: %w", id, err)
	}
	rep, err := r.queryReport(ctx, q, id, doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return r.Get(ctx, id)
	}
	if err != nil {
		return domain.Report{}, mapError("postgres: complete report", err)
	}
	return rep, nil
}

// finishReport is the statement of Finish and Run: it computes the summary
// of product $1 and stores it on report $2 unless that is completed; the
// set list %s is what else changes (Run counts the attempt there). It
// returns whether the product exists and the updated report, all NULL when
// none was updated.
var finishReport = `WITH s AS (` + reportSummary + `),
		u AS (
			UPDATE reports
			SET status = 'completed', error = NULL, finished_at = now(), updated_at = now(),%s
				result = ` + resultDocument + `
			FROM s
			WHERE reports.id = $2 AND reports.status <> 'completed'
			RETURNING reports.*)
		SELECT EXISTS (SELECT 1 FROM s), u.id, u.product_id, u.status, u.requested_by, u.request_id, u.attempts,
			u.error, u.created_at, u.started_at, u.finished_at, u.result
		FROM (SELECT 1) one LEFT JOIN u ON true`

var (
	finishQuery = fmt.Sprintf(finishReport, "")
	runQuery    = fmt.Sprintf(finishReport, "\n\t\t\t\tattempts = reports.attempts + 1, started_at = now(),")
)

// Finish computes the result of report id from product productID and
// stores it, in one statement: Compute then Complete without the round trip
// between them. The document is built in SQL with the keys of
// reportResultRow. A missing product is a KindNotFound error; a completed
// report is returned unchanged; a total beyond what a Price holds is an
// error, as in Compute. Concurrent calls outside a transaction share a
// statement (report_batch.go).
func (r *ReportRepo) Finish(ctx context.Context, id, productID int64) (domain.Report, error) {
	return r.finish(ctx, finishCall{reportID: id, productID: productID})
}

// Run is Start and Finish in one statement, for a job with no work between
// them: it counts the attempt, computes the result and completes report id.
// A completed report is returned unchanged; on any error nothing changed.
// Concurrent calls outside a transaction share a statement.
func (r *ReportRepo) Run(ctx context.Context, id, productID int64) (domain.Report, error) {
	return r.finish(ctx, finishCall{reportID: id, productID: productID, counts: true})
}

// finishCall is one Finish or Run: counts says it counts an attempt (Run).
type finishCall struct {
	reportID, productID int64
	counts              bool
}

// finished is what finishReport answers for one report: whether the
// product exists, and the report as updated (ID nil when none was).
type finished struct {
	found bool
	id    *int64
	row   reportRow
	pid   *int64
	st    *string
	by    *string
	att   *int
	cat   *time.Time
}

func (f *finished) dest() []any {
	return []any{&f.found, &f.id, &f.pid, &f.st, &f.by, &f.row.RequestID, &f.att, &f.row.Error,
		&f.cat, &f.row.StartedAt, &f.row.FinishedAt, &f.row.Result}
}

func (r *ReportRepo) finish(ctx context.Context, c finishCall) (domain.Report, error) {
	var (
		f   finished
		err error
	)
	if r.batches != nil {
		f, err = r.batches.do(ctx, c)
	} else {
		f, err = finishAlone(ctx, r.db, c)
	}
	switch {
	case err != nil:
		return domain.Report{}, err
	case !f.found:
		return domain.Report{}, domain.NotFound("product %d does not exist", c.productID)
	case f.id == nil:
		return r.Get(ctx, c.reportID)
	}
	f.row.ID, f.row.ProductID, f.row.Status, f.row.RequestedBy, f.row.Attempts, f.row.CreatedAt = *f.id, *f.pid, *f.st, *f.by, *f.att, *f.cat
	return f.row.toDomain()
}

// finishAlone runs the statement of one Finish or Run.
func finishAlone(ctx context.Context, db querier, c finishCall) (finished, error) {
	q := finishQuery
	if c.counts {
		q = runQuery
	}
	var f finished
	err := db.QueryRow(ctx, q, c.productID, c.reportID).Scan(f.dest()...)
	return f, finishError(err, c.productID)
}

// finishError maps the error of a finishing statement.
func finishError(err error, productID int64) error {
	switch {
	case err == nil:
		return nil
	case isCode(err, codeNumericOutOfRange):
		return fmt.Errorf("postgres: compute report of product %d: the amount exceeds the range of a price", productID)
	default:
		return mapError("postgres: finish report", err)
	}
}

// Fail records reason as the last error of report id; final marks it
// failed for good. A completed report is left as it is.
func (r *ReportRepo) Fail(ctx context.Context, id int64, reason string, final bool) error {
	const q = `UPDATE reports
		SET error = $2,
			status = CASE WHEN $3 THEN 'failed' ELSE status END,
			finished_at = CASE WHEN $3 THEN now() ELSE finished_at END,
			updated_at = now()
		WHERE id = $1 AND status <> 'completed'`
	tag, err := r.db.Exec(ctx, q, id, reason, final)
	if err != nil {
		return mapError("postgres: fail report", err)
	}
	if tag.RowsAffected() == 0 {
		_, err := r.Get(ctx, id)
		return err
	}
	return nil
}
