package postgres_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/etalase/etalase/domain"
	"github.com/etalase/etalase/test/pgtest"
)

// TestTxPipelining checks the transactions whose BEGIN, outbox inserts and
// COMMIT travel with other statements: they read their own writes, a
// failure anywhere (even of an insert that has not been sent yet) rolls
// everything back, savepoints nest, and no connection is lost.
func TestTxPipelining(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := pgtest.NewStore(t)
	errFn := errors.New("fn failed")
	badJob := domain.Job{ID: "bad-\xff", Type: domain.JobGenerateReport, Queue: domain.QueueReport}
	okJob := func(id string) domain.Job {
		return domain.Job{ID: id, Type: domain.JobGenerateReport, Queue: domain.QueueReport, Payload: []byte(`{}`)}
	}
	category := func(tx domain.Store, name string) error {
		_, err := tx.Categories().Create(ctx, domain.CategoryFields{Name: name})
		return err
	}
	tests := []struct {
		name    string
		fn      func(tx domain.Store) error
		wantErr bool
		kept    []string // categories that must exist afterwards
		gone    []string // categories that must not
		backlog int      // unsent jobs the case adds
	}{
		{name: "empty", fn: func(domain.Store) error { return nil }},
		{name: "reads its waiting insert", backlog: 1, fn: func(tx domain.Store) error {
			if err := tx.Outbox().Add(ctx, okJob("seen")); err != nil {
				return err
			}
			n, _, err := tx.Outbox().Backlog(ctx)
			if err != nil {
				return err
			}
			if n != 1 {
				return fmt.Errorf("backlog inside the transaction %d, want 1", n)
			}
			return nil
		}},
		{name: "waiting insert fails at commit", wantErr: true, gone: []string{"c1"}, fn: func(tx domain.Store) error {
			if err := category(tx, "c1"); err != nil {
				return err
			}
			return tx.Outbox().Add(ctx, badJob)
		}},
		{name: "waiting insert fails the next statement", wantErr: true, gone: []string{"c2", "c3"}, fn: func(tx domain.Store) error {
			if err := category(tx, "c2"); err != nil {
				return err
			}
			if err := tx.Outbox().Add(ctx, badJob); err != nil {
				return err
			}
			return category(tx, "c3")
		}},
		{name: "rolled back after a waiting insert", wantErr: true, gone: []string{"c4"}, fn: func(tx domain.Store) error {
			if err := category(tx, "c4"); err != nil {
				return err
			}
			if err := tx.Outbox().Add(ctx, okJob("rolled-back")); err != nil {
				return err
			}
			return errFn
		}},
		{name: "swallowed error fails the commit", wantErr: true, gone: []string{"c5"}, fn: func(tx domain.Store) error {
			if err := category(tx, "c5"); err != nil {
				return err
			}
			if err := category(tx, "C5"); domain.KindOf(err) != domain.KindConflict {
				return fmt.Errorf("duplicate name: %v, want a conflict", err)
			}
			return nil
		}},
		{name: "savepoint first", kept: []string{"c6"}, backlog: 1, fn: func(tx domain.Store) error {
			if err := tx.Outbox().Add(ctx, okJob("before-savepoint")); err != nil {
				return err
			}
			return tx.InTx(ctx, func(tx domain.Store) error { return category(tx, "c6") })
		}},
		{name: "savepoint rolled back", kept: []string{"c7"}, gone: []string{"c8"}, fn: func(tx domain.Store) error {
			if err := category(tx, "c7"); err != nil {
				return err
			}
			err := tx.InTx(ctx, func(tx domain.Store) error {
				if err := category(tx, "c8"); err != nil {
					return err
				}
				return errFn
			})
			if !errors.Is(err, errFn) {
				return fmt.Errorf("nested InTx: %v, want fn's error", err)
			}
			return nil
		}},
	}
	backlog := 0
	for _, tc := range tests {
		err := s.InTx(ctx, tc.fn)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: InTx error %v, want error %t", tc.name, err, tc.wantErr)
		}
		backlog += tc.backlog
		exists := map[string]bool{}
		page, lerr := s.Categories().List(ctx, domain.CategoryQuery{Limit: 100})
		if lerr != nil {
			t.Fatalf("%s: list categories: %v", tc.name, lerr)
		}
		for _, c := range page.Items {
			exists[c.Name] = true
		}
		for _, name := range tc.kept {
			if !exists[name] {
				t.Errorf("%s: category %s was not committed", tc.name, name)
			}
		}
		for _, name := range tc.gone {
			if exists[name] {
				t.Errorf("%s: category %s was committed", tc.name, name)
			}
		}
		if n, _, err := s.Outbox().Backlog(ctx); err != nil || n != backlog {
			t.Errorf("%s: backlog %d, %v; want %d", tc.name, n, err, backlog)
		}
	}

	// Failed transactions give their connections back: many more than the
	// pool holds still leave it usable.
	for i := 0; i < 50; i++ {
		if err := s.InTx(ctx, func(tx domain.Store) error { return tx.Outbox().Add(ctx, badJob) }); err == nil {
			t.Fatalf("a bad outbox insert committed")
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after failed transactions: %v", err)
	}
}
