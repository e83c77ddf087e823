package postgres_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// TestReportFinish checks that Finish stores what Compute then Complete
// would, and fails and no-ops in the same cases.
func TestReportFinish(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	repo, ok := s.Reports().(domain.ReportFinisher)
	if !ok {
		t.Fatal("the postgres report repository is not a ReportFinisher")
	}
	cat, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "finish"})
	if err != nil {
		t.Fatalf("create category: %v", err)
	}
	sku := "F-1"
	products := make([]domain.Product, 0, 3)
	for _, f := range []domain.ProductFields{
		{SKU: &sku, Name: "atlas", Price: 4500, Stock: 2, CategoryID: cat.ID},
		{Name: "globe", Price: 9900, Stock: 1, CategoryID: cat.ID},
		{Name: "map", Price: 4500, Stock: 10, CategoryID: cat.ID},
	} {
		p, err := s.Products().Create(ctx, f)
		if err != nil {
			t.Fatalf("create product: %v", err)
		}
		products = append(products, p)
	}
	started := func(p domain.Product) domain.Report {
		t.Helper()
		r, err := s.Reports().Create(ctx, p.ID, "admin", "")
		if err != nil {
			t.Fatalf("create report: %v", err)
		}
		if r, err = s.Reports().Start(ctx, r.ID); err != nil {
			t.Fatalf("start report: %v", err)
		}
		return r
	}

	for _, p := range products {
		want, err := s.Reports().Compute(ctx, p.ID)
		if err != nil {
			t.Fatalf("Compute(%d): %v", p.ID, err)
		}
		r := started(p)
		before := time.Now()
		got, err := repo.Finish(ctx, r.ID, p.ID)
		if err != nil {
			t.Fatalf("Finish(%d): %v", r.ID, err)
		}
		if got.Status != domain.ReportCompleted || got.Attempts != 1 || got.Error != nil ||
			got.FinishedAt == nil || got.Result == nil || got.StartedAt == nil || got.RequestedBy != "admin" ||
			got.ID != r.ID || got.ProductID != p.ID || !got.CreatedAt.Equal(r.CreatedAt) {
			t.Fatalf("finished report %+v, want completed with a result", got)
		}
		res := *got.Result
		if d := res.ComputedAt.Sub(before); d < -time.Second || d > 5*time.Second {
			t.Errorf("computedAt %s, want about %s", res.ComputedAt, before)
		}
		res.ComputedAt, want.ComputedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(res, want) {
			t.Errorf("Finish stored %+v, Compute gives %+v", res, want)
		}
		stored, err := s.Reports().Get(ctx, r.ID)
		if err != nil {
			t.Fatalf("Get(%d): %v", r.ID, err)
		}
		if !reflect.DeepEqual(stored, got) {
			t.Errorf("Get after Finish %+v, Finish returned %+v", stored, got)
		}
		again, err := repo.Finish(ctx, r.ID, p.ID)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("second Finish = %+v, %v; want the completed report unchanged", again, err)
		}
	}

	tests := []struct {
		name      string
		id, prod  func() int64
		wantKind  domain.Kind
		wantState domain.ReportStatus
	}{
		{"missing product", func() int64 { return started(products[0]).ID }, func() int64 { return 1 << 60 },
			domain.KindNotFound, domain.ReportRunning},
		{"missing report", func() int64 { return 1 << 60 }, func() int64 { return products[0].ID },
			domain.KindNotFound, ""},
	}
	for _, tc := range tests {
		id := tc.id()
		_, err := repo.Finish(ctx, id, tc.prod())
		if domain.KindOf(err) != tc.wantKind {
			t.Errorf("%s: Finish error %v, want kind %s", tc.name, err, tc.wantKind)
		}
		if tc.wantState == "" {
			continue
		}
		if r, err := s.Reports().Get(context.Background(), id); err != nil || r.Status != tc.wantState || r.Result != nil {
			t.Errorf("%s: report after Finish %+v, %v; want %s without a result", tc.name, r, err, tc.wantState)
		}
	}
}
