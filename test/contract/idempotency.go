package contract

import (
	"errors"
	"time"

	"github.com/etalase/etalase/domain"
)

// begin looks a key up in a transaction of its own and returns the record,
// or nil when there is none.
func (f *fixture) begin(scope, key string, notBefore time.Time) *domain.IdempotencyRecord {
	f.t.Helper()
	var out *domain.IdempotencyRecord
	err := f.s.InTx(f.ctx, func(tx domain.Store) error {
		rec, found, err := tx.Idempotency().Begin(f.ctx, scope, key, notBefore)
		if found {
			out = &rec
		}
		return err
	})
	if err != nil {
		f.t.Fatalf("Begin(%s, %s): %v", scope, key, err)
	}
	return out
}

func (f *fixture) save(rec domain.IdempotencyRecord) {
	f.t.Helper()
	err := f.s.InTx(f.ctx, func(tx domain.Store) error {
		if _, _, err := tx.Idempotency().Begin(f.ctx, rec.Scope, rec.Key, rec.CreatedAt); err != nil {
			return err
		}
		return tx.Idempotency().Save(f.ctx, rec)
	})
	if err != nil {
		f.t.Fatalf("Save(%s, %s): %v", rec.Scope, rec.Key, err)
	}
}

func checkRecord(f *fixture, what string, got *domain.IdempotencyRecord, want domain.IdempotencyRecord) {
	f.t.Helper()
	if got == nil {
		f.t.Fatalf("%s: no record, want %s/%s", what, want.Scope, want.Key)
	}
	if got.Scope != want.Scope || got.Key != want.Key || got.Fingerprint != want.Fingerprint ||
		!sameTime(got.CreatedAt, want.CreatedAt) {
		f.t.Fatalf("%s: got %+v, want %+v", what, *got, want)
	}
	checkProduct(f.t, what+": product", got.Product, want.Product)
}

