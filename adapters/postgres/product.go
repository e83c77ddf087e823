package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/domain"
)

// ProductRepo stores products in table products; every read joins the
// category for its name and version.
type ProductRepo struct {
	db querier
}

var _ domain.ProductRepository = (*ProductRepo)(nil)

// productColumns is the select list productRow scans, over products p
// joined with categories c.
const productColumns = `p.id, p.sku, p.name, p.description, p.price_cents, p.stock,
	p.category_id, c.name, c.version, p.version, p.created_at, p.updated_at`

// productRow is a row of products with its category's name and version.
type productRow struct {
	ID              int64
	SKU             *string
	Name            string
	Description     *string
	PriceCents      int64
	Stock           int64
	CategoryID      int64
	CategoryName    string
	CategoryVersion int64
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func scanProduct(row pgx.Row) (productRow, error) {
	var r productRow
	err := row.Scan(r.dest()...)
	return r, err
}

// dest is where a row of productColumns scans to.
func (r *productRow) dest() []any {
	return []any{&r.ID, &r.SKU, &r.Name, &r.Description, &r.PriceCents, &r.Stock,
		&r.CategoryID, &r.CategoryName, &r.CategoryVersion, &r.Version, &r.CreatedAt, &r.UpdatedAt}
}

func (r productRow) toDomain() domain.Product {
	return domain.Product{
		ID:              r.ID,
		SKU:             r.SKU,
		Name:            r.Name,
		Description:     r.Description,
		Price:           domain.Price(r.PriceCents),
		Stock:           r.Stock,
		CategoryID:      r.CategoryID,
		CategoryName:    r.CategoryName,
		CategoryVersion: r.CategoryVersion,
		Version:         r.Version,
		CreatedAt:       r.CreatedAt.UTC(),
		UpdatedAt:       r.UpdatedAt.UTC(),
	}
}

// productFieldsArgs returns the writable fields in the order the INSERT and
// UPDATE statements below name them.
func productFieldsArgs(f domain.ProductFields) []any {
	return []any{f.SKU, f.Name, f.Description, int64(f.Price), f.Stock, f.CategoryID}
}

// Get returns the product with id.
func (r *ProductRepo) Get(ctx context.Context, id int64) (domain.Product, error) {
	const q = `SELECT ` + productColumns + `
		FROM products p JOIN categories c ON c.id = p.category_id
		WHERE p.id = $1`
	row, err := scanProduct(r.db.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Product{}, domain.NotFound("product %d does not exist", id)
	}
	if err != nil {
		return domain.Product{}, mapError("postgres: get product", err)
	}
	return row.toDomain(), nil
}

// insertProduct inserts a product from productFieldsArgs ($1 to $6) and
// returns its row: Create and CreateProductWithReport join it to its
// category.
const insertProduct = `INSERT INTO products (sku, name, description, price_cents, stock, category_id)
			VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING *`

// Create inserts a product at version 1.
func (r *ProductRepo) Create(ctx context.Context, f domain.ProductFields) (domain.Product, error) {
	const q = `WITH p AS (
			` + insertProduct + `)
		SELECT ` + productColumns + `
		FROM p JOIN categories c ON c.id = p.category_id`
	row, err := scanProduct(r.db.QueryRow(ctx, q, productFieldsArgs(f)...))
	if err != nil {
		return domain.Product{}, productWriteError("postgres: create product", err)
	}
	return row.toDomain(), nil
}

// CreateProductWithReport inserts a product and its first queued report in
// one statement, which commits both or neither: a creation costs one round
// trip instead of four (BEGIN, two inserts, COMMIT). The errors are
// Create's; the report's insert cannot fail on its own, its product being
// the row just inserted. Concurrent creations outside a transaction share a
// statement (product_batch.go).
func (s *Store) CreateProductWithReport(ctx context.Context, f domain.ProductFields, requestedBy, requestID string) (domain.Product, domain.Report, error) {
	c := creation{fields: f, requestedBy: requestedBy, requestID: requestID}
	var (
		out created
		err error
	)
	if s.creates != nil && !s.inTx {
		out, err = s.creates.do(ctx, c)
	} else {
		out, err = createAlone(ctx, s.db, c)
	}
	if err == nil && !out.ok {
		// The category was deleted while the row was written.
		err = productWriteError("postgres: create product", pgx.ErrNoRows)
	}
	if err != nil {
		return domain.Product{}, domain.Report{}, err
	}
	s.jobQueued()
	report, err := out.report.toDomain()
	if err != nil {
		return domain.Product{}, domain.Report{}, err
	}
	return out.product.toDomain(), report, nil
}

// creation is one CreateProductWithReport.
type creation struct {
	fields                 domain.ProductFields
	requestedBy, requestID string
}

// created is a creation's rows; ok is false when its category was not
// there to join.
type created struct {
	product productRow
	report  reportRow
	ok      bool
}

// createAlone runs one creation's statement.
func createAlone(ctx context.Context, db querier, c creation) (created, error) {
	const q = `WITH p AS (
			` + insertProduct + `),
		r AS (
			INSERT INTO reports (product_id, requested_by, request_id)
			SELECT id, $7, nullif($8, '') FROM p
			RETURNING ` + reportColumns + `)
		SELECT ` + productColumns + `, r.*
		FROM p JOIN categories c ON c.id = p.category_id, r`
	var out created
	args := append(productFieldsArgs(c.fields), c.requestedBy, c.requestID)
	err := db.QueryRow(ctx, q, args...).Scan(append(out.product.dest(), out.report.dest()...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, productWriteError("postgres: create product", err)
	}
	out.ok = true
	return out, nil
}

// Update replaces the writable fields of product id if it still shows the
// revision seen, and moves it to the next version.
//
// The category's version is checked by the UPDATE itself, like the
// product's, not against the read the caller made before: a rename that
// commits between that read and this statement would otherwise pass, and
// the answer (joined in this statement) would show the new name under a
// precondition that named the old one. In one statement the check and the
// answer see one snapshot: a rename committed before it fails the check; one
// committed after it is ordered after this write, which then rightly shows
// the old name. The subquery reads the category the row had before this
// update (the one the client saw), not the one a patch moves it to.
func (r *ProductRepo) Update(ctx context.Context, id int64, seen domain.ProductRevision, f domain.ProductFields) (domain.Product, error) {
	const q = `WITH p AS (
			UPDATE products
			SET sku = $4, name = $5, description = $6, price_cents = $7, stock = $8, category_id = $9,
				version = version + 1, updated_at = now()
			WHERE id = $1 AND version = $2
				AND (SELECT version FROM categories WHERE id = products.category_id) = $3
			RETURNING *)
		SELECT ` + productColumns + `
		FROM p JOIN categories c ON c.id = p.category_id`
	args := append([]any{id, seen.Version, seen.CategoryVersion}, productFieldsArgs(f)...)
	row, err := scanProduct(r.db.QueryRow(ctx, q, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Product{}, r.missedUpdate(ctx, id)
	}
	if err != nil {
		return domain.Product{}, productWriteError("postgres: update product", err)
	}
	return row.toDomain(), nil
}

// missedUpdate tells why an update matched no row: the product is gone, or
// it or its category has moved past the revision the caller saw.
func (r *ProductRepo) missedUpdate(ctx context.Context, id int64) error {
	const q = `SELECT version FROM products WHERE id = $1`
	var current int64
	err := r.db.QueryRow(ctx, q, id).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.NotFound("product %d does not exist", id)
	}
	if err != nil {
		return mapError("postgres: update product", err)
	}
	return domain.PreconditionFailed("the product has changed since it was read")
}

// productWriteError maps the errors of an insert or update of a product.
func productWriteError(op string, err error) error {
	if isCode(err, codeForeignKeyViolation) || errors.Is(err, pgx.ErrNoRows) {
		// The category does not exist (or was deleted while the row was written).
		return &domain.Error{Kind: domain.KindInvalid, Detail: "the request has invalid fields",
			Fields: []domain.FieldError{{Field: "categoryId", Message: "does not name a category"}}, Err: err}
	}
	return mapError(op, err)
}

// Delete removes product id and, by cascade, its reports.
func (r *ProductRepo) Delete(ctx context.Context, id int64) error {
	const q = `DELETE FROM products WHERE id = $1`
	tag, err := r.db.Exec(ctx, q, id)
	if err != nil {
		return mapError("postgres: delete product", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.NotFound("product %d does not exist", id)
	}
	return nil
}
