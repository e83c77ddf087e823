package application_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/adapters/memory"
	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// world is a catalog over a fresh memory store with two categories.
type world struct {
	t       *testing.T
	ctx     context.Context
	store   *memory.Store
	catalog *application.Catalog
	books   domain.Category
	games   domain.Category
}

func newWorld(t *testing.T) *world {
	return newWorldOver(t, nil)
}

// newWorldOver builds the catalog over wrap(store) when wrap is not nil,
// so a test can put a faulty or racing store between catalog and memory.
func newWorldOver(t *testing.T, wrap func(domain.Store) domain.Store) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), store: memory.New()}
	var s domain.Store = w.store
	if wrap != nil {
		s = wrap(w.store)
	}
	w.catalog = application.NewCatalog(s)
	var err error
	if w.books, err = w.store.Categories().Create(w.ctx, domain.CategoryFields{Name: "Books"}); err != nil {
		t.Fatal(err)
	}
	if w.games, err = w.store.Categories().Create(w.ctx, domain.CategoryFields{Name: "Games"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func str(s string) *string { return &s }

func (w *world) fields(name string) domain.ProductFields {
	return domain.ProductFields{Name: name, Price: 1999, Stock: 3, CategoryID: w.books.ID}
}

func (w *world) create(in application.CreateProduct) application.CreatedProduct {
	w.t.Helper()
	out, err := w.catalog.CreateProduct(w.ctx, in)
	if err != nil {
		w.t.Fatalf("CreateProduct(%q): %v", in.Fields.Name, err)
	}
	return out
}

// products lists every product in the store, by id.
func (w *world) products() []domain.Product {
	w.t.Helper()
	page, err := w.store.Products().List(w.ctx, domain.ProductQuery{Limit: domain.MaxPageSize, Sort: domain.Sort{Field: domain.SortByID}})
	if err != nil {
		w.t.Fatal(err)
	}
	return page.Items
}

// jobs drains the outbox and returns what it held.
func (w *world) jobs() []domain.Job {
	w.t.Helper()
	var out []domain.Job
	_, err := w.store.Outbox().Relay(w.ctx, 1000, func(_ context.Context, j domain.Job) error {
		out = append(out, j)
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *world) reports(productID int64) []domain.Report {
	w.t.Helper()
	rs, err := w.store.Reports().ListByProduct(w.ctx, productID)
	if err != nil {
		w.t.Fatal(err)
	}
	return rs
}

// wantKind fails unless err is of kind and names exactly fields, in order
// (any fields when fields is nil).
func wantKind(t *testing.T, what string, err error, kind domain.Kind, fields ...string) {
	t.Helper()
	if got := domain.KindOf(err); got != kind {
		t.Fatalf("%s: error %v (kind %s), want kind %s", what, err, got, kind)
	}
	if fields == nil {
		return
	}
	var de *domain.Error
	errors.As(err, &de)
	var got []string
	for _, f := range de.Fields {
		got = append(got, f.Field)
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("%s: error names fields %v, want %v", what, got, fields)
	}
}

func TestCreateProductNormalizes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	out := w.create(application.CreateProduct{RequestedBy: "alice", Fields: domain.ProductFields{
		SKU: str("  BK-1 "), Name: "\t Go in Action  ", Description: str(" a book\n"),
		Price: 1999, Stock: 7, CategoryID: w.books.ID}})
	p := out.Product
	if out.Replayed || *p.SKU != "BK-1" || p.Name != "Go in Action" || *p.Description != "a book" ||
		p.Price != 1999 || p.Stock != 7 || p.CategoryName != "Books" || p.Version != 1 {
		t.Fatalf("created %+v (replayed %v), want trimmed strings, version 1, category Books", p, out.Replayed)
	}
	got, err := w.catalog.GetProduct(w.ctx, p.ID)
	if err != nil || got.Name != "Go in Action" || *got.SKU != "BK-1" {
		t.Fatalf("GetProduct = %+v, %v", got, err)
	}
}

func TestCreateProductWritesReportAndJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.create(application.CreateProduct{RequestedBy: "alice", Fields: w.fields("atlas")}).Product
	rs := w.reports(p.ID)
	if len(rs) != 1 || rs[0].Status != domain.ReportQueued || rs[0].RequestedBy != "alice" || rs[0].ProductID != p.ID {
		t.Fatalf("reports of the new product: %+v, want one queued report requested by alice", rs)
	}
	jobs := w.jobs()
	if len(jobs) != 1 {
		t.Fatalf("outbox holds %d jobs, want 1", len(jobs))
	}
	j := jobs[0]
	if j.ID != "report-"+itoa(rs[0].ID) || j.Type != domain.JobGenerateReport || j.Queue != domain.QueueReport {
		t.Fatalf("job %+v, want id report-%d of type %s on queue %s", j, rs[0].ID, domain.JobGenerateReport, domain.QueueReport)
	}
	var payload map[string]any
	if err := json.Unmarshal(j.Payload, &payload); err != nil {
		t.Fatalf("payload %s: %v", j.Payload, err)
	}
	want := map[string]any{"productId": float64(p.ID), "reportId": float64(rs[0].ID), "requestedBy": "alice"}
	if len(payload) != len(want) {
		t.Fatalf("payload %s, want exactly %v", j.Payload, want)
	}
	for k, v := range want {
		if payload[k] != v {
			t.Fatalf("payload %s: %s = %v, want %v", j.Payload, k, payload[k], v)
		}
	}
}

func TestCreateProductRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fields func(w *world) domain.ProductFields
		kind   domain.Kind
		want   []string
	}{
		{"every field bad", func(w *world) domain.ProductFields {
			return domain.ProductFields{SKU: str("no spaces allowed"), Name: "   ", Description: str(strings.Repeat("x", 2001)),
				Price: -1, Stock: domain.MaxStock + 1, CategoryID: 0}
		}, domain.KindInvalid, []string{"sku", "name", "description", "price", "stock", "categoryId"}},
		{"unknown category", func(w *world) domain.ProductFields {
			f := w.fields("atlas")
			f.CategoryID = w.games.ID + 100
			return f
		}, domain.KindInvalid, []string{"categoryId"}},
		{"taken sku", func(w *world) domain.ProductFields {
			f := w.fields("atlas")
			f.SKU = str("TAKEN")
			return f
		}, domain.KindConflict, []string{"sku"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			taken := w.fields("first")
			taken.SKU = str("TAKEN")
			w.create(application.CreateProduct{RequestedBy: "alice", Fields: taken})
			w.jobs()
			_, err := w.catalog.CreateProduct(w.ctx, application.CreateProduct{RequestedBy: "alice", Fields: tc.fields(w)})
			wantKind(t, "CreateProduct", err, tc.kind, tc.want...)
			if n := len(w.products()); n != 1 {
				t.Fatalf("%d products after a refused create, want 1", n)
			}
			if jobs := w.jobs(); len(jobs) != 0 {
				t.Fatalf("a refused create left jobs %v", jobs)
			}
		})
	}
}

