package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ReportState is what a database says about its products' reports. The
// outbox promises every product exactly one report from its creation.
type ReportState struct {
	Products, Reports int
	Completed         int     // reports completed with a result
	Unsent            int     // outbox jobs and reports not yet handed to the queue
	WithoutOne        []int64 // products with zero or several reports, at most 20
}

// ReadReports reads the ReportState of db.
func ReadReports(t testing.TB, db *pgxpool.Pool) ReportState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var s ReportState
	const counts = `SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM reports),
		(SELECT count(*) FROM reports WHERE status = 'completed' AND result IS NOT NULL),
		(SELECT count(*) FROM outbox WHERE sent_at IS NULL) + (SELECT count(*) FROM reports WHERE relayed_at IS NULL)`
	if err := db.QueryRow(ctx, counts).Scan(&s.Products, &s.Reports, &s.Completed, &s.Unsent); err != nil {
		t.Fatalf("pgtest: count reports: %v", err)
	}
	const odd = `SELECT p.id FROM products p LEFT JOIN reports r ON r.product_id = p.id
		GROUP BY p.id HAVING count(r.id) <> 1 ORDER BY p.id LIMIT 20`
	rows, err := db.Query(ctx, odd)
	if err != nil {
		t.Fatalf("pgtest: find products without exactly one report: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		s.WithoutOne = append(s.WithoutOne, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("pgtest: find products without exactly one report: %v", err)
	}
	return s
}

// WaitReportsCompleted waits until every product of db has exactly one
// report and every report is completed with a result; after timeout it
// fails the test with what it saw last.
func WaitReportsCompleted(t testing.TB, db *pgxpool.Pool, timeout time.Duration) ReportState {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := ReadReports(t, db)
		if len(s.WithoutOne) == 0 && s.Completed == s.Reports && s.Reports == s.Products {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d products, %d reports, %d completed, %d unsent outbox jobs; products without exactly one report: %v",
				timeout, s.Products, s.Reports, s.Completed, s.Unsent, s.WithoutOne)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
