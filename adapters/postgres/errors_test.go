package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// TestUnreachableIsUnavailable checks that a server nobody answers at, and
// a connection the server ends, are KindUnavailable errors (HTTP 503).
func TestUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pool, err := postgres.NewPool(ctx, "postgres://postgres@127.0.0.1:1/etalase?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	defer pool.Close()
	s := postgres.NewStore(pool)
	calls := []struct {
		name string
		call func() error
	}{
		{"ping", func() error { return s.Ping(ctx) }},
		{"get product", func() error { _, err := s.Products().Get(ctx, 1); return err }},
		{"list categories", func() error {
			_, err := s.Categories().List(ctx, domain.CategoryQuery{Limit: 10})
			return err
		}},
		{"transaction", func() error { return s.InTx(ctx, func(domain.Store) error { return nil }) }},
		{"relay", func() error {
			_, err := s.Outbox().Relay(ctx, 10, func(context.Context, domain.Job) error { return nil })
			return err
		}},
		{"migrate", func() error {
			return postgres.Migrate(ctx, "postgres://postgres@127.0.0.1:1/etalase?connect_timeout=2", postgres.MigrateStatus, &bytes.Buffer{})
		}},
	}
	for _, c := range calls {
		err := c.call()
		if k := domain.KindOf(err); k != domain.KindUnavailable {
			t.Errorf("%s: kind %v (%v), want unavailable", c.name, k, err)
		}
	}
}

// TestTerminatedConnectionIsUnavailable ends the server side of the pool's
// only connection (SQLSTATE 57P01 on its next use).
func TestTerminatedConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dsn := pgtest.NewDatabase(t)
	pool, err := postgres.NewPool(ctx, dsn+"&pool_max_conns=1")
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	defer pool.Close()
	var pid int32
	if err := pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatalf("backend pid: %v", err)
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatalf("terminate backend: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	_, err = postgres.NewStore(pool).Products().Get(ctx, 1)
	if k := domain.KindOf(err); k != domain.KindUnavailable {
		t.Fatalf("get on a terminated connection: kind %v (%v), want unavailable", k, err)
	}
	var de *domain.Error
	if errors.As(err, &de) && strings.Contains(de.Detail, "SELECT") {
		t.Errorf("detail leaks SQL: %q", de.Detail)
	}
}

// TestConstraintsMapToFields writes rows the domain would have refused, to
// check that the database's own checks name the same fields.
func TestConstraintsMapToFields(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	cat, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "books"})
	if err != nil {
		t.Fatalf("create category: %v", err)
	}
	empty := ""
	long := strings.Repeat("x", domain.MaxDescriptionLength+1)
	valid := domain.ProductFields{Name: "ok", Price: 100, Stock: 1, CategoryID: cat.ID}
	cases := []struct {
		name   string
		mutate func(*domain.ProductFields)
		kind   domain.Kind
		field  string
	}{
		{"price above max", func(f *domain.ProductFields) { f.Price = domain.MaxPrice + 1 }, domain.KindInvalid, "price"},
		{"negative price", func(f *domain.ProductFields) { f.Price = -1 }, domain.KindInvalid, "price"},
		{"negative stock", func(f *domain.ProductFields) { f.Stock = -1 }, domain.KindInvalid, "stock"},
		{"stock beyond int32", func(f *domain.ProductFields) { f.Stock = domain.MaxStock + 1 }, domain.KindInvalid, "stock"},
		{"empty name", func(f *domain.ProductFields) { f.Name = "" }, domain.KindInvalid, "name"},
		{"empty sku", func(f *domain.ProductFields) { f.SKU = &empty }, domain.KindInvalid, "sku"},
		{"long description", func(f *domain.ProductFields) { f.Description = &long }, domain.KindInvalid, "description"},
		{"unknown category", func(f *domain.ProductFields) { f.CategoryID = cat.ID + 1000 }, domain.KindInvalid, "categoryId"},
	}
	for _, c := range cases {
		f := valid
		c.mutate(&f)
		_, err := s.Products().Create(ctx, f)
		var de *domain.Error
		if !errors.As(err, &de) || de.Kind != c.kind {
			t.Errorf("%s: error %v, want kind %v", c.name, err, c.kind)
			continue
		}
		if c.field != "" && (len(de.Fields) != 1 || de.Fields[0].Field != c.field) {
			t.Errorf("%s: fields %+v, want one on %s", c.name, de.Fields, c.field)
		}
		if strings.Contains(de.Detail, "INSERT") || strings.Contains(de.Detail, "products_") {
			t.Errorf("%s: detail leaks SQL: %q", c.name, de.Detail)
		}
	}
}