// faultyStore fails one of the writes a create makes, inside or outside
// a transaction.
type faultyStore struct {
	domain.Store
	failReport, failOutbox, failSave error
}

func (s faultyStore) Reports() domain.ReportRepository {
	return faultyReports{s.Store.Reports(), s.failReport}
}

func (s faultyStore) Outbox() domain.Outbox { return faultyOutbox{s.Store.Outbox(), s.failOutbox} }

func (s faultyStore) Idempotency() domain.IdempotencyStore {
	return faultyIdempotency{s.Store.Idempotency(), s.failSave}
}

func (s faultyStore) InTx(ctx context.Context, fn func(domain.Store) error) error {
	return s.Store.InTx(ctx, func(tx domain.Store) error {
		inner := s
		inner.Store = tx
		return fn(inner)
	})
}

type faultyReports struct {
	domain.ReportRepository
	err error
}

func (r faultyReports) Create(ctx context.Context, productID int64, by, requestID string) (domain.Report, error) {
	if r.err != nil {
		return domain.Report{}, r.err
	}
	return r.ReportRepository.Create(ctx, productID, by, requestID)
}

type faultyOutbox struct {
	domain.Outbox
	err error
}

func (o faultyOutbox) Add(ctx context.Context, j domain.Job) error {
	if o.err != nil {
		return o.err
	}
	return o.Outbox.Add(ctx, j)
}

