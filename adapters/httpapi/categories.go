package httpapi

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/etalase/etalase/application"
	"github.com/etalase/etalase/domain"
)

// categoryJSON is a category as the API shows it.
type categoryJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// categoryListJSON is a page of categories.
type categoryListJSON struct {
	Data       []categoryJSON `json:"data"`
	NextCursor *string        `json:"nextCursor"`
}

func toCategoryJSON(c domain.Category) categoryJSON {
	return categoryJSON{ID: c.ID, Name: c.Name, CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt)}
}

// categoryRequest is the shape of a category body; the limits of the name
// are the domain's.
type categoryRequest struct {
	Name *string `json:"name" validate:"required"`
}

// readCategoryCreate decodes a POST /categories body, as readProductCreate.
func readCategoryCreate(c *fiber.Ctx) (domain.CategoryFields, error) {
	o, err := readObject(c, false)
	if err != nil {
		return domain.CategoryFields{}, err
	}
	name := o.str("name")
	if name.null {
		o.errs.Add("name", "must not be null")
	}
	o.unknown()
	fields := domain.CategoryFields{Name: name.value}
	errs := mergeFields(o.errs, shapeErrors(categoryRequest{Name: valueOf(name)})...)
	if len(errs) > 0 {
		errs = mergeFields(errs, fieldErrorsOf(fields.Normalize().Validate())...)
		return domain.CategoryFields{}, invalidFields(errs)
	}
	return fields, nil
}

// readCategoryPatch decodes a JSON merge patch of a category.
func readCategoryPatch(c *fiber.Ctx) (application.CategoryPatch, error) {
	o, err := readObject(c, true)
	if err != nil {
		return application.CategoryPatch{}, err
	}
	name := o.str("name")
	o.unknown()
	if len(o.errs) > 0 {
		errs := o.errs
		if name.present && !name.null { // as readProductPatch: list the name's rule too
			errs = mergeFields(errs, fieldErrorsOf(domain.CategoryFields{Name: name.value}.Normalize().Validate())...)
		}
		return application.CategoryPatch{}, invalidFields(errs)
	}
	return application.CategoryPatch{Name: patchField(name)}, nil
}

func (s *Server) createCategory(c *fiber.Ctx) error {
	fields, err := readCategoryCreate(c)
	if err != nil {
		return err
	}
	cat, err := s.svc.Catalog.CreateCategory(c.UserContext(), fields)
	if err != nil {
		return err
	}
	c.Location("/categories/" + strconv.FormatInt(cat.ID, 10))
	return sendItem(c, fiber.StatusCreated, versionETag(cat.Version), toCategoryJSON(cat))
}

func (s *Server) getCategory(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	cat, err := s.svc.Catalog.GetCategory(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendItem(c, fiber.StatusOK, versionETag(cat.Version), toCategoryJSON(cat))
}

func (s *Server) patchCategory(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	stale := func() error {
		return preconditionFailed(func() (string, error) {
			cat, err := s.svc.Catalog.GetCategory(c.UserContext(), id)
			return versionETag(cat.Version), err
		})
	}
	ifMatch, err := ifMatchVersion(c.Get(fiber.HeaderIfMatch))
	if err != nil {
		return stale()
	}
	patch, err := readCategoryPatch(c)
	if err != nil {
		return err
	}
	cat, err := s.svc.Catalog.PatchCategory(c.UserContext(), application.PatchCategory{ID: id, IfMatch: ifMatch, Patch: patch})
	if domain.KindOf(err) == domain.KindPrecondition {
		return stale()
	}
	if err != nil {
		return err
	}
	return sendItem(c, fiber.StatusOK, versionETag(cat.Version), toCategoryJSON(cat))
}

func (s *Server) deleteCategory(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.svc.Catalog.DeleteCategory(c.UserContext(), id); err != nil {
		return err
	}
	c.Status(fiber.StatusNoContent)
	return nil
}

func (s *Server) listCategories(c *fiber.Ctx) error {
	q, err := categoryQuery(c)
	if err != nil {
		return err
	}
	page, err := s.svc.Catalog.ListCategories(c.UserContext(), q)
	if err != nil {
		return listError(err)
	}
	out := categoryListJSON{Data: make([]categoryJSON, 0, len(page.Items))}
	for _, cat := range page.Items {
		out.Data = append(out.Data, toCategoryJSON(cat))
	}
	out.NextCursor = encodeCursor(page.Next)
	return sendList(c, out)
}
