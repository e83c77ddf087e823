package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/etalase/etalase/domain"
)

// MIMEMergePatchJSON is the JSON merge patch media type (RFC 7396).
const MIMEMergePatchJSON = "application/merge-patch+json"

// checkContentType answers 415 unless the body is declared JSON (or, where
// allowed, a JSON merge patch) in UTF-8.
func checkContentType(c *fiber.Ctx, allowMergePatch bool) error {
	unsupported := newHTTPError(fiber.StatusUnsupportedMediaType, "the request body must be application/json")
	if allowMergePatch {
		unsupported.detail = "the request body must be application/json or application/merge-patch+json"
	}
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil {
		return unsupported
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported
	}
	if mt == fiber.MIMEApplicationJSON || (allowMergePatch && mt == MIMEMergePatchJSON) {
		return nil
	}
	return unsupported
}

// noBody refuses a request body on a route that takes none: what a client
// sends must not be ignored silently.
func noBody(c *fiber.Ctx) error {
	if len(c.Body()) > 0 {
		return errBadRequest("this operation takes no request body")
	}
	return c.Next()
}

// readObject reads the body as one JSON object and returns its members,
// still undecoded, with a complaint for each member given twice (which
// member would win is not something a client should have to guess).
// Malformed JSON, trailing data and anything but an object are 400s: the
// request cannot be understood at all.
func readObject(c *fiber.Ctx, allowMergePatch bool) (*object, error) {
	if err := checkContentType(c, allowMergePatch); err != nil {
		return nil, err
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errBadRequest("the request body must be a JSON object; it is empty")
	}
	o, err := scanObject(body)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(body) {
		return nil, invalidUTF8(o.m)
	}
	return o, nil
}

// scanObject splits a JSON object into its members.
func scanObject(body []byte) (*object, error) {
	malformed := func(err error) error {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return errBadRequest("the request body is not well-formed JSON (at byte " + strconv.FormatInt(syn.Offset, 10) + ")")
		}
		return errBadRequest("the request body is not well-formed JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errBadRequest("the request body must be a JSON object")
	}
	o := newObject(map[string]json.RawMessage{})
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed(err)
		}
		if _, dup := o.m[key]; dup {
			o.errs = mergeFields(o.errs, domain.FieldError{Field: key, Message: "is given more than once"})
		}
		o.m[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errBadRequest("the request body has data after the JSON object")
	}
	return o, nil
}

// invalidUTF8 names the members whose text is not UTF-8: JSON must be, and
// the decoder would otherwise replace the bad bytes silently.
func invalidUTF8(m map[string]json.RawMessage) error {
	var errs domain.FieldErrors
	for _, k := range sortedKeys(m) {
		if !utf8.Valid(m[k]) {
			errs.Add(k, "must be valid UTF-8")
		}
	}
	if len(errs) == 0 {
		return errBadRequest("the request body is not valid UTF-8")
	}
	return newHTTPError(fiber.StatusUnprocessableEntity, "the request has invalid fields", errs...)
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// member is one decoded member of a request object.
type member[T any] struct {
	present bool
	null    bool
	value   T
}

// object decodes the members of a request object one by one, listing every
// member that is of the wrong type or unknown.
type object struct {
	m     map[string]json.RawMessage
	known map[string]bool
	errs  domain.FieldErrors
}

func newObject(m map[string]json.RawMessage) *object {
	return &object{m: m, known: make(map[string]bool, len(m))}
}

func (o *object) raw(name string) (json.RawMessage, bool) {
	o.known[name] = true
	raw, ok := o.m[name]
	return raw, ok
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(raw, []byte("null")) }

// str decodes a string member and trims it, as the contract asks.
func (o *object) str(name string) member[string] {
	raw, ok := o.raw(name)
	if !ok {
		return member[string]{}
	}
	if isNull(raw) {
		return member[string]{present: true, null: true}
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		o.errs.Add(name, "must be a string")
		return member[string]{present: true}
	}
	return member[string]{present: true, value: strings.TrimSpace(s)}
}

// integer decodes an integral JSON number. Its text is parsed as an int64,
// so huge or fractional numbers are errors, never roundings; ranges are the
// validator's to check.
func (o *object) integer(name string) member[int64] {
	raw, ok := o.raw(name)
	if !ok {
		return member[int64]{}
	}
	if isNull(raw) {
		return member[int64]{present: true, null: true}
	}
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		o.errs.Add(name, "must be an integer")
		return member[int64]{present: true}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		o.errs.Add(name, "is out of range")
		return member[int64]{present: true}
	}
	if err != nil {
		o.errs.Add(name, "must be an integer")
		return member[int64]{present: true}
	}
	return member[int64]{present: true, value: n}
}

// price decodes a price given as a JSON number or a string, by its text:
// it never passes through a float.
func (o *object) price(name string) member[domain.Price] {
	raw, ok := o.raw(name)
	if !ok {
		return member[domain.Price]{}
	}
	if isNull(raw) {
		return member[domain.Price]{present: true, null: true}
	}
	var text string
	switch {
	case len(raw) > 0 && raw[0] == '"':
		if json.Unmarshal(raw, &text) != nil {
			o.errs.Add(name, "must be a decimal number or string")
			return member[domain.Price]{present: true}
		}
		if len(text) > domain.MaxPriceText {
			o.errs.Add(name, "must be at most "+strconv.Itoa(domain.MaxPriceText)+" characters")
			return member[domain.Price]{present: true}
		}
		text = strings.TrimSpace(text)
	case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		text = string(raw)
	default:
		o.errs.Add(name, "must be a decimal number or string")
		return member[domain.Price]{present: true}
	}
	p, err := domain.ParsePrice(text)
	if err != nil {
		// The domain says what is wrong with the form or the amount.
		for _, fe := range fieldErrorsOf(err) {
			o.errs.Add(name, fe.Message)
		}
		return member[domain.Price]{present: true}
	}
	return member[domain.Price]{present: true, value: p}
}

// unknown lists the members no decoder asked for.
func (o *object) unknown() {
	for _, k := range sortedKeys(o.m) {
		if !o.known[k] {
			o.errs.Add(k, "is not a field of this resource")
		}
	}
}
