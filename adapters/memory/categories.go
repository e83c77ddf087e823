package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/etalase/etalase/domain"
)

var _ domain.CategoryRepository = categories{}

// categories is the CategoryRepository of a Store.
type categories struct{ s *Store }

func (r categories) Get(ctx context.Context, id int64) (domain.Category, error) {
	var c domain.Category
	err := r.s.do(ctx, func(st *state) error {
		var ok bool
		if c, ok = st.categories[id]; !ok {
			return domain.NotFound("category %d not found", id)
		}
		return nil
	})
	return c, err
}

// List returns a keyset page of categories ordered by id.
func (r categories) List(ctx context.Context, q domain.CategoryQuery) (domain.CategoryPage, error) {
	if err := q.Validate(); err != nil {
		return domain.CategoryPage{}, err
	}
	var page domain.CategoryPage
	err := r.s.do(ctx, func(st *state) error {
		var rows []domain.Category
		for _, c := range st.categories {
			if q.After == nil || c.ID > q.After.ID {
				rows = append(rows, c)
			}
		}
		slices.SortFunc(rows, func(a, b domain.Category) int { return cmp.Compare(a.ID, b.ID) })
		if len(rows) > q.Limit {
			rows = rows[:q.Limit]
			page.Next = &domain.Cursor{Sort: string(domain.SortByID), ID: rows[len(rows)-1].ID}
		}
		page.Items = rows
		if page.Items == nil {
			page.Items = []domain.Category{}
		}
		return nil
	})
	return page, err
}

func (r categories) Create(ctx context.Context, f domain.CategoryFields) (domain.Category, error) {
	var c domain.Category
	err := r.s.do(ctx, func(st *state) error {
		if err := st.checkCategoryName(0, f.Name); err != nil {
			return err
		}
		st.lastCategory++
		t := r.s.now()
		c = domain.Category{ID: st.lastCategory, Name: f.Name, Version: 1, CreatedAt: t, UpdatedAt: t}
		st.categories[c.ID] = c
		return nil
	})
	return c, err
}

func (r categories) Update(ctx context.Context, id, version int64, f domain.CategoryFields) (domain.Category, error) {
	var c domain.Category
	err := r.s.do(ctx, func(st *state) error {
		cur, ok := st.categories[id]
		if !ok {
			return domain.NotFound("category %d not found", id)
		}
		if cur.Version != version {
			return domain.PreconditionFailed("the category has changed since the given version")
		}
		if err := st.checkCategoryName(id, f.Name); err != nil {
			return err
		}
		c = domain.Category{ID: id, Name: f.Name, Version: cur.Version + 1, CreatedAt: cur.CreatedAt, UpdatedAt: r.s.now()}
		st.categories[id] = c
		return nil
	})
	return c, err
}

// checkCategoryName enforces the unique index on lower(name).
func (st *state) checkCategoryName(id int64, name string) error {
	for _, o := range st.categories {
		if o.ID != id && strings.EqualFold(o.Name, name) {
			return domain.Conflict("a category with this name already exists",
				domain.FieldError{Field: "name", Message: "is already used by another category"})
		}
	}
	return nil
}

// Delete removes a category that no product uses.
func (r categories) Delete(ctx context.Context, id int64) error {
	return r.s.do(ctx, func(st *state) error {
		if _, ok := st.categories[id]; !ok {
			return domain.NotFound("category %d not found", id)
		}
		for _, p := range st.products {
			if p.CategoryID == id {
				return domain.Conflict("the category still has products")
			}
		}
		delete(st.categories, id)
		return nil
	})
}
