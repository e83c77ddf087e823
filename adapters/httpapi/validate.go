package httpapi

import (
	"errors"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/etalase/etalase/domain"
)

// validate is the shared validator of request structs; field errors name
// the fields as JSON spells them.
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

var priceType = reflect.TypeOf(domain.Price(0))

func shapeMessage(fe validator.FieldError) string {
	isText := fe.Kind() == reflect.String
	if fe.Type() == priceType && fe.Tag() != "required" {
		// The validator sees cents; the client wrote a decimal.
		return "must be between 0 and " + domain.MaxPrice.String()
	}
	switch fe.Tag() {
	case "required":
		return "is required"
	case "min":
		if isText && fe.Param() == "1" {
			return "must not be empty"
		}
		if isText {
			return "must be at least " + fe.Param() + " characters"
		}
		return "must be at least " + fe.Param()
	case "max":
		if isText {
			return "must be at most " + fe.Param() + " characters"
		}
		return "must be at most " + fe.Param()
	case "gt":
		return "must be greater than " + fe.Param()
	case "utf8":
		return "must be valid UTF-8"
	default:
		return "is invalid"
	}
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
