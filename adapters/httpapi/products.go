package httpapi

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// HeaderIdempotencyKey names a keyed create; HeaderIdempotentReplayed marks
// a response replayed from an earlier request with the same key.
const (
	HeaderIdempotencyKey     = "Idempotency-Key"
	headerIdempotentReplayed = "Idempotent-Replayed"
	maxIdempotencyKey        = 255
)

// categoryRefJSON is the category embedded in a product.
type categoryRefJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// productJSON is a product as the API shows it.
type productJSON struct {
	ID          int64           `json:"id"`
	SKU         *string         `json:"sku"`
	Name        string          `json:"name"`
	Description *string         `json:"description"`
	Price       string          `json:"price"`
	Stock       int64           `json:"stock"`
	CategoryID  int64           `json:"categoryId"`
	Category    categoryRefJSON `json:"category"`
	Version     int64           `json:"version"`
	CreatedAt   string          `json:"createdAt"`
	UpdatedAt   string          `json:"updatedAt"`
}

// productListJSON is a page of products.
type productListJSON struct {
	Data       []productJSON `json:"data"`
	NextCursor *string       `json:"nextCursor"`
}

func toProductJSON(p domain.Product) productJSON {
	return productJSON{
		ID:          p.ID,
		SKU:         p.SKU,
		Name:        p.Name,
		Description: p.Description,
		Price:       p.Price.String(),
		Stock:       p.Stock,
		CategoryID:  p.CategoryID,
		Category:    categoryRefJSON{ID: p.CategoryID, Name: p.CategoryName},
		Version:     p.Version,
		CreatedAt:   timestamp(p.CreatedAt),
		UpdatedAt:   timestamp(p.UpdatedAt),
	}
}

// timestamp formats a time as RFC 3339 in UTC.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// productRequest is the shape of a product body: the members a create
// must give. The limits of each field are the domain's.
type productRequest struct {
	Name       *string       `json:"name" validate:"required"`
	Price      *domain.Price `json:"price" validate:"required"`
	CategoryID *int64        `json:"categoryId" validate:"required"`
}

// productMembers decodes the members of a product body.
type productMembers struct {
	sku, name, description member[string]
	price                  member[domain.Price]
	stock, categoryID      member[int64]
}

func decodeProduct(o *object) productMembers {
	return productMembers{
		sku:         o.str("sku"),
		name:        o.str("name"),
		description: o.str("description"),
		price:       o.price("price"),
		stock:       o.integer("stock"),
		categoryID:  o.integer("categoryId"),
	}
}

func valueOf[T any](m member[T]) *T {
	if !m.present || m.null {
		return nil
	}
	v := m.value
	return &v
}

// readProductCreate decodes a POST /products body. What it cannot read
// (wrong types, unknown or missing members) is a 422 listing every bad
// field, and then the domain's rules are asked too so that the list is
// whole; a body it can read goes to the use case, which checks the rules.
func readProductCreate(c *fiber.Ctx) (domain.ProductFields, error) {
	o, err := readObject(c, false)
	if err != nil {
		return domain.ProductFields{}, err
	}
	m := decodeProduct(o)
	for _, f := range []struct {
		name string
		null bool
	}{{"name", m.name.null}, {"price", m.price.null}, {"stock", m.stock.null}, {"categoryId", m.categoryID.null}} {
		if f.null {
			o.errs.Add(f.name, "must not be null")
		}
	}
	o.unknown()
	fields := domain.ProductFields{SKU: valueOf(m.sku), Name: m.name.value, Description: valueOf(m.description),
		Price: m.price.value, Stock: m.stock.value, CategoryID: m.categoryID.value}
	errs := mergeFields(o.errs, shapeErrors(productRequest{Name: valueOf(m.name), Price: valueOf(m.price),
		CategoryID: valueOf(m.categoryID)})...)
	if len(errs) > 0 {
		errs = mergeFields(errs, fieldErrorsOf(fields.Normalize().Validate())...)
		return domain.ProductFields{}, invalidFields(errs)
	}
	return fields, nil
}