type faultyIdempotency struct {
	domain.IdempotencyStore
	err error
}

func (i faultyIdempotency) Save(ctx context.Context, r domain.IdempotencyRecord) error {
	if i.err != nil {
		return i.err
	}
	return i.IdempotencyStore.Save(ctx, r)
}

func TestCreateProductRollsBackTogether(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	cases := []struct {
		name  string
		store faultyStore
	}{
		{"report fails", faultyStore{failReport: boom}},
		{"idempotency record fails", faultyStore{failSave: boom}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorldOver(t, func(s domain.Store) domain.Store {
				f := tc.store
				f.Store = s
				return f
			})
			_, err := w.catalog.CreateProduct(w.ctx, application.CreateProduct{
				RequestedBy: "alice", IdempotencyKey: "key-1", Fields: w.fields("atlas")})
			if !errors.Is(err, boom) {
				t.Fatalf("CreateProduct returned %v, want the store's error", err)
			}
			if ps := w.products(); len(ps) != 0 {
				t.Fatalf("a failed create left products %v", ps)
			}
			if n, _, _ := w.store.Outbox().Backlog(w.ctx); n != 0 {
				t.Fatalf("a failed create left %d outbox jobs", n)
			}
			// The key is free again: a retry that succeeds is not a replay.
			w.catalog = application.NewCatalog(w.store)
			out := w.create(application.CreateProduct{RequestedBy: "alice", IdempotencyKey: "key-1", Fields: w.fields("atlas")})
			if out.Replayed || len(w.reports(out.Product.ID)) != 1 {
				t.Fatalf("retry after a failed create: replayed %v, %d reports", out.Replayed, len(w.reports(out.Product.ID)))
			}
		})
	}
}

func TestCreateProductIdempotency(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	application.SetNow(w.catalog, func() time.Time { return now })
	in := application.CreateProduct{RequestedBy: "alice", IdempotencyKey: "key-1", Fields: w.fields("atlas")}
	first := w.create(in)
	if first.Replayed {
		t.Fatal("the first keyed create is marked replayed")
	}

	// The same body, even spelled with other spaces, replays the first
	// response, as it was, although the product has changed since.
	if _, err := w.catalog.PatchProduct(w.ctx, application.PatchProduct{ID: first.Product.ID,
		Patch: application.ProductPatch{Stock: application.Field[int64]{Set: true, Value: 99}}}); err != nil {
		t.Fatal(err)
	}
	again := in
	again.Fields.Name = "  atlas "
	replay := w.create(again)
	if !replay.Replayed || replay.Product.ID != first.Product.ID || replay.Product.Version != 1 || replay.Product.Stock != 3 {
		t.Fatalf("retry with the same key and body: %+v (replayed %v), want the first response replayed",
			replay.Product, replay.Replayed)
	}

	// Another body under the same key is refused.
	other := in
	other.Fields.Price = 2999
	_, err := w.catalog.CreateProduct(w.ctx, other)
	wantKind(t, "same key, another body", err, domain.KindInvalid, "Idempotency-Key")

	// Keys belong to their client.
	bob := in
	bob.RequestedBy = "bob"
	bobs := w.create(bob)
	if bobs.Replayed || bobs.Product.ID == first.Product.ID {
		t.Fatalf("another client's create with the same key replayed alice's: %+v", bobs)
	}
	if rs := w.reports(bobs.Product.ID); len(rs) != 1 || rs[0].RequestedBy != "bob" {
		t.Fatalf("bob's product has reports %+v, want one requested by bob", rs)
	}

	// After the window the key starts afresh, and is remembered again.
	now = now.Add(application.IdempotencyWindow + time.Minute)
	late := w.create(in)
	if late.Replayed || late.Product.ID == first.Product.ID {
		t.Fatalf("a create after the window replayed: %+v", late)
	}
	now = now.Add(time.Minute)
	if again := w.create(in); !again.Replayed || again.Product.ID != late.Product.ID {
		t.Fatalf("a retry of the renewed key: %+v, want a replay of product %d", again, late.Product.ID)
	}

	if n := len(w.products()); n != 3 {
		t.Fatalf("%d products, want 3 (alice's first, bob's, alice's after the window)", n)
	}
	if jobs := w.jobs(); len(jobs) != 3 {
		t.Fatalf("%d report jobs, want one per product made", len(jobs))
	}
}

