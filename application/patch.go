package application

import "github.com/etalase/etalase/domain"

// Field is one member of a JSON merge patch: Set says whether the patch
// names the field at all, Null whether it names it as null.
type Field[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// ProductPatch is a JSON merge patch of a product's writable fields.
type ProductPatch struct {
	SKU         Field[string]
	Name        Field[string]
	Description Field[string]
	Price       Field[domain.Price]
	Stock       Field[int64]
	CategoryID  Field[int64]
}

// Apply returns f with the patch applied. Null is allowed only for the
// nullable fields (sku, description); elsewhere it is listed as invalid.
func (p ProductPatch) Apply(f domain.ProductFields) (domain.ProductFields, error) {
	var errs domain.FieldErrors
	f.SKU = applyNullable(p.SKU, f.SKU)
	f.Description = applyNullable(p.Description, f.Description)
	applyRequired(&errs, "name", p.Name, &f.Name)
	applyRequired(&errs, "price", p.Price, &f.Price)
	applyRequired(&errs, "stock", p.Stock, &f.Stock)
	applyRequired(&errs, "categoryId", p.CategoryID, &f.CategoryID)
	return f, errs.Err()
}

// CategoryPatch is a JSON merge patch of a category.
type CategoryPatch struct {
	Name Field[string]
}

// Apply returns f with the patch applied.
func (p CategoryPatch) Apply(f domain.CategoryFields) (domain.CategoryFields, error) {
	var errs domain.FieldErrors
	applyRequired(&errs, "name", p.Name, &f.Name)
	return f, errs.Err()
}

func applyNullable(p Field[string], cur *string) *string {
	switch {
	case !p.Set:
		return cur
	case p.Null:
		return nil
	default:
		v := p.Value
		return &v
	}
}

func applyRequired[T any](errs *domain.FieldErrors, name string, p Field[T], dst *T) {
	switch {
	case !p.Set:
	case p.Null:
		errs.Add(name, "must not be null")
	default:
		*dst = p.Value
	}
}