// readProductPatch decodes a JSON merge patch of a product; the use case
// applies it and checks the result.
func readProductPatch(c *fiber.Ctx) (application.ProductPatch, error) {
	o, err := readObject(c, true)
	if err != nil {
		return application.ProductPatch{}, err
	}
	m := decodeProduct(o)
	o.unknown()
	if len(o.errs) > 0 {
		// List the values the patch sets that break the domain's rules
		// too, so every bad field is listed at once; the others stand in
		// for the current ones, which the use case would apply them to.
		probe := domain.ProductFields{SKU: valueOf(m.sku), Name: "x", Description: valueOf(m.description),
			Price: m.price.value, Stock: m.stock.value, CategoryID: 1}
		if sets(m.name) {
			probe.Name = m.name.value
		}
		if sets(m.categoryID) {
			probe.CategoryID = m.categoryID.value
		}
		set := map[string]bool{"sku": sets(m.sku), "name": sets(m.name), "description": sets(m.description),
			"price": sets(m.price), "stock": sets(m.stock), "categoryId": sets(m.categoryID)}
		errs := o.errs
		for _, fe := range fieldErrorsOf(probe.Normalize().Validate()) {
			if set[fe.Field] {
				errs = mergeFields(errs, fe)
			}
		}
		return application.ProductPatch{}, invalidFields(errs)
	}
	return application.ProductPatch{
		SKU:         patchField(m.sku),
		Name:        patchField(m.name),
		Description: patchField(m.description),
		Price:       patchField(m.price),
		Stock:       patchField(m.stock),
		CategoryID:  patchField(m.categoryID),
	}, nil
}

// sets reports whether a patch member sets a value (not absent, not null).
func sets[T any](m member[T]) bool { return m.present && !m.null }

func patchField[T any](m member[T]) application.Field[T] {
	return application.Field[T]{Set: m.present, Null: m.null, Value: m.value}
}

// idempotencyKey reads the optional Idempotency-Key: 1 to 255 visible
// ASCII characters.
func idempotencyKey(c *fiber.Ctx) (string, error) {
	values, ok := c.GetReqHeaders()[HeaderIdempotencyKey]
	if !ok {
		return "", nil
	}
	bad := errBadRequest("the Idempotency-Key header is invalid", domain.FieldError{
		Field: HeaderIdempotencyKey, Message: "must be 1 to 255 visible ASCII characters"})
	if len(values) != 1 {
		return "", bad
	}
	key := values[0]
	if key == "" || len(key) > maxIdempotencyKey {
		return "", bad
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "", bad
		}
	}
	return key, nil
}

// pathID reads the :id path parameter: a positive int64 in decimal.
func pathID(c *fiber.Ctx) (int64, error) {
	s := c.Params("id")
	if len(s) <= 19 && allDigits(s) {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	// Built only here: every request by id passes through this function,
	// and most carry a good id.
	return 0, errBadRequest("the id in the path must be a positive integer",
		domain.FieldError{Field: "id", Message: "must be a positive integer"})
}

func (s *Server) createProduct(c *fiber.Ctx) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	fields, err := readProductCreate(c)
	if err != nil {
		return err
	}
	out, err := s.svc.Catalog.CreateProduct(c.UserContext(), application.CreateProduct{
		Fields: fields, RequestedBy: KeyName(c), IdempotencyKey: key, RequestID: RequestID(c)})
	if err != nil {
		return err
	}
	if out.Replayed {
		c.Set(headerIdempotentReplayed, "true")
	}
	c.Location("/products/" + strconv.FormatInt(out.Product.ID, 10))
	return sendItem(c, fiber.StatusCreated, productETag(out.Product.Revision()), toProductJSON(out.Product))
}

func (s *Server) getProduct(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	p, err := s.svc.Catalog.GetProduct(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendItem(c, fiber.StatusOK, productETag(p.Revision()), toProductJSON(p))
}

func (s *Server) patchProduct(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	stale := func() error {
		return preconditionFailed(func() (string, error) {
			p, err := s.svc.Catalog.GetProduct(c.UserContext(), id)
			return productETag(p.Revision()), err
		})
	}
	ifMatch, err := ifMatchRevision(c.Get(fiber.HeaderIfMatch))
	if err != nil {
		return stale()
	}
	patch, err := readProductPatch(c)
	if err != nil {
		return err
	}
	p, err := s.svc.Catalog.PatchProduct(c.UserContext(), application.PatchProduct{ID: id, IfMatch: ifMatch, Patch: patch})
	if domain.KindOf(err) == domain.KindPrecondition {
		return stale()
	}
	if err != nil {
		return err
	}
	return sendItem(c, fiber.StatusOK, productETag(p.Revision()), toProductJSON(p))
}

func (s *Server) deleteProduct(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.svc.Catalog.DeleteProduct(c.UserContext(), id); err != nil {
		return err
	}
	c.Status(fiber.StatusNoContent)
	return nil
}

func (s *Server) listProducts(c *fiber.Ctx) error {
	q, err := productQuery(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Catalog.ListProducts(c.UserContext(), q)
	if err != nil {
		return listError(err)
	}
	out := productListJSON{Data: make([]productJSON, 0, len(page.Items))}
	for _, p := range page.Items {
		out.Data = append(out.Data, toProductJSON(p))
	}
	out.NextCursor = encodeCursor(page.Next)
	return sendList(c, out)
}
