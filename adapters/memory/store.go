package memory

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/etalase/etalase/domain"
)

var (
	_ domain.Store                = (*Store)(nil)
	_ domain.ProductReportCreator = (*Store)(nil)
)

// errTxDone is returned by a transaction's Store used after InTx returned.
var errTxDone = errors.New("memory: the transaction has already ended")

// errNoTx is returned by IdempotencyStore.Begin outside a transaction.
var errNoTx = errors.New("memory: idempotency Begin must run inside InTx")

// Store is an in-memory domain.Store, safe for concurrent use. One mutex
// guards the committed state. InTx holds that mutex for the whole of fn,
// so transactions are serialized, and works on a copy of the state that it
// swaps in only when fn succeeds: a rollback is simply dropping the copy.
// Inside fn use only fn's Store: the outer one waits for the mutex that
// InTx holds, so a call on it from fn never returns.
type Store struct {
	db *database
	tx *txn // nil outside InTx
}

// database is the committed state and its lock, shared by a Store and the
// Stores of its transactions.
type database struct {
	mu  sync.Mutex
	st  *state
	now func() time.Time

	wakeups wakeups // the outbox's watchers
}

// txn is the working copy of one transaction.
type txn struct {
	st   *state
	done bool
}

// state is everything the store holds. Values in the maps are never
// mutated in place once stored; writers store a new value.
type state struct {
	products   map[int64]domain.Product // CategoryName is filled on read
	categories map[int64]domain.Category
	reports    map[int64]domain.Report
	outbox     []outboxRow
	idem       map[idemKey]domain.IdempotencyRecord

	lastProduct, lastCategory, lastReport, lastOutbox int64
}

type outboxRow struct {
	id        int64
	job       domain.Job
	createdAt time.Time
	claimed   bool
	sent      bool
	sentAt    time.Time
}

type idemKey struct{ scope, key string }

// New returns an empty store.
func New() *Store {
	return &Store{db: &database{st: newState(), now: now}}
}

// now is the store's clock: UTC with the microsecond precision that
// PostgreSQL keeps, so both adapters hand out comparable timestamps.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func newState() *state {
	return &state{
		products:   map[int64]domain.Product{},
		categories: map[int64]domain.Category{},
		reports:    map[int64]domain.Report{},
		idem:       map[idemKey]domain.IdempotencyRecord{},
	}
}

func (st *state) clone() *state {
	c := *st
	c.products = maps.Clone(st.products)
	c.categories = maps.Clone(st.categories)
	c.reports = maps.Clone(st.reports)
	c.outbox = append([]outboxRow(nil), st.outbox...)
	c.idem = maps.Clone(st.idem)
	return &c
}

// Products returns the product repository.
func (s *Store) Products() domain.ProductRepository { return products{s} }

// Categories returns the category repository.
func (s *Store) Categories() domain.CategoryRepository { return categories{s} }

// Reports returns the report repository.
func (s *Store) Reports() domain.ReportRepository { return reports{s} }

// Outbox returns the outbox.
func (s *Store) Outbox() domain.Outbox { return outbox{s} }

// Idempotency returns the idempotency store.
func (s *Store) Idempotency() domain.IdempotencyStore { return idempotency{s} }

// CreateProductWithReport makes a product and its first report in one
// transaction, as the PostgreSQL store does in one statement.
func (s *Store) CreateProductWithReport(ctx context.Context, f domain.ProductFields, requestedBy, requestID string) (domain.Product, domain.Report, error) {
	var (
		p   domain.Product
		rep domain.Report
	)
	err := s.InTx(ctx, func(tx domain.Store) error {
		var err error
		if p, err = tx.Products().Create(ctx, f); err != nil {
			return err
		}
		rep, err = tx.Reports().Create(ctx, p.ID, requestedBy, requestID)
		return err
	})
	if err != nil {
		return domain.Product{}, domain.Report{}, err
	}
	return p, rep, nil
}

// Ping always succeeds: memory is always reachable.
func (s *Store) Ping(ctx context.Context) error { return ctx.Err() }

// InTx runs fn on a copy of the state and makes the copy the state when fn
// returns nil. Inside a transaction it nests like a savepoint: the inner
// copy replaces the outer one only if the inner fn succeeds.
func (s *Store) InTx(ctx context.Context, fn func(tx domain.Store) error) error {
	if s.tx != nil {
		if s.tx.done {
			return errTxDone
		}
		inner := &txn{st: s.tx.st.clone()}
		defer func() { inner.done = true }()
		if err := fn(&Store{db: s.db, tx: inner}); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		*s.tx.st = *inner.st
		return nil
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	t := &txn{st: s.db.st.clone()}
	defer func() { t.done = true }()
	if err := fn(&Store{db: s.db, tx: t}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	added := t.st.lastOutbox != s.db.st.lastOutbox
	s.db.st = t.st
	if added {
		s.db.wakeups.wake()
	}
	return nil
}

// do runs fn on the state this Store sees: the transaction's copy inside
// InTx (already locked by InTx), the committed state under the lock
// otherwise. Writers check everything before they change anything, so a
// failed call outside a transaction leaves no trace.
func (s *Store) do(ctx context.Context, fn func(st *state) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.tx != nil {
		if s.tx.done {
			return errTxDone
		}
		return fn(s.tx.st)
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	last := s.db.st.lastOutbox
	err := fn(s.db.st)
	if s.db.st.lastOutbox != last {
		s.db.wakeups.wake()
	}
	return err
}

func (s *Store) now() time.Time { return s.db.now() }
