package memory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/etalase/etalase/domain"
)

var _ domain.ProductRepository = products{}

// products is the ProductRepository of a Store.
type products struct{ s *Store }

func (r products) Get(ctx context.Context, id int64) (domain.Product, error) {
	var p domain.Product
	err := r.s.do(ctx, func(st *state) error {
		var err error
		p, err = st.product(id)
		return err
	})
	return p, err
}

// product returns a product with its category's name and version filled.
func (st *state) product(id int64) (domain.Product, error) {
	p, ok := st.products[id]
	if !ok {
		return domain.Product{}, domain.NotFound("product %d not found", id)
	}
	return st.withCategory(p), nil
}

func (st *state) withCategory(p domain.Product) domain.Product {
	c := st.categories[p.CategoryID]
	p.CategoryName, p.CategoryVersion = c.Name, c.Version
	return p
}

func (r products) List(ctx context.Context, q domain.ProductQuery) (domain.ProductPage, error) {
	if err := q.Validate(); err != nil {
		return domain.ProductPage{}, err
	}
	var after *domain.Product
	if q.After != nil {
		p, err := q.After.Position(q.Sort.Field)
		if err != nil {
			return domain.ProductPage{}, err
		}
		after = &p
	}
	needle := strings.ToLower(q.Q)
	var page domain.ProductPage
	err := r.s.do(ctx, func(st *state) error {
		var rows []domain.Product
		for _, p := range st.products {
			if q.CategoryID != 0 && p.CategoryID != q.CategoryID {
				continue
			}
			if needle != "" && !strings.Contains(strings.ToLower(p.Name), needle) {
				continue
			}
			if after != nil && q.Sort.Compare(p, *after) <= 0 {
				continue
			}
			rows = append(rows, p)
		}
		slices.SortFunc(rows, q.Sort.Compare)
		if len(rows) > q.Limit {
			rows = rows[:q.Limit]
			last := rows[len(rows)-1]
			next := q.Sort.CursorAt(last)
			page.Next = &next
		}
		page.Items = make([]domain.Product, len(rows))
		for i, p := range rows {
			page.Items[i] = st.withCategory(p)
		}
		return nil
	})
	return page, err
}

func (r products) Create(ctx context.Context, f domain.ProductFields) (domain.Product, error) {
	var p domain.Product
	err := r.s.do(ctx, func(st *state) error {
		if err := st.checkProduct(0, f); err != nil {
			return err
		}
		st.lastProduct++
		t := r.s.now()
		p = product(st.lastProduct, f, 1, t, t)
		st.products[p.ID] = p
		p = st.withCategory(p)
		return nil
	})
	return p, err
}

func (r products) Update(ctx context.Context, id int64, seen domain.ProductRevision, f domain.ProductFields) (domain.Product, error) {
	var p domain.Product
	err := r.s.do(ctx, func(st *state) error {
		cur, ok := st.products[id]
		if !ok {
			return domain.NotFound("product %d not found", id)
		}
		if st.withCategory(cur).Revision() != seen {
			return domain.PreconditionFailed("the product has changed since the given revision")
		}
		if err := st.checkProduct(id, f); err != nil {
			return err
		}
		p = product(id, f, cur.Version+1, cur.CreatedAt, r.s.now())
		st.products[id] = p
		p = st.withCategory(p)
		return nil
	})
	return p, err
}

// product builds a stored product; it copies the optional strings so the
// caller's pointers never alias the store's values.
func product(id int64, f domain.ProductFields, version int64, created, updated time.Time) domain.Product {
	return domain.Product{
		ID:          id,
		SKU:         clonePtr(f.SKU),
		Name:        f.Name,
		Description: clonePtr(f.Description),
		Price:       f.Price,
		Stock:       f.Stock,
		CategoryID:  f.CategoryID,
		Version:     version,
		CreatedAt:   created,
		UpdatedAt:   updated,
	}
}

// checkProduct enforces what PostgreSQL's constraints enforce: an existing
// category and a unique sku among the other products.
func (st *state) checkProduct(id int64, f domain.ProductFields) error {
	if _, ok := st.categories[f.CategoryID]; !ok {
		return domain.Invalid("the category does not exist",
			domain.FieldError{Field: "categoryId", Message: "does not name an existing category"})
	}
	if f.SKU != nil {
		for _, o := range st.products {
			if o.ID != id && o.SKU != nil && *o.SKU == *f.SKU {
				return domain.Conflict("a product with this sku already exists",
					domain.FieldError{Field: "sku", Message: "is already used by another product"})
			}
		}
	}
	return nil
}

// Delete removes the product and its reports.
func (r products) Delete(ctx context.Context, id int64) error {
	return r.s.do(ctx, func(st *state) error {
		if _, ok := st.products[id]; !ok {
			return domain.NotFound("product %d not found", id)
		}
		delete(st.products, id)
		for rid, rep := range st.reports {
			if rep.ProductID == id {
				delete(st.reports, rid)
			}
		}
		return nil
	})
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