func TestCreateProductConcurrentRetries(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	in := application.CreateProduct{RequestedBy: "alice", IdempotencyKey: "key-1", Fields: w.fields("atlas")}
	const clients = 16
	var wg sync.WaitGroup
	results := make([]application.CreatedProduct, clients)
	errs := make([]error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = w.catalog.CreateProduct(w.ctx, in)
		}()
	}
	wg.Wait()
	made := 0
	var id int64
	for i := range clients {
		if errs[i] != nil {
			wantKind(t, "a concurrent retry", errs[i], domain.KindConflict)
			continue
		}
		if id != 0 && results[i].Product.ID != id {
			t.Fatalf("concurrent retries made products %d and %d", id, results[i].Product.ID)
		}
		id = results[i].Product.ID
		if !results[i].Replayed {
			made++
		}
	}
	if made != 1 || len(w.products()) != 1 {
		t.Fatalf("%d creates were not replays, %d products stored; want exactly one", made, len(w.products()))
	}
}

func TestListProducts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, name := range []string{"delta", "alpha", "charlie", "bravo"} {
		w.create(application.CreateProduct{RequestedBy: "alice", Fields: w.fields(name)})
	}
	byName := domain.Sort{Field: domain.SortByName}
	var names []string
	q := domain.ProductQuery{Limit: 3, Sort: byName}
	for {
		page, err := w.catalog.ListProducts(w.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Items {
			names = append(names, p.Name)
		}
		if page.Next == nil {
			break
		}
		q.After = page.Next
	}
	if !slices.Equal(names, []string{"alpha", "bravo", "charlie", "delta"}) {
		t.Fatalf("listed %v", names)
	}
	_, err := w.catalog.ListProducts(w.ctx, domain.ProductQuery{Limit: 0})
	wantKind(t, "limit 0", err, domain.KindInvalid, "limit")
	_, err = w.catalog.ListProducts(w.ctx, domain.ProductQuery{Limit: 3, Sort: byName,
		After: &domain.Cursor{Sort: "price", Key: "100", ID: 1}})
	wantKind(t, "cursor of another sort", err, domain.KindInvalid, "cursor")
}

func TestDeleteProduct(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.create(application.CreateProduct{RequestedBy: "alice", Fields: w.fields("atlas")}).Product
	if err := w.catalog.DeleteProduct(w.ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err := w.catalog.GetProduct(w.ctx, p.ID)
	wantKind(t, "GetProduct after delete", err, domain.KindNotFound)
	if rs := w.reports(p.ID); len(rs) != 0 {
		t.Fatalf("a deleted product keeps reports %+v", rs)
	}
	wantKind(t, "second delete", w.catalog.DeleteProduct(w.ctx, p.ID), domain.KindNotFound)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
