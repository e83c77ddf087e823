package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func tableExists(ctx context.Context, t *testing.T, dsn, table string) bool {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
		t.Fatalf("look up table %s: %v", table, err)
	}
	return exists
}

// TestMigrationsRoundTrip applies every migration, rolls all of them back,
// and applies them again: each Down undoes its Up completely.
func TestMigrationsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dsn := pgtest.NewEmptyDatabase(t)
	tables := []string{"categories", "products", "reports", "outbox", "idempotency_keys"}

	for round := 1; round <= 2; round++ {
		var out bytes.Buffer
		if err := postgres.Migrate(ctx, dsn, postgres.MigrateUp, &out); err != nil {
			t.Fatalf("round %d: up: %v", round, err)
		}
		if !strings.Contains(out.String(), "00001_catalog.sql") {
			t.Errorf("round %d: up output does not name 00001_catalog.sql:\n%s", round, out.String())
		}
		for _, table := range tables {
			if !tableExists(ctx, t, dsn, table) {
				t.Errorf("round %d: table %s missing after up", round, table)
			}
		}
		out.Reset()
		if err := postgres.Migrate(ctx, dsn, postgres.MigrateStatus, &out); err != nil {
			t.Fatalf("round %d: status: %v", round, err)
		}
		if strings.Contains(out.String(), "pending") || !strings.Contains(out.String(), "applied") {
			t.Errorf("round %d: status after up is not all applied:\n%s", round, out.String())
		}
		out.Reset()
		if err := postgres.Migrate(ctx, dsn, postgres.MigrateUp, &out); err != nil || !strings.Contains(out.String(), "no migrations to apply") {
			t.Errorf("round %d: second up: err %v, output %q", round, err, out.String())
		}

		for step := 0; ; step++ {
			if step > 100 {
				t.Fatalf("round %d: down never reached the first migration", round)
			}
			out.Reset()
			if err := postgres.Migrate(ctx, dsn, postgres.MigrateDown, &out); err != nil {
				t.Fatalf("round %d: down: %v", round, err)
			}
			if strings.Contains(out.String(), "no migrations to roll back") {
				break
			}
		}
		for _, table := range tables {
			if tableExists(ctx, t, dsn, table) {
				t.Errorf("round %d: table %s left after down", round, table)
			}
		}
	}
	if err := postgres.Migrate(ctx, dsn, "sideways", &bytes.Buffer{}); err == nil {
		t.Error("Migrate accepted an unknown command")
	}
}

// TestEnsureDatabase creates a missing database once and leaves an existing
// one alone.
func TestEnsureDatabase(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	scratch := pgtest.NewEmptyDatabase(t) // a name that exists, to derive one that does not
	dsn := strings.Replace(scratch, "etalase_test_", "etalase_ensure_", 1)
	if dsn == scratch {
		t.Fatalf("cannot derive a database name from the test DSN")
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), pgtest.ServerURL())
		if err != nil {
			t.Errorf("connect for cleanup: %v", err)
			return
		}
		defer conn.Close(context.Background())
		cfg, _ := pgx.ParseConfig(dsn)
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{cfg.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", cfg.Database, err)
		}
	})
	for i := 0; i < 2; i++ {
		if err := postgres.EnsureDatabase(ctx, dsn); err != nil {
			t.Fatalf("EnsureDatabase call %d: %v", i+1, err)
		}
	}
	pool, err := postgres.NewPool(ctx, dsn)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	defer pool.Close()
	if err := postgres.NewStore(pool).Ping(ctx); err != nil {
		t.Fatalf("Ping the ensured database: %v", err)
	}
}

// TestSecretsStayOut checks that no error quotes a password of the DSN.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	const secret = "s3cr3t-pw"
	bad := []string{
		"postgres://user:" + secret + "@127.0.0.1:notaport/db",
		"host=127.0.0.1 password=" + secret + " port=notaport",
	}
	for _, dsn := range bad {
		if _, err := postgres.NewPool(ctx, dsn); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("NewPool error %v: want an error without the password", err)
		}
		if err := postgres.Migrate(ctx, dsn, postgres.MigrateStatus, &bytes.Buffer{}); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Migrate error %v: want an error without the password", err)
		}
		if err := postgres.EnsureDatabase(ctx, dsn); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("EnsureDatabase error %v: want an error without the password", err)
		}
	}
}

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

