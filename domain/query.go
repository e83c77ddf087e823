package domain

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Page sizes of list queries.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// SortField is a product attribute a list can be ordered by.
type SortField string

// The sortable fields; the id always breaks ties so keyset pages are stable.
const (
	SortByID        SortField = "id"
	SortByName      SortField = "name"
	SortByPrice     SortField = "price"
	SortByCreatedAt SortField = "createdAt"
)

// Sort orders a product list.
type Sort struct {
	Field SortField
	Desc  bool
}

// ParseSort reads "id", "-price" and the like; "" is the default, by id.
func ParseSort(s string) (Sort, error) {
	if s == "" {
		return Sort{Field: SortByID}, nil
	}
	desc := strings.HasPrefix(s, "-")
	switch f := SortField(strings.TrimPrefix(s, "-")); f {
	case SortByID, SortByName, SortByPrice, SortByCreatedAt:
		return Sort{Field: f, Desc: desc}, nil
	}
	return Sort{}, Invalid("bad sort", FieldError{Field: "sort",
		Message: "must be one of id, -id, name, -name, price, -price, createdAt, -createdAt"})
}

// String is the inverse of ParseSort.
func (s Sort) String() string {
	if s.Desc {
		return "-" + string(s.Field)
	}
	return string(s.Field)
}

// Compare orders two products as a list in sort s shows them: by the sort
// field, ties broken by the id, the whole order reversed when descending.
// Every store pages in this order (the PostgreSQL one compares the row
// (field, id), names byte-wise).
func (s Sort) Compare(a, b Product) int {
	var c int
	switch s.Field {
	case SortByName:
		c = strings.Compare(a.Name, b.Name)
	case SortByPrice:
		c = cmp.Compare(a.Price, b.Price)
	case SortByCreatedAt:
		c = a.CreatedAt.Compare(b.CreatedAt)
	}
	if c == 0 {
		c = cmp.Compare(a.ID, b.ID)
	}
	if s.Desc {
		c = -c
	}
	return c
}

// CursorAt returns the cursor of a page in sort s whose last product is p.
// Its key is the textual form of p's sort value: the name, the price in
// cents, the creation time in RFC 3339 with nanoseconds; none for the id.
func (s Sort) CursorAt(p Product) Cursor {
	c := Cursor{Sort: s.String(), ID: p.ID}
	switch s.Field {
	case SortByName:
		c.Key = p.Name
	case SortByPrice:
		c.Key = strconv.FormatInt(int64(p.Price), 10)
	case SortByCreatedAt:
		c.Key = p.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	return c
}

// Position reads the cursor back, for a list sorted by f, into a product
// holding only its id and the value f compares: the position the next page
// starts after, even when the row it came from has since changed or gone.
// A key that CursorAt could not have written is an Invalid error naming
// the cursor.
func (c Cursor) Position(f SortField) (Product, error) {
	bad := Invalid("bad cursor", FieldError{Field: "cursor", Message: "is not a cursor this service issued"})
	p := Product{ID: c.ID}
	switch f {
	case SortByName:
		p.Name = c.Key
	case SortByPrice:
		n, err := strconv.ParseInt(c.Key, 10, 64)
		if err != nil {
			return p, bad
		}
		p.Price = Price(n)
	case SortByCreatedAt:
		t, err := time.Parse(time.RFC3339Nano, c.Key)
		if err != nil {
			return p, bad
		}
		p.CreatedAt = t
	default:
		if c.Key != "" {
			return p, bad
		}
	}
	return p, nil
}

// Cursor marks where the next keyset page starts: after the row whose sort
// value is Key (the textual form of that value; empty when sorting by id)
// and whose id is ID. Clients see it only as an opaque string.
type Cursor struct {
	Sort string
	Key  string
	ID   int64
}

type cursorWire struct {
	S string `json:"s"`
	K string `json:"k,omitempty"`
	I int64  `json:"i"`
}

// Encode returns the opaque form handed to clients as nextCursor.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(cursorWire{S: c.Sort, K: c.Key, I: c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxCursorLength bounds the text DecodeCursor reads. The longest cursor
// Encode writes carries a name of MaxProductNameLength characters, each of
// which JSON may spell in up to six bytes ("\u003c"), in base64: about 1.7 KB.
const maxCursorLength = 2048

// DecodeCursor reads what Encode wrote. Anything else is an Invalid error
// naming the cursor parameter.
func DecodeCursor(s string) (Cursor, error) {
	bad := Invalid("bad cursor", FieldError{Field: "cursor", Message: "is not a cursor this service issued"})
	if len(s) == 0 || len(s) > maxCursorLength {
		return Cursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	var w cursorWire
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil || w.I <= 0 {
		return Cursor{}, bad
	}
	if _, err := ParseSort(w.S); err != nil || w.S == "" {
		return Cursor{}, bad
	}
	if utf8.RuneCountInString(w.K) > MaxProductNameLength {
		return Cursor{}, bad
	}
	c := Cursor{Sort: w.S, Key: w.K, ID: w.I}
	// Only the very text Encode writes is a cursor: not one with trailing
	// data, duplicate members or other spellings of the same fields.
	if c.Encode() != s {
		return Cursor{}, bad
	}
	return c, nil
}

// ProductQuery selects a page of products.
type ProductQuery struct {
	Limit      int
	After      *Cursor
	CategoryID int64  // 0: any category
	Q          string // name contains, ignoring case; "" matches all
	Sort       Sort
}

// Validate checks the query; a cursor must come from a list with the same sort.
func (q ProductQuery) Validate() error {
	var errs FieldErrors
	if q.Limit < 1 || q.Limit > MaxPageSize {
		errs.Add("limit", "must be between 1 and 100")
	}
	if q.CategoryID < 0 {
		errs.Add("categoryId", "must be a positive integer")
	}
	if len(q.Q) > MaxProductNameLength*4 {
		errs.Add("q", "is too long")
	}
	if q.After != nil && q.After.Sort != q.Sort.String() {
		errs.Add("cursor", "belongs to a list with another sort")
	}
	return errs.Err()
}

// ProductPage is one page of a product list; Next is nil on the last page.
type ProductPage struct {
	Items []Product
	Next  *Cursor
}

// CategoryQuery selects a page of categories, ordered by id.
type CategoryQuery struct {
	Limit int
	After *Cursor
}

// Validate checks the query.
func (q CategoryQuery) Validate() error {
	var errs FieldErrors
	if q.Limit < 1 || q.Limit > MaxPageSize {
		errs.Add("limit", "must be between 1 and 100")
	}
	if q.After != nil && q.After.Sort != string(SortByID) {
		errs.Add("cursor", "belongs to another list")
	}
	return errs.Err()
}

// CategoryPage is one page of categories.
type CategoryPage struct {
	Items []Category
	Next  *Cursor
}
