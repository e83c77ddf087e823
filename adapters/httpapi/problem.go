package httpapi

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/etalase/etalase/domain"
)

// MIMEProblemJSON is the media type of every error response (RFC 9457).
const MIMEProblemJSON = "application/problem+json"

// problemType is the type of every problem: the status and title say what
// happened, the detail and errors say why.
const problemType = "about:blank"

// genericInternalDetail is all a client learns of a bug.
const genericInternalDetail = "the server failed to handle the request; it has been logged under the request id"

// fieldJSON is one entry of a problem's errors list.
type fieldJSON struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// problemJSON is an RFC 9457 problem document.
type problemJSON struct {
	Type      string      `json:"type"`
	Title     string      `json:"title"`
	Status    int         `json:"status"`
	Detail    string      `json:"detail,omitempty"`
	Instance  string      `json:"instance,omitempty"`
	RequestID string      `json:"requestId,omitempty"`
	Errors    []fieldJSON `json:"errors,omitempty"`
}

// httpError is an error the adapter itself decides on (bad headers, bad
// query parameters, bodies it cannot read) before a use case runs.
type httpError struct {
	status int
	detail string
	fields []domain.FieldError
	header map[string]string
}

func (e *httpError) Error() string {
	return strconv.Itoa(e.status) + " " + e.detail
}

func newHTTPError(status int, detail string, fields ...domain.FieldError) *httpError {
	return &httpError{status: status, detail: detail, fields: fields}
}

func errBadRequest(detail string, fields ...domain.FieldError) *httpError {
	return newHTTPError(fiber.StatusBadRequest, detail, fields...)
}

func errBadParam(name, message string) *httpError {
	return errBadRequest("the query parameter "+name+" is invalid", domain.FieldError{Field: name, Message: message})
}

func errUnauthorized(detail string) *httpError {
	e := newHTTPError(fiber.StatusUnauthorized, detail)
	e.header = map[string]string{fiber.HeaderWWWAuthenticate: `Bearer realm="etalase"`}
	return e
}

func errForbidden(detail string) *httpError {
	return newHTTPError(fiber.StatusForbidden, detail)
}

func errPrecondition(detail string) *httpError {
	return newHTTPError(fiber.StatusPreconditionFailed, detail)
}

// fiberDetails are the details of the errors fiber itself raises; fiber's
// own messages may echo request data, so they are not used.
var fiberDetails = map[int]string{
	fiber.StatusNotFound:                    "no resource matches this path",
	fiber.StatusMethodNotAllowed:            "this resource does not support the method",
	fiber.StatusRequestEntityTooLarge:       "the request body is too large",
	fiber.StatusRequestHeaderFieldsTooLarge: "the request headers are too large",
	fiber.StatusRequestTimeout:              "the request took too long to arrive",
	fiber.StatusBadRequest:                  "the request could not be read",
}

// kindStatus maps a domain error kind to its HTTP status.
func kindStatus(k domain.Kind) int {
	switch k {
	case domain.KindInvalid:
		return fiber.StatusUnprocessableEntity
	case domain.KindNotFound:
		return fiber.StatusNotFound
	case domain.KindConflict:
		return fiber.StatusConflict
	case domain.KindPrecondition:
		return fiber.StatusPreconditionFailed
	case domain.KindUnavailable:
		return fiber.StatusServiceUnavailable
	default:
		return fiber.StatusInternalServerError
	}
}

// handleError is the one place errors become responses: every one is an
// RFC 9457 problem, and no error's internal text reaches the client.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	p := problemJSON{Type: problemType, Instance: c.Path(), RequestID: ensureRequestID(c)}
	var header map[string]string

	var (
		he *httpError
		de *domain.Error
		fe *fiber.Error
	)
	switch {
	case errors.As(err, &he):
		p.Status, p.Detail, header = he.status, he.detail, he.header
		p.Errors = fieldsJSON(he.fields)
	case errors.As(err, &de) && de.Kind != domain.KindInternal:
		p.Status, p.Detail = kindStatus(de.Kind), de.Detail
		p.Errors = fieldsJSON(de.Fields)
	case errors.As(err, &fe) && fe.Code < fiber.StatusInternalServerError:
		p.Status = fe.Code
		p.Detail = fiberDetails[fe.Code]
		if fe.Code == fiber.StatusMethodNotAllowed {
			header = map[string]string{fiber.HeaderAllow: allowedMethods(c.App(), c.Path())}
		}
	default:
		p.Status = fiber.StatusInternalServerError
	}
	if p.Status == fiber.StatusInternalServerError {
		p.Detail = genericInternalDetail
		fields := []zap.Field{zap.String("request_id", p.RequestID),
			zap.String("method", c.Method()), zap.String("path", c.Path()), zap.Error(err)}
		if stack, ok := c.Locals(localPanicStack).(string); ok {
			fields = append(fields, zap.String("stack", stack))
		}
		s.log.Error("request failed", fields...)
	}
	if p.Status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(s.cfg.RetryAfter.Seconds())))
		s.log.Warn("dependency unavailable", zap.String("request_id", p.RequestID), zap.Error(err))
	}
	if p.Detail == "" {
		p.Detail = http.StatusText(p.Status)
	}
	p.Title = http.StatusText(p.Status)
	for k, v := range header {
		c.Set(k, v)
	}
	return writeProblem(c, p)
}

func writeProblem(c *fiber.Ctx, p problemJSON) error {
	body, err := marshalJSON(p)
	if err != nil {
		return err
	}
	h := &c.Response().Header
	h.Del(fiber.HeaderETag)
	h.Del(fiber.HeaderLocation)
	h.Del(headerIdempotentReplayed)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, MIMEProblemJSON)
	return c.Send(body)
}

func fieldsJSON(fs []domain.FieldError) []fieldJSON {
	if len(fs) == 0 {
		return nil
	}
	out := make([]fieldJSON, len(fs))
	for i, f := range fs {
		out[i] = fieldJSON{Field: f.Field, Message: f.Message}
	}
	return out
}

// allowedMethods lists the methods the app routes for path, for the Allow
// header a 405 must carry. It runs only on a 405, so it may be slow.
func allowedMethods(app *fiber.App, path string) string {
	seen := map[string]bool{}
	var methods []string
	for _, r := range app.GetRoutes(true) {
		if !seen[r.Method] && routeMatches(r.Path, path) {
			seen[r.Method] = true
			methods = append(methods, r.Method)
		}
	}
	sort.Strings(methods)
	return strings.Join(methods, ", ")
}

// routeMatches reports whether a fiber route pattern (with :params and a
// trailing *) matches path.
func routeMatches(pattern, path string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range ps {
		if p == "*" {
			return true
		}
		if i >= len(xs) {
			return false
		}
		if strings.HasPrefix(p, ":") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if p != xs[i] {
			return false
		}
	}
	return len(ps) == len(xs)
}
