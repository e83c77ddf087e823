package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

var _ domain.ReportRepository = reports{}

// reports is the ReportRepository of a Store.
type reports struct{ s *Store }

// Create records a queued report and adds its job to the outbox, as the
// PostgreSQL report row, which is its own outbox row, does.
func (r reports) Create(ctx context.Context, productID int64, requestedBy, requestID string) (domain.Report, error) {
	var rep domain.Report
	err := r.s.do(ctx, func(st *state) error {
		if _, ok := st.products[productID]; !ok {
			return domain.NotFound("product %d not found", productID)
		}
		st.lastReport++
		rep = domain.Report{ID: st.lastReport, ProductID: productID, Status: domain.ReportQueued,
			RequestedBy: requestedBy, RequestID: requestID, CreatedAt: r.s.now()}
		st.reports[rep.ID] = rep
		st.lastOutbox++
		st.outbox = append(st.outbox, outboxRow{id: st.lastOutbox, job: application.ReportJob(rep), createdAt: rep.CreatedAt})
		return nil
	})
	return rep, err
}

func (r reports) Get(ctx context.Context, id int64) (domain.Report, error) {
	var rep domain.Report
	err := r.s.do(ctx, func(st *state) error {
		var err error
		rep, err = st.report(id)
		return err
	})
	return rep, err
}

func (st *state) report(id int64) (domain.Report, error) {
	rep, ok := st.reports[id]
	if !ok {
		return domain.Report{}, domain.NotFound("report %d not found", id)
	}
	return rep, nil
}

// ListByProduct returns the product's reports, newest first.
func (r reports) ListByProduct(ctx context.Context, productID int64) ([]domain.Report, error) {
	out := []domain.Report{}
	err := r.s.do(ctx, func(st *state) error {
		for _, rep := range st.reports {
			if rep.ProductID == productID {
				out = append(out, rep)
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b domain.Report) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out, err
}

// Start marks the report running and counts the attempt; a completed
// report comes back unchanged.
func (r reports) Start(ctx context.Context, id int64) (domain.Report, error) {
	return r.change(ctx, id, func(rep *domain.Report) {
		t := r.s.now()
		rep.Status = domain.ReportRunning
		rep.Attempts++
		rep.StartedAt = &t
		rep.FinishedAt = nil
	})
}

// Compute summarizes the product: its stock value, its price rank within
// its category (1 = the most expensive; equal prices share a rank) and the
// category's size and stock value.
func (r reports) Compute(ctx context.Context, productID int64) (domain.ReportResult, error) {
	var res domain.ReportResult
	err := r.s.do(ctx, func(st *state) error {
		p, err := st.product(productID)
		if err != nil {
			return err
		}
		res = domain.ReportResult{
			ProductID:    p.ID,
			SKU:          clonePtr(p.SKU),
			Name:         p.Name,
			CategoryID:   p.CategoryID,
			CategoryName: p.CategoryName,
			Price:        p.Price,
			Stock:        p.Stock,
			StockValue:   p.Price * domain.Price(p.Stock),
			PriceRank:    1,
			ComputedAt:   r.s.now(),
		}
		for _, o := range st.products {
			if o.CategoryID != p.CategoryID {
				continue
			}
			res.CategorySize++
			res.CategoryValue += o.Price * domain.Price(o.Stock)
			if o.Price > p.Price {
				res.PriceRank++
			}
		}
		return nil
	})
	return res, err
}

// Complete stores the result of a report that is not yet completed; a
// completed report comes back unchanged.
func (r reports) Complete(ctx context.Context, id int64, res domain.ReportResult) (domain.Report, error) {
	return r.change(ctx, id, func(rep *domain.Report) {
		t := r.s.now()
		res.SKU = clonePtr(res.SKU)
		rep.Status = domain.ReportCompleted
		rep.Result = &res
		rep.Error = nil
		rep.FinishedAt = &t
	})
}

// Fail records the reason of a failed attempt. A final failure marks the
// report failed; otherwise it keeps its status and stays retryable. A
// completed report is left alone.
func (r reports) Fail(ctx context.Context, id int64, reason string, final bool) error {
	_, err := r.change(ctx, id, func(rep *domain.Report) {
		rep.Error = &reason
		if final {
			t := r.s.now()
			rep.Status = domain.ReportFailed
			rep.FinishedAt = &t
		}
	})
	return err
}

// change applies step to the report and stores it, unless the report is
// completed: a completed report is final and comes back unchanged.
func (r reports) change(ctx context.Context, id int64, step func(rep *domain.Report)) (domain.Report, error) {
	var rep domain.Report
	err := r.s.do(ctx, func(st *state) error {
		var err error
		if rep, err = st.report(id); err != nil || rep.Status == domain.ReportCompleted {
			return err
		}
		step(&rep)
		st.reports[id] = rep
		return nil
	})
	return rep, err
}

// Stale lists reports queued since before the deadline, or running since
// before it, oldest first.
func (r reports) Stale(ctx context.Context, before time.Time, limit int) ([]domain.Report, error) {
	out := []domain.Report{}
	err := r.s.do(ctx, func(st *state) error {
		for _, rep := range st.reports {
			switch {
			case rep.Status == domain.ReportQueued && rep.CreatedAt.Before(before),
				rep.Status == domain.ReportRunning && rep.StartedAt != nil && rep.StartedAt.Before(before):
				out = append(out, rep)
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b domain.Report) int { return cmp.Compare(a.ID, b.ID) })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// List returns reports newest first, filtered by q.
func (r reports) List(ctx context.Context, q domain.ReportQuery) ([]domain.Report, error) {
	out := []domain.Report{}
	err := r.s.do(ctx, func(st *state) error {
		for _, rep := range st.reports {
			if (q.Status == "" || rep.Status == q.Status) && (q.BeforeID <= 0 || rep.ID < q.BeforeID) {
				out = append(out, rep)
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b domain.Report) int { return cmp.Compare(b.ID, a.ID) })
	if len(out) > q.Limit {
		out = out[:max(q.Limit, 0)]
	}
	return out, err
}
