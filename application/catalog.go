package application

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/etalase/etalase/domain"
)

// IdempotencyWindow is how long a keyed create is remembered.
const IdempotencyWindow = 24 * time.Hour

// maxPatchRetries bounds the re-reads of a PATCH without If-Match that lost
// a race with another writer.
const maxPatchRetries = 5

// Catalog is the use cases over products and categories.
type Catalog struct {
	store domain.Store
	now   func() time.Time
}

// NewCatalog returns the catalog use cases over a store.
func NewCatalog(store domain.Store) *Catalog {
	return &Catalog{store: store, now: time.Now}
}

// CreateProduct is the input of Catalog.CreateProduct.
type CreateProduct struct {
	Fields         domain.ProductFields
	RequestedBy    string // the API key's name: it owns the report and scopes the idempotency key
	IdempotencyKey string // optional
	RequestID      string // the request's id, carried into the report's job; optional
}

// CreatedProduct is what CreateProduct made; Replayed says it was made by an
// earlier request with the same idempotency key and body.
type CreatedProduct struct {
	Product  domain.Product
	Replayed bool
}

// CreateProduct inserts a product and its first report (the report row is
// its job's outbox row) atomically, so a committed product always gets its
// job and a rolled-back one never does: in one statement when the store
// offers it (domain.ProductReportCreator) and no Idempotency-Key must be
// recorded with them, else in one transaction.
func (c *Catalog) CreateProduct(ctx context.Context, in CreateProduct) (CreatedProduct, error) {
	fields := in.Fields.Normalize()
	if err := fields.Validate(); err != nil {
		return CreatedProduct{}, err
	}
	if in.IdempotencyKey == "" {
		if creator, ok := c.store.(domain.ProductReportCreator); ok {
			// One statement instead of a transaction of two.
			p, _, err := creator.CreateProductWithReport(ctx, fields, in.RequestedBy, in.RequestID)
			if !errors.Is(err, errors.ErrUnsupported) {
				if err != nil {
					return CreatedProduct{}, fmt.Errorf("create product: %w", err)
				}
				return CreatedProduct{Product: p}, nil
			}
		}
	}
	var fingerprint string
	if in.IdempotencyKey != "" {
		fingerprint = productFingerprint(fields)
	}
	var out CreatedProduct
	err := c.store.InTx(ctx, func(tx domain.Store) error {
		if in.IdempotencyKey != "" {
			rec, found, err := tx.Idempotency().Begin(ctx, in.RequestedBy, in.IdempotencyKey, c.now().Add(-IdempotencyWindow))
			if err != nil {
				return err
			}
			if found {
				if rec.Fingerprint != fingerprint {
					return domain.Invalid("the Idempotency-Key was used with another request body",
						domain.FieldError{Field: "Idempotency-Key", Message: "was used with another request body"})
				}
				out = CreatedProduct{Product: rec.Product, Replayed: true}
				return nil
			}
		}
		p, err := tx.Products().Create(ctx, fields)
		if err != nil {
			return err
		}
		if _, err := requestReport(ctx, tx, p.ID, in.RequestedBy, in.RequestID); err != nil {
			return err
		}
		if in.IdempotencyKey != "" {
			rec := domain.IdempotencyRecord{Scope: in.RequestedBy, Key: in.IdempotencyKey,
				Fingerprint: fingerprint, Product: p, CreatedAt: c.now()}
			if err := tx.Idempotency().Save(ctx, rec); err != nil {
				return err
			}
		}
		out = CreatedProduct{Product: p}
		return nil
	})
	if err != nil {
		return CreatedProduct{}, fmt.Errorf("create product: %w", err)
	}
	return out, nil
}

// productFingerprint identifies a create request by its meaning, so the same
// body sent again (even re-serialized) matches.
func productFingerprint(f domain.ProductFields) string {
	h := sha256.New()
	fmt.Fprintf(h, "sku=%s\x00name=%s\x00description=%s\x00price=%d\x00stock=%d\x00category=%d",
		optional(f.SKU), f.Name, optional(f.Description), f.Price, f.Stock, f.CategoryID)
	return hex.EncodeToString(h.Sum(nil))
}

func optional(s *string) string {
	if s == nil {
		return "\x01null"
	}
	return "=" + *s
}

// GetProduct returns one product.
func (c *Catalog) GetProduct(ctx context.Context, id int64) (domain.Product, error) {
	return c.store.Products().Get(ctx, id)
}

// ListProducts returns one keyset page of products.
func (c *Catalog) ListProducts(ctx context.Context, q domain.ProductQuery) (domain.ProductPage, error) {
	if err := q.Validate(); err != nil {
		return domain.ProductPage{}, err
	}
	return c.store.Products().List(ctx, q)
}

