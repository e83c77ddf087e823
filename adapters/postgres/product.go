package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/domain"
)

// ProductRepo stores products in table products; every read joins the
// category for its name.
type ProductRepo struct {
	db querier
}

var _ domain.ProductRepository = (*ProductRepo)(nil)

// productColumns is the select list productRow scans, over products p
// joined with categories c.
const productColumns = `p.id, p.sku, p.name, p.description, p.price_cents, p.stock,
	p.category_id, c.name, p.version, p.created_at, p.updated_at`

// productRow is a row of products with its category's name.
type productRow struct {
	ID           int64
	SKU          *string
	Name         string
	Description  *string
	PriceCents   int64
	Stock        int64
	CategoryID   int64
	CategoryName string
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func scanProduct(row pgx.Row) (productRow, error) {
	var r productRow
	err := row.Scan(&r.ID, &r.SKU, &r.Name, &r.Description, &r.PriceCents, &r.Stock,
		&r.CategoryID, &r.CategoryName, &r.Version, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

func (r productRow) toDomain() domain.Product {
	return domain.Product{
		ID:           r.ID,
		SKU:          r.SKU,
		Name:         r.Name,
		Description:  r.Description,
		Price:        domain.Price(r.PriceCents),
		Stock:        r.Stock,
		CategoryID:   r.CategoryID,
		CategoryName: r.CategoryName,
		Version:      r.Version,
		CreatedAt:    r.CreatedAt.UTC(),
		UpdatedAt:    r.UpdatedAt.UTC(),
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

// Create inserts a product at version 1.
func (r *ProductRepo) Create(ctx context.Context, f domain.ProductFields) (domain.Product, error) {
	const q = `WITH p AS (
			INSERT INTO products (sku, name, description, price_cents, stock, category_id)
			VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING *)
		SELECT ` + productColumns + `
		FROM p JOIN categories c ON c.id = p.category_id`
	row, err := scanProduct(r.db.QueryRow(ctx, q, productFieldsArgs(f)...))
	if err != nil {
		return domain.Product{}, productWriteError("postgres: create product", err)
	}
	return row.toDomain(), nil
}

// Update replaces the writable fields of product id if it is still at
// version, and moves it to the next version.
func (r *ProductRepo) Update(ctx context.Context, id, version int64, f domain.ProductFields) (domain.Product, error) {
	const q = `WITH p AS (
			UPDATE products
			SET sku = $3, name = $4, description = $5, price_cents = $6, stock = $7, category_id = $8,
				version = version + 1, updated_at = now()
			WHERE id = $1 AND version = $2
			RETURNING *)
		SELECT ` + productColumns + `
		FROM p JOIN categories c ON c.id = p.category_id`
	args := append([]any{id, version}, productFieldsArgs(f)...)
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
// it has moved past the version the caller saw.
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

// The parts of a product list query. Each sort has its keyset condition
// (rows strictly after the cursor in the sort's direction) and its ORDER BY,
// both on (sort column, id) so an index serves them; %s is the place of the
// cursor's key, %d of its id.
const (
	listProducts = `SELECT ` + productColumns + `
		FROM products p JOIN categories c ON c.id = p.category_id`
	filterCategory = `p.category_id = `
	filterName     = `lower(p.name) LIKE '%%' || lower(%s) || '%%' ESCAPE '\'`
)

type productOrder struct {
	after   string // keyset condition; %[1]s: key placeholder, %[2]s: id placeholder
	orderBy string
}

var productOrders = map[domain.Sort]productOrder{
	{Field: domain.SortByID}:                    {`p.id > %[2]s`, `p.id`},
	{Field: domain.SortByID, Desc: true}:        {`p.id < %[2]s`, `p.id DESC`},
	{Field: domain.SortByName}:                  {`(p.name COLLATE "C", p.id) > (%[1]s, %[2]s)`, `p.name COLLATE "C", p.id`},
	{Field: domain.SortByName, Desc: true}:      {`(p.name COLLATE "C", p.id) < (%[1]s, %[2]s)`, `p.name COLLATE "C" DESC, p.id DESC`},
	{Field: domain.SortByPrice}:                 {`(p.price_cents, p.id) > (%[1]s, %[2]s)`, `p.price_cents, p.id`},
	{Field: domain.SortByPrice, Desc: true}:     {`(p.price_cents, p.id) < (%[1]s, %[2]s)`, `p.price_cents DESC, p.id DESC`},
	{Field: domain.SortByCreatedAt}:             {`(p.created_at, p.id) > (%[1]s, %[2]s)`, `p.created_at, p.id`},
	{Field: domain.SortByCreatedAt, Desc: true}: {`(p.created_at, p.id) < (%[1]s, %[2]s)`, `p.created_at DESC, p.id DESC`},
}

// List returns one keyset page: rows after q.After in q.Sort's order,
// filtered by category and name. It reads one row more than the page to
// know whether a next page exists.
func (r *ProductRepo) List(ctx context.Context, q domain.ProductQuery) (domain.ProductPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = domain.DefaultPageSize
	}
	sql, args, err := listProductsQuery(q, limit+1)
	if err != nil {
		return domain.ProductPage{}, err
	}
	rows, err := r.db.Query(ctx, sql, args...)
	if err != nil {
		return domain.ProductPage{}, mapError("postgres: list products", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Product, error) {
		p, err := scanProduct(row)
		return p.toDomain(), err
	})
	if err != nil {
		return domain.ProductPage{}, mapError("postgres: list products", err)
	}
	page := domain.ProductPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.Next = &domain.Cursor{Sort: q.Sort.String(), Key: sortKey(q.Sort.Field, last), ID: last.ID}
	}
	return page, nil
}

// listProductsQuery assembles the list statement of q from the constant
// parts above, reading at most fetch rows, and returns it with its
// arguments. Values only ever travel as arguments.
func listProductsQuery(q domain.ProductQuery, fetch int) (string, []any, error) {
	order, ok := productOrders[q.Sort]
	if !ok {
		return "", nil, domain.Invalid("bad sort", domain.FieldError{Field: "sort", Message: "is not a sort this list knows"})
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var where []string
	if q.CategoryID != 0 {
		where = append(where, filterCategory+arg(q.CategoryID))
	}
	if q.Q != "" {
		where = append(where, fmt.Sprintf(filterName, arg(escapeLike(q.Q))))
	}
	if q.After != nil {
		key, err := cursorKey(q.Sort.Field, q.After.Key)
		if err != nil {
			return "", nil, err
		}
		keyPlaceholder := ""
		if key != nil {
			keyPlaceholder = arg(key)
		}
		where = append(where, fmt.Sprintf(order.after, keyPlaceholder, arg(q.After.ID)))
	}
	var sql strings.Builder
	sql.WriteString(listProducts)
	if len(where) > 0 {
		sql.WriteString("\n\t\tWHERE ")
		sql.WriteString(strings.Join(where, " AND "))
	}
	sql.WriteString("\n\t\tORDER BY ")
	sql.WriteString(order.orderBy)
	sql.WriteString("\n\t\tLIMIT ")
	sql.WriteString(arg(fetch))
	return sql.String(), args, nil
}

// sortKey is the textual form of p's value of the sort field, as a cursor
// carries it.
func sortKey(f domain.SortField, p domain.Product) string {
	switch f {
	case domain.SortByName:
		return p.Name
	case domain.SortByPrice:
		return strconv.FormatInt(int64(p.Price), 10)
	case domain.SortByCreatedAt:
		return p.CreatedAt.UTC().Format(time.RFC3339Nano)
	default:
		return ""
	}
}

// cursorKey parses a cursor's key for the sort field: the name, the price in
// cents, the creation time. Sorting by id has no key (nil).
func cursorKey(f domain.SortField, key string) (any, error) {
	bad := domain.Invalid("bad cursor", domain.FieldError{Field: "cursor", Message: "is not a cursor this service issued"})
	switch f {
	case domain.SortByName:
		return key, nil
	case domain.SortByPrice:
		cents, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return nil, bad
		}
		return cents, nil
	case domain.SortByCreatedAt:
		t, err := time.Parse(time.RFC3339Nano, key)
		if err != nil {
			return nil, bad
		}
		return t, nil
	default:
		if key != "" {
			return nil, bad
		}
		return nil, nil
	}
}

// escapeLike makes s match itself literally inside a LIKE pattern whose
// escape character is the backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