func testIdempotency(f *fixture) {
	t := f.t
	c := f.category("books")
	p := f.product(domain.ProductFields{SKU: ptr("B-1"), Name: "atlas", Description: ptr("maps"), Price: 4500, Stock: 2, CategoryID: c.ID})
	now := time.Now().UTC().Truncate(time.Microsecond)
	dayAgo := now.Add(-24 * time.Hour)

	if got := f.begin("alice", "key-1", dayAgo); got != nil {
		t.Fatalf("Begin of an unused key found %+v", *got)
	}
	rec := domain.IdempotencyRecord{Scope: "alice", Key: "key-1", Fingerprint: "fp-1", Product: p, CreatedAt: now}
	f.save(rec)
	checkRecord(f, "Begin of a saved key", f.begin("alice", "key-1", dayAgo), rec)

	// The record is a snapshot of the first response.
	if _, err := f.s.Products().Update(f.ctx, p.ID, p.Revision(), fields(c.ID, "atlas, 2nd edition", 5000, 1)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	checkRecord(f, "Begin after the product changed", f.begin("alice", "key-1", dayAgo), rec)

	if got := f.begin("bob", "key-1", dayAgo); got != nil {
		t.Fatalf("another scope sees alice's record: %+v", *got)
	}
	if got := f.begin("alice", "key-2", dayAgo); got != nil {
		t.Fatalf("another key finds a record: %+v", *got)
	}
	if got := f.begin("alice", "key-1", now.Add(time.Second)); got != nil {
		t.Fatalf("a record older than notBefore was found: %+v", *got)
	}
	checkRecord(f, "Begin with notBefore at the record's creation", f.begin("alice", "key-1", now), rec)
}

func testIdempotencyRollback(f *fixture) {
	t := f.t
	c := f.category("books")
	p := f.product(fields(c.ID, "atlas", 4500, 2))
	errRollback := errors.New("roll back")
	err := f.s.InTx(f.ctx, func(tx domain.Store) error {
		if _, _, err := tx.Idempotency().Begin(f.ctx, "alice", "key-1", time.Now().Add(-time.Hour)); err != nil {
			return err
		}
		rec := domain.IdempotencyRecord{Scope: "alice", Key: "key-1", Fingerprint: "fp-1", Product: p, CreatedAt: time.Now()}
		if err := tx.Idempotency().Save(f.ctx, rec); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	if got := f.begin("alice", "key-1", time.Now().Add(-time.Hour)); got != nil {
		t.Fatalf("a rolled-back record was found: %+v", *got)
	}
}

func testIdempotencyExpired(f *fixture) {
	t := f.t
	c := f.category("books")
	old := f.product(fields(c.ID, "atlas", 4500, 2))
	fresh := f.product(fields(c.ID, "bible", 1500, 2))
	now := time.Now().UTC().Truncate(time.Microsecond)
	dayAgo := now.Add(-24 * time.Hour)

	expired := domain.IdempotencyRecord{Scope: "alice", Key: "key-1", Fingerprint: "fp-old", Product: old, CreatedAt: now.Add(-48 * time.Hour)}
	f.save(expired)
	if got := f.begin("alice", "key-1", dayAgo); got != nil {
		t.Fatalf("an expired record was found: %+v", *got)
	}
	rec := domain.IdempotencyRecord{Scope: "alice", Key: "key-1", Fingerprint: "fp-new", Product: fresh, CreatedAt: now}
	f.save(rec)
	checkRecord(f, "Begin after the expired record was replaced", f.begin("alice", "key-1", dayAgo), rec)
}

// testIdempotencyConcurrent checks that a key held by an open transaction
// is never reported free: a second Begin either fails with KindConflict
// while the first transaction is open, or waits for it and finds its record.
func testIdempotencyConcurrent(f *fixture) {
	t := f.t
	c := f.category("books")
	p := f.product(fields(c.ID, "atlas", 4500, 2))
	now := time.Now().UTC().Truncate(time.Microsecond)
	rec := domain.IdempotencyRecord{Scope: "alice", Key: "key-1", Fingerprint: "fp-1", Product: p, CreatedAt: now}

	held, release := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- f.s.InTx(f.ctx, func(tx domain.Store) error {
			if _, _, err := tx.Idempotency().Begin(f.ctx, rec.Scope, rec.Key, now.Add(-time.Hour)); err != nil {
				close(held)
				return err
			}
			close(held)
			select {
			case <-release:
			case <-time.After(500 * time.Millisecond):
			}
			return tx.Idempotency().Save(f.ctx, rec)
		})
	}()
	<-held

	type outcome struct {
		rec   domain.IdempotencyRecord
		found bool
		err   error
	}
	second := make(chan outcome, 1)
	go func() {
		var o outcome
		o.err = f.s.InTx(f.ctx, func(tx domain.Store) error {
			var err error
			o.rec, o.found, err = tx.Idempotency().Begin(f.ctx, rec.Scope, rec.Key, now.Add(-time.Hour))
			return err
		})
		second <- o
	}()
	var o outcome
	select {
	case o = <-second:
		close(release)
	case <-time.After(200 * time.Millisecond):
		close(release)
		o = <-second
	}
	if err := <-firstDone; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	switch {
	case o.err != nil:
		wantKind(t, "Begin of a key another transaction holds", o.err, domain.KindConflict, "")
	case !o.found:
		t.Fatalf("Begin of a key another transaction holds reported it free")
	default:
		checkRecord(f, "Begin after the holder committed", &o.rec, rec)
	}
}

// testIdempotencyNeedsTx checks that Begin refuses to run outside InTx,
// where it could hold the key for no transaction at all.
func testIdempotencyNeedsTx(f *fixture) {
	if _, _, err := f.s.Idempotency().Begin(f.ctx, "alice", "key-1", time.Now().Add(-time.Hour)); err == nil {
		f.t.Fatal("Begin outside a transaction succeeded")
	}
}