// TestIdempotencyKeyHeldAcrossTransactions holds a key in one real
// transaction while another asks for it, then releases it by committing.
func TestIdempotencyKeyHeldAcrossTransactions(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	cat, err := s.Categories().Create(ctx, domain.CategoryFields{Name: "tools"})
	if err != nil {
		t.Fatalf("create category: %v", err)
	}
	notBefore := time.Now().Add(-time.Hour)

	if _, _, err := s.Idempotency().Begin(ctx, "alice", "k1", notBefore); err == nil {
		t.Fatal("Begin outside a transaction succeeded")
	}

	held, release := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- s.InTx(ctx, func(tx domain.Store) error {
			if _, found, err := tx.Idempotency().Begin(ctx, "alice", "k1", notBefore); err != nil || found {
				return fmt.Errorf("first Begin: found %v, err %v", found, err)
			}
			p, err := tx.Products().Create(ctx, domain.ProductFields{Name: "hammer", Price: 999, CategoryID: cat.ID})
			if err != nil {
				return err
			}
			close(held)
			<-release
			return tx.Idempotency().Save(ctx, domain.IdempotencyRecord{Scope: "alice", Key: "k1",
				Fingerprint: "fp", Product: p, CreatedAt: time.Now()})
		})
	}()
	select {
	case <-held:
	case err := <-firstDone:
		t.Fatalf("first transaction ended early: %v", err)
	}

	attempts := []struct {
		scope, key string
		kind       domain.Kind
	}{
		{"alice", "k1", domain.KindConflict}, // held by the first transaction
		{"bob", "k1", domain.KindInternal},   // another client's key of the same name is free
		{"alice", "k2", domain.KindInternal}, // another key is free
	}
	for _, a := range attempts {
		err := s.InTx(ctx, func(tx domain.Store) error {
			_, _, err := tx.Idempotency().Begin(ctx, a.scope, a.key, notBefore)
			return err
		})
		if a.kind == domain.KindInternal && err != nil {
			t.Errorf("Begin %s/%s while alice/k1 is held: %v", a.scope, a.key, err)
		}
		if a.kind != domain.KindInternal && domain.KindOf(err) != a.kind {
			t.Errorf("Begin %s/%s while held: %v, want kind %v", a.scope, a.key, err, a.kind)
		}
	}

	close(release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	err = s.InTx(ctx, func(tx domain.Store) error {
		rec, found, err := tx.Idempotency().Begin(ctx, "alice", "k1", notBefore)
		if err != nil || !found {
			return fmt.Errorf("Begin after commit: found %v, err %v", found, err)
		}
		if rec.Fingerprint != "fp" || rec.Product.Name != "hammer" || rec.Product.CategoryName != "tools" {
			return fmt.Errorf("Begin after commit returned %+v", rec)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRelaySkipLocked runs relays concurrently over one outbox: every job is
// sent exactly once.
func TestRelaySkipLocked(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	const jobs, relays, batch = 300, 6, 7
	err := s.InTx(ctx, func(tx domain.Store) error {
		for i := 0; i < jobs; i++ {
			job := domain.Job{ID: fmt.Sprintf("job-%d", i), Type: domain.JobGenerateReport,
				Queue: domain.QueueReport, Payload: []byte(`{"n":` + fmt.Sprint(i) + `}`)}
			if err := tx.Outbox().Add(ctx, job); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fill outbox: %v", err)
	}

	var (
		mu     sync.Mutex
		sent   = map[string]int{}
		counts = make([]int, relays)
		wg     sync.WaitGroup
	)
	send := func(_ context.Context, j domain.Job) error {
		mu.Lock()
		sent[j.ID]++
		mu.Unlock()
		time.Sleep(time.Millisecond) // hold the claimed rows while the other relays run
		return nil
	}
	errs := make(chan error, relays)
	for r := 0; r < relays; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			for {
				n, err := s.Outbox().Relay(ctx, batch, send)
				if err != nil {
					errs <- err
					return
				}
				counts[r] += n
				backlog, _, err := s.Outbox().Backlog(ctx)
				if err != nil {
					errs <- err
					return
				}
				if n == 0 && backlog == 0 {
					return
				}
			}
		}(r)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("relay: %v", err)
	}
	total, busy := 0, 0
	for _, c := range counts {
		total += c
		if c > 0 {
			busy++
		}
	}
	if total != jobs || len(sent) != jobs {
		t.Errorf("relays sent %d jobs, %d distinct; want %d", total, len(sent), jobs)
	}
	for id, n := range sent {
		if n != 1 {
			t.Errorf("job %s sent %d times", id, n)
		}
	}
	if busy < 2 {
		t.Errorf("only %d relay(s) sent anything: the relays did not run concurrently", busy)
	}
	count, oldest, err := s.Outbox().Backlog(ctx)
	if err != nil || count != 0 || !oldest.IsZero() {
		t.Errorf("Backlog after relaying = %d, %v, %v; want 0, zero time, nil", count, oldest, err)
	}
}

// TestRelayPrunesOldSentJobs checks that a drained relay deletes jobs sent
// more than a day ago and keeps recent and unsent ones.
func TestRelayPrunesOldSentJobs(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	for i := 0; i < 4; i++ {
		job := domain.Job{ID: fmt.Sprintf("job-%d", i), Type: domain.JobGenerateReport, Queue: domain.QueueReport, Payload: []byte(`{}`)}
		if err := s.Outbox().Add(ctx, job); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	const age = `UPDATE outbox SET sent_at = now() - $2::interval WHERE job_id = $1`
	for job, ago := range map[string]time.Duration{"job-0": 48 * time.Hour, "job-1": 25 * time.Hour, "job-2": time.Hour} {
		if _, err := s.Pool().Exec(ctx, age, job, ago); err != nil {
			t.Fatalf("age %s: %v", job, err)
		}
	}
	var offered []string
	n, err := s.Outbox().Relay(ctx, 10, func(_ context.Context, j domain.Job) error {
		offered = append(offered, j.ID)
		return errors.New("queue is down")
	})
	if err != nil || n != 0 || len(offered) != 1 || offered[0] != "job-3" {
		t.Fatalf("Relay = %d, %v, offered %v; want 0, nil, [job-3]", n, err, offered)
	}
	rows, err := s.Pool().Query(ctx, `SELECT job_id FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(left, ",") != "job-2,job-3" {
		t.Errorf("outbox holds %v after pruning, want [job-2 job-3]", left)
	}
}
