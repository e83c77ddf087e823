package domain

import (
	"context"
	"time"
)

// ProductRepository stores products. Get and List return the category's
// name and version with each product. Update names the revision the caller
// last saw, and checks both its parts in the same step that writes: a
// mismatch of either is a KindPrecondition error; a missing row is
// KindNotFound. A
// categoryId naming no category is a KindInvalid error on field categoryId;
// a duplicate sku is a KindConflict error on field sku.
type ProductRepository interface {
	Get(ctx context.Context, id int64) (Product, error)
	List(ctx context.Context, q ProductQuery) (ProductPage, error)
	Create(ctx context.Context, f ProductFields) (Product, error)
	Update(ctx context.Context, id int64, seen ProductRevision, f ProductFields) (Product, error)
	Delete(ctx context.Context, id int64) error
}

// CategoryRepository stores categories. A duplicate name (ignoring case) is
// a KindConflict error on field name; deleting a category that products use
// is a KindConflict error.
type CategoryRepository interface {
	Get(ctx context.Context, id int64) (Category, error)
	List(ctx context.Context, q CategoryQuery) (CategoryPage, error)
	Create(ctx context.Context, f CategoryFields) (Category, error)
	Update(ctx context.Context, id, version int64, f CategoryFields) (Category, error)
	Delete(ctx context.Context, id int64) error
}

// ReportRepository stores reports and computes their results.
type ReportRepository interface {
	// Create records a queued report of an existing product, asked for by
	// requestedBy in the request requestID (may be empty). The report's job
	// is in the outbox from then on: Outbox.Relay offers it and Backlog
	// counts it until a relay has sent it, as for a job added with
	// Outbox.Add in the same transaction.
	Create(ctx context.Context, productID int64, requestedBy, requestID string) (Report, error)
	Get(ctx context.Context, id int64) (Report, error)
	// ListByProduct returns a product's reports, newest first.
	ListByProduct(ctx context.Context, productID int64) ([]Report, error)
	// Start marks a queued, running or failed report running and counts the
	// attempt. A completed report is returned unchanged: the caller skips it.
	Start(ctx context.Context, id int64) (Report, error)
	// Compute summarizes the product as it is now.
	Compute(ctx context.Context, productID int64) (ReportResult, error)
	// Complete stores the result once; completing a completed report is a no-op.
	Complete(ctx context.Context, id int64, r ReportResult) (Report, error)
	// Fail records the last error; final marks the report failed for good.
	Fail(ctx context.Context, id int64, reason string, final bool) error
	// Stale lists reports queued or running since before the deadline.
	Stale(ctx context.Context, before time.Time, limit int) ([]Report, error)
	// List returns reports newest first, filtered by q.
	List(ctx context.Context, q ReportQuery) ([]Report, error)
}

// ReportFinisher is a ReportRepository that can compute a report's result
// and store it in one step: Finish does what Compute of productID followed
// by Complete of report id does, with the same errors, in one round trip.
// The use cases use it when the repository offers it.
type ReportFinisher interface {
	Finish(ctx context.Context, id, productID int64) (Report, error)
	// Run does what Start followed by Finish does, in one statement, for a
	// job with no work between them; it changes nothing when it fails.
	Run(ctx context.Context, id, productID int64) (Report, error)
}

// ProductReportCreator is a Store that can insert a product and its first
// report in one step that commits both or neither: what Products().Create
// followed by Reports().Create does in one transaction, with the same
// errors, in one round trip and no transaction around it. A store that
// cannot do it for the store it wraps returns errors.ErrUnsupported, and the
// use case takes the transaction.
type ProductReportCreator interface {
	CreateProductWithReport(ctx context.Context, f ProductFields, requestedBy, requestID string) (Product, Report, error)
}

// Outbox holds jobs written in the same transaction as the data they are
// about, until a relay hands them to the queue.
type Outbox interface {
	Add(ctx context.Context, job Job) error
	// Relay claims up to limit unsent jobs that no other relay holds, calls
	// send for each (possibly from several goroutines at once) and marks
	// those sent that send accepted. It returns how many were sent.
	Relay(ctx context.Context, limit int, send func(context.Context, Job) error) (int, error)
	// Backlog counts unsent jobs and the creation time of the oldest.
	Backlog(ctx context.Context) (count int, oldest time.Time, err error)
}

// OutboxWakeups tells a relay when the outbox may hold new jobs, so that it
// relays them at once instead of at its next poll.
type OutboxWakeups interface {
	// Watch subscribes, calls wake once the subscription is live (jobs
	// committed before it may be waiting) and again after commits that
	// added jobs, until ctx ends or the subscription breaks; it returns why
	// it stopped. Wake-ups may be coalesced or spurious, and a broken
	// subscription loses those in between: the relay still polls.
	Watch(ctx context.Context, wake func()) error
}

// IdempotencyRecord remembers the product a keyed create made, and a
// fingerprint of the request that made it.
type IdempotencyRecord struct {
	Scope       string // the API key's name: keys are per client
	Key         string
	Fingerprint string
	Product     Product
	CreatedAt   time.Time
}

// IdempotencyStore keeps idempotency records. Begin must run inside a
// transaction: it holds the key until that transaction ends, fails with
// KindConflict while another transaction holds it, and returns the record
// created at or after notBefore, if any.
type IdempotencyStore interface {
	Begin(ctx context.Context, scope, key string, notBefore time.Time) (IdempotencyRecord, bool, error)
	Save(ctx context.Context, r IdempotencyRecord) error
}

// Store is the unit of work over the catalog's data. Outside InTx every call
// commits on its own; inside, fn's Store is bound to one transaction, which
// commits when fn returns nil and rolls back otherwise.
type Store interface {
	Products() ProductRepository
	Categories() CategoryRepository
	Reports() ReportRepository
	Outbox() Outbox
	Idempotency() IdempotencyStore
	InTx(ctx context.Context, fn func(tx Store) error) error
	Ping(ctx context.Context) error
}

// JobQueue hands jobs to workers. Enqueueing a job whose ID the queue
// already holds succeeds without a second copy.
type JobQueue interface {
	Enqueue(ctx context.Context, job Job) error
}
