package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/etalase/etalase/domain"
)

// SQLSTATE codes this package reacts to.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeCheckViolation      = "23514"
	codeNotNullViolation    = "23502"
	codeDuplicateDatabase   = "42P04"
	codeNumericOutOfRange   = "22003"
)

// unavailableDetail is what a client may read when the database is down.
const unavailableDetail = "the database is unavailable, try again later"

// checkFields names the field a CHECK constraint guards.
var checkFields = map[string]string{
	"categories_name_length":      "name",
	"products_sku_length":         "sku",
	"products_name_length":        "name",
	"products_description_length": "description",
	"products_price_range":        "price",
	"products_stock_range":        "stock",
}

// columnFields names the field a NOT NULL column holds.
var columnFields = map[string]string{
	"sku":         "sku",
	"name":        "name",
	"description": "description",
	"price_cents": "price",
	"stock":       "stock",
	"category_id": "categoryId",
}

// pgError returns the PostgreSQL error in err's chain, if any.
func pgError(err error) (*pgconn.PgError, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe, true
	}
	return nil, false
}

// isCode reports whether err is a PostgreSQL error with SQLSTATE code.
func isCode(err error, code string) bool {
	pe, ok := pgError(err)
	return ok && pe.Code == code
}

// mapError turns a pgx error into a domain error where a kind fits and
// otherwise wraps it with op. Method-specific cases (a foreign key that means
// "not found" here and "in use" there) are handled by the callers first.
func mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if pe, ok := pgError(err); ok {
		switch {
		case pe.Code == codeUniqueViolation:
			return uniqueConflict(pe, err)
		case pe.Code == codeCheckViolation || pe.Code == codeNotNullViolation:
			return checkInvalid(pe, err)
		case strings.HasPrefix(pe.Code, "22"):
			// Data exceptions: a value the column cannot hold.
			return &domain.Error{Kind: domain.KindInvalid, Detail: "a value is out of range or malformed", Err: err}
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),       // insufficient resources, too many connections
			strings.HasPrefix(pe.Code, "57P"),      // admin or crash shutdown, cannot connect now
			pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock: retry later
			return domain.Unavailable(unavailableDetail, fmt.Errorf("%s: %w", op, err))
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if unavailable(err) {
		return domain.Unavailable(unavailableDetail, fmt.Errorf("%s: %w", op, err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unavailable reports whether err means the database could not be reached
// or did not answer in time, rather than that the request was wrong.
func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, puddle.ErrClosedPool),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed), // a transaction's connection gone under it
		errors.Is(err, context.DeadlineExceeded):
		return true
	case pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	}
	return false
}

func uniqueConflict(pe *pgconn.PgError, err error) error {
	var e *domain.Error
	switch pe.ConstraintName {
	case "products_sku_key":
		e = domain.Conflict("a product with this sku exists",
			domain.FieldError{Field: "sku", Message: "is already used by another product"})
	case "categories_name_key":
		e = domain.Conflict("a category with this name exists",
			domain.FieldError{Field: "name", Message: "is already used by another category"})
	case "idempotency_keys_pkey":
		e = domain.Conflict("a request with this Idempotency-Key is still in progress")
	default:
		e = domain.Conflict("the change conflicts with existing data")
	}
	e.Err = err
	return e
}

func checkInvalid(pe *pgconn.PgError, err error) error {
	e := domain.Invalid("the request has invalid fields")
	field := checkFields[pe.ConstraintName]
	if field == "" && pe.Code == codeNotNullViolation {
		field = columnFields[pe.ColumnName]
	}
	if field != "" {
		e.Fields = []domain.FieldError{{Field: field, Message: "is out of range"}}
	}
	e.Err = err
	return e
}
