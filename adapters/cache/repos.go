package cache

import (
	"context"

	"github.com/etalase/etalase/domain"
)

// productRepo caches reads of products when s is set (outside a
// transaction) and passes every write through, then calls after with what
// the write retires.
type productRepo struct {
	s     *Store
	inner domain.ProductRepository
	after func(context.Context, []string) error
}

var _ domain.ProductRepository = (*productRepo)(nil)

func (r *productRepo) Get(ctx context.Context, id int64) (domain.Product, error) {
	return cached(ctx, r.s, productKey(id), productDeps(id),
		func(ctx context.Context) (domain.Product, error) { return r.inner.Get(ctx, id) },
		encodeProduct, decodeProduct)
}

func (r *productRepo) List(ctx context.Context, q domain.ProductQuery) (domain.ProductPage, error) {
	return cached(ctx, r.s, productListKey(q), productListDeps(),
		func(ctx context.Context) (domain.ProductPage, error) { return r.inner.List(ctx, q) },
		encodeProductPage, decodeProductPage)
}

func (r *productRepo) Create(ctx context.Context, f domain.ProductFields) (domain.Product, error) {
	p, err := r.inner.Create(ctx, f)
	return p, invalidated(ctx, r.after, productWritten(p.ID), err)
}

// Update also retires the item when the revision did not match: the caller
// read an old one (from the cache, during another writer's invalidation)
// and will read again.
func (r *productRepo) Update(ctx context.Context, id int64, seen domain.ProductRevision, f domain.ProductFields) (domain.Product, error) {
	p, err := r.inner.Update(ctx, id, seen, f)
	return p, invalidated(ctx, r.after, productWritten(id), err)
}

func (r *productRepo) Delete(ctx context.Context, id int64) error {
	return invalidated(ctx, r.after, productWritten(id), r.inner.Delete(ctx, id))
}

// categoryRepo is productRepo for categories. A category write also
// retires every product entry, since products carry the category's name.
type categoryRepo struct {
	s     *Store
	inner domain.CategoryRepository
	after func(context.Context, []string) error
}

var _ domain.CategoryRepository = (*categoryRepo)(nil)

func (r *categoryRepo) Get(ctx context.Context, id int64) (domain.Category, error) {
	return cached(ctx, r.s, categoryKey(id), categoryDeps(id),
		func(ctx context.Context) (domain.Category, error) { return r.inner.Get(ctx, id) },
		encodeCategory, decodeCategory)
}

func (r *categoryRepo) List(ctx context.Context, q domain.CategoryQuery) (domain.CategoryPage, error) {
	return cached(ctx, r.s, categoryListKey(q), categoryListDeps(),
		func(ctx context.Context) (domain.CategoryPage, error) { return r.inner.List(ctx, q) },
		encodeCategoryPage, decodeCategoryPage)
}

func (r *categoryRepo) Create(ctx context.Context, f domain.CategoryFields) (domain.Category, error) {
	c, err := r.inner.Create(ctx, f)
	return c, invalidated(ctx, r.after, categoryWritten(c.ID), err)
}

func (r *categoryRepo) Update(ctx context.Context, id, version int64, f domain.CategoryFields) (domain.Category, error) {
	c, err := r.inner.Update(ctx, id, version, f)
	return c, invalidated(ctx, r.after, categoryWritten(id), err)
}

func (r *categoryRepo) Delete(ctx context.Context, id int64) error {
	return invalidated(ctx, r.after, categoryWritten(id), r.inner.Delete(ctx, id))
}
