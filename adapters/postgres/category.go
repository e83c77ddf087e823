package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/domain"
)

// CategoryRepo stores categories in table categories.
type CategoryRepo struct {
	db querier
}

var _ domain.CategoryRepository = (*CategoryRepo)(nil)

// categoryColumns is the select list categoryRow scans.
const categoryColumns = `id, name, version, created_at, updated_at`

// categoryRow is a row of categories.
type categoryRow struct {
	ID        int64
	Name      string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

func scanCategory(row pgx.Row) (categoryRow, error) {
	var r categoryRow
	err := row.Scan(&r.ID, &r.Name, &r.Version, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

func (r categoryRow) toDomain() domain.Category {
	return domain.Category{
		ID:        r.ID,
		Name:      r.Name,
		Version:   r.Version,
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// Get returns the category with id.
func (r *CategoryRepo) Get(ctx context.Context, id int64) (domain.Category, error) {
	const q = `SELECT ` + categoryColumns + ` FROM categories WHERE id = $1`
	row, err := scanCategory(r.db.QueryRow(ctx, q, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Category{}, domain.NotFound("category %d does not exist", id)
	}
	if err != nil {
		return domain.Category{}, mapError("postgres: get category", err)
	}
	return row.toDomain(), nil
}

// List returns one page of categories by id, after q.After.
func (r *CategoryRepo) List(ctx context.Context, q domain.CategoryQuery) (domain.CategoryPage, error) {
	const sql = `SELECT ` + categoryColumns + ` FROM categories
		WHERE id > $1
		ORDER BY id
		LIMIT $2`
	limit := q.Limit
	if limit <= 0 {
		limit = domain.DefaultPageSize
	}
	var after int64
	if q.After != nil {
		if q.After.Key != "" {
			return domain.CategoryPage{}, domain.Invalid("bad cursor",
				domain.FieldError{Field: "cursor", Message: "is not a cursor this service issued"})
		}
		after = q.After.ID
	}
	rows, err := r.db.Query(ctx, sql, after, limit+1)
	if err != nil {
		return domain.CategoryPage{}, mapError("postgres: list categories", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.Category, error) {
		c, err := scanCategory(row)
		return c.toDomain(), err
	})
	if err != nil {
		return domain.CategoryPage{}, mapError("postgres: list categories", err)
	}
	page := domain.CategoryPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.Next = &domain.Cursor{Sort: string(domain.SortByID), ID: page.Items[limit-1].ID}
	}
	return page, nil
}

// Create inserts a category at version 1.
func (r *CategoryRepo) Create(ctx context.Context, f domain.CategoryFields) (domain.Category, error) {
	const q = `INSERT INTO categories (name) VALUES ($1) RETURNING ` + categoryColumns
	row, err := scanCategory(r.db.QueryRow(ctx, q, f.Name))
	if err != nil {
		return domain.Category{}, mapError("postgres: create category", err)
	}
	return row.toDomain(), nil
}

// Update renames category id if it is still at version, and moves it to the
// next version.
func (r *CategoryRepo) Update(ctx context.Context, id, version int64, f domain.CategoryFields) (domain.Category, error) {
	const q = `UPDATE categories
		SET name = $3, version = version + 1, updated_at = now()
		WHERE id = $1 AND version = $2
		RETURNING ` + categoryColumns
	row, err := scanCategory(r.db.QueryRow(ctx, q, id, version, f.Name))
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Category{}, r.missedUpdate(ctx, id)
	}
	if err != nil {
		return domain.Category{}, mapError("postgres: update category", err)
	}
	return row.toDomain(), nil
}

// missedUpdate tells why an update matched no row.
func (r *CategoryRepo) missedUpdate(ctx context.Context, id int64) error {
	const q = `SELECT version FROM categories WHERE id = $1`
	var current int64
	err := r.db.QueryRow(ctx, q, id).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.NotFound("category %d does not exist", id)
	}
	if err != nil {
		return mapError("postgres: update category", err)
	}
	return domain.PreconditionFailed("the category has changed since it was read")
}

// Delete removes category id; a category that products use stays.
func (r *CategoryRepo) Delete(ctx context.Context, id int64) error {
	const q = `DELETE FROM categories WHERE id = $1`
	tag, err := r.db.Exec(ctx, q, id)
	if isCode(err, codeForeignKeyViolation) {
		e := domain.Conflict("category is in use")
		e.Err = err
		return e
	}
	if err != nil {
		return mapError("postgres: delete category", err)
	}
	if tag.RowsAffected() == 0 {
		return domain.NotFound("category %d does not exist", id)
	}
	return nil
}
