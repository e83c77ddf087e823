package httpapi

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/etalase/etalase/domain"
)

// onlyQuery refuses, with a 400 naming each, the query parameters a route
// does not read, and those it reads given empty or more than once: like an
// unknown body field, a typo must not pass silently, and which of two
// values wins is not something a client should have to guess.
func onlyQuery(names []string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		args := c.Request().URI().QueryArgs()
		if args.Len() == 0 {
			return c.Next()
		}
		var errs domain.FieldErrors
		seen := make(map[string]bool, args.Len())
		for k, v := range args.All() {
			name := string(k)
			switch {
			case !slices.Contains(names, name):
				errs.Add(name, "is not a query parameter of this operation")
			case seen[name]:
				errs.Add(name, "is given more than once")
			case len(v) == 0:
				errs.Add(name, "must not be empty")
			}
			seen[name] = true
		}
		if len(errs) > 0 {
			return errBadRequest("the query parameter "+errs[0].Field+" is invalid", errs...)
		}
		return c.Next()
	}
}

// queryParam returns a query parameter and whether the request names it;
// an empty value is a value, and usually a bad one.
func queryParam(c *fiber.Ctx, name string) (string, bool) {
	args := c.Context().QueryArgs()
	if !args.Has(name) {
		return "", false
	}
	return string(args.Peek(name)), true
}

// textParam reads a free-text parameter, which must be UTF-8 without NULs.
func textParam(c *fiber.Ctx, name string) (string, error) {
	v, _ := queryParam(c, name)
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", errBadParam(name, "must be valid UTF-8 text")
	}
	return v, nil
}

// limitParam reads limit: 1 to 100, 20 when absent.
func limitParam(c *fiber.Ctx) (int, error) {
	v, ok := queryParam(c, "limit")
	if !ok {
		return domain.DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > domain.MaxPageSize {
		return 0, errBadParam("limit", "must be an integer between 1 and 100")
	}
	return n, nil
}

// cursorParam reads cursor: what an earlier page gave as nextCursor.
func cursorParam(c *fiber.Ctx) (*domain.Cursor, error) {
	v, ok := queryParam(c, "cursor")
	if !ok {
		return nil, nil
	}
	cur, err := domain.DecodeCursor(v)
	if err != nil || !utf8.ValidString(cur.Key) || strings.ContainsRune(cur.Key, 0) {
		return nil, errBadParam("cursor", "is not a cursor this service issued")
	}
	return &cur, nil
}

// positiveParam reads an optional positive int64 parameter; 0 when absent.
func positiveParam(c *fiber.Ctx, name string) (int64, error) {
	v, ok := queryParam(c, name)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || !allDigits(v) {
		return 0, errBadParam(name, "must be a positive integer")
	}
	return n, nil
}

// badQuery turns a query's validation failure into a 400: query parameters
// are part of the request line, not a body with fields.
func badQuery(err error) error {
	if fields := fieldErrorsOf(err); len(fields) > 0 {
		return errBadRequest("the query parameter "+fields[0].Field+" is invalid", fields...)
	}
	return errBadRequest("the query parameters are invalid")
}

// productQuery reads limit, cursor, categoryId, q and sort (onlyQuery has
// refused any other).
func productQuery(c *fiber.Ctx) (domain.ProductQuery, error) {
	var q domain.ProductQuery
	var err error
	if q.Limit, err = limitParam(c); err != nil {
		return q, err
	}
	if q.After, err = cursorParam(c); err != nil {
		return q, err
	}
	if q.CategoryID, err = positiveParam(c, "categoryId"); err != nil {
		return q, err
	}
	if q.Q, err = textParam(c, "q"); err != nil {
		return q, err
	}
	sortText, _ := queryParam(c, "sort")
	if q.Sort, err = domain.ParseSort(sortText); err != nil {
		return q, badQuery(err)
	}
	if err := q.Validate(); err != nil {
		return q, badQuery(err)
	}
	return q, nil
}

// categoryQuery reads limit and cursor.
func categoryQuery(c *fiber.Ctx) (domain.CategoryQuery, error) {
	var q domain.CategoryQuery
	var err error
	if q.Limit, err = limitParam(c); err != nil {
		return q, err
	}
	if q.After, err = cursorParam(c); err != nil {
		return q, err
	}
	if err := q.Validate(); err != nil {
		return q, badQuery(err)
	}
	return q, nil
}

// listError maps a list's failure: a rule broken there (a cursor whose key
// the repository cannot read) is still about the query parameters.
func listError(err error) error {
	if domain.KindOf(err) == domain.KindInvalid {
		return badQuery(err)
	}
	return err
}

func encodeCursor(c *domain.Cursor) *string {
	if c == nil {
		return nil
	}
	s := c.Encode()
	return &s
}