// PatchProduct is the input of Catalog.PatchProduct.
type PatchProduct struct {
	ID      int64
	IfMatch *domain.ProductRevision // the revision the client saw; nil: apply to whatever is current
	Patch   ProductPatch
}

// PatchProduct applies a merge patch; a patch that changes nothing writes
// nothing and returns the product as it is. With IfMatch a change of the product
// or of its category since that revision is a KindPrecondition error;
// without it the patch is re-applied to the newer revision, as a client
// that sent no precondition expects.
func (c *Catalog) PatchProduct(ctx context.Context, in PatchProduct) (domain.Product, error) {
	return retryLostRace(in.IfMatch != nil, func() (domain.Product, error) {
		cur, err := c.store.Products().Get(ctx, in.ID)
		if err != nil {
			return domain.Product{}, err
		}
		// This check spares a doomed write; the one that counts is Update's,
		// made in the same step as the write.
		if in.IfMatch != nil && *in.IfMatch != cur.Revision() {
			return domain.Product{}, domain.PreconditionFailed("the product has changed since the given ETag")
		}
		fields, err := in.Patch.Apply(cur.Fields())
		if err != nil {
			return domain.Product{}, err
		}
		fields = fields.Normalize()
		if err := fields.Validate(); err != nil {
			return domain.Product{}, err
		}
		if fields.Equal(cur.Fields()) {
			// An empty patch, or one that sets what is already there,
			// changes nothing: no write, no new version.
			return cur, nil
		}
		p, err := c.store.Products().Update(ctx, in.ID, cur.Revision(), fields)
		if err != nil {
			return domain.Product{}, fmt.Errorf("patch product %d: %w", in.ID, err)
		}
		return p, nil
	})
}

// retryLostRace runs attempt, one read-patch-write, again while its write
// loses a race with another writer (a precondition failure), at most
// maxPatchRetries more times. A conditional patch (If-Match) is not
// retried: the client named the revision it saw, and the newer one is its
// 412.
func retryLostRace[T any](conditional bool, attempt func() (T, error)) (T, error) {
	for n := 0; ; n++ {
		v, err := attempt()
		if domain.KindOf(err) == domain.KindPrecondition && !conditional && n < maxPatchRetries {
			continue
		}
		return v, err
	}
}

// DeleteProduct removes a product and its reports.
func (c *Catalog) DeleteProduct(ctx context.Context, id int64) error {
	return c.store.Products().Delete(ctx, id)
}

// CreateCategory inserts a category.
func (c *Catalog) CreateCategory(ctx context.Context, f domain.CategoryFields) (domain.Category, error) {
	f = f.Normalize()
	if err := f.Validate(); err != nil {
		return domain.Category{}, err
	}
	return c.store.Categories().Create(ctx, f)
}

// GetCategory returns one category.
func (c *Catalog) GetCategory(ctx context.Context, id int64) (domain.Category, error) {
	return c.store.Categories().Get(ctx, id)
}

// ListCategories returns one keyset page of categories, by id.
func (c *Catalog) ListCategories(ctx context.Context, q domain.CategoryQuery) (domain.CategoryPage, error) {
	if err := q.Validate(); err != nil {
		return domain.CategoryPage{}, err
	}
	return c.store.Categories().List(ctx, q)
}

// PatchCategory is the input of Catalog.PatchCategory.
type PatchCategory struct {
	ID      int64
	IfMatch *int64
	Patch   CategoryPatch
}

// PatchCategory applies a merge patch to a category, like PatchProduct.
func (c *Catalog) PatchCategory(ctx context.Context, in PatchCategory) (domain.Category, error) {
	return retryLostRace(in.IfMatch != nil, func() (domain.Category, error) {
		cur, err := c.store.Categories().Get(ctx, in.ID)
		if err != nil {
			return domain.Category{}, err
		}
		if in.IfMatch != nil && *in.IfMatch != cur.Version {
			return domain.Category{}, domain.PreconditionFailed("the category has changed since the given ETag")
		}
		fields, err := in.Patch.Apply(domain.CategoryFields{Name: cur.Name})
		if err != nil {
			return domain.Category{}, err
		}
		fields = fields.Normalize()
		if err := fields.Validate(); err != nil {
			return domain.Category{}, err
		}
		if fields.Name == cur.Name {
			return cur, nil // as PatchProduct: nothing changes
		}
		cat, err := c.store.Categories().Update(ctx, in.ID, cur.Version, fields)
		if err != nil {
			return domain.Category{}, fmt.Errorf("patch category %d: %w", in.ID, err)
		}
		return cat, nil
	})
}

// DeleteCategory removes a category no product uses.
func (c *Catalog) DeleteCategory(ctx context.Context, id int64) error {
	return c.store.Categories().Delete(ctx, id)
}
