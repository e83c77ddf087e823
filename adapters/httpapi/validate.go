package httpapi

import (
	"errors"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/etalase/etalase/domain"
)

// validate is the shared validator of request structs. It checks their
// shape (which members must be present); every limit of a field is the
// domain's, checked once, by the use case. Field errors name the fields as
// JSON spells them.
var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
}

// shapeErrors runs the validator on a request struct and returns its
// complaints as field errors.
func shapeErrors(req any) domain.FieldErrors {
	err := validate.Struct(req)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return nil
	}
	var out domain.FieldErrors
	for _, fe := range verrs {
		out.Add(fe.Field(), shapeMessage(fe))
	}
	return out
}

func shapeMessage(fe validator.FieldError) string {
	if fe.Tag() == "required" {
		return "is required"
	}
	return "is invalid"
}

// mergeFields appends to errs the errors of more whose field errs does not
// name yet, so each bad field is listed once, with its first complaint.
func mergeFields(errs domain.FieldErrors, more ...domain.FieldError) domain.FieldErrors {
	seen := make(map[string]bool, len(errs))
	for _, e := range errs {
		seen[e.Field] = true
	}
	for _, e := range more {
		if !seen[e.Field] {
			seen[e.Field] = true
			errs = append(errs, e)
		}
	}
	return errs
}

// fieldErrorsOf returns the field errors of a domain error, if it has any.
func fieldErrorsOf(err error) []domain.FieldError {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Fields
	}
	return nil
}

func invalidFields(errs domain.FieldErrors) error {
	return domain.Invalid("the request has invalid fields", errs...)
}
