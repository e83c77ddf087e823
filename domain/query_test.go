package domain_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/domain"
)

func TestParseSort(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want domain.Sort
	}{
		{"", domain.Sort{Field: domain.SortByID}},
		{"id", domain.Sort{Field: domain.SortByID}},
		{"-id", domain.Sort{Field: domain.SortByID, Desc: true}},
		{"name", domain.Sort{Field: domain.SortByName}},
		{"-name", domain.Sort{Field: domain.SortByName, Desc: true}},
		{"price", domain.Sort{Field: domain.SortByPrice}},
		{"-price", domain.Sort{Field: domain.SortByPrice, Desc: true}},
		{"createdAt", domain.Sort{Field: domain.SortByCreatedAt}},
		{"-createdAt", domain.Sort{Field: domain.SortByCreatedAt, Desc: true}},
	}
	for _, tc := range valid {
		got, err := domain.ParseSort(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSort(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if tc.in != "" && got.String() != tc.in {
			t.Errorf("ParseSort(%q).String() = %q", tc.in, got.String())
		}
	}
	for _, in := range []string{"ID", "Name", "createdat", "--id", "+id", "-", " id", "id ", "stock", "updatedAt", "name,price"} {
		_, err := domain.ParseSort(in)
		if domain.KindOf(err) != domain.KindInvalid || !namesField(err, "sort") {
			t.Errorf("ParseSort(%q): error %v, want invalid naming sort", in, err)
		}
	}
}

func namesField(err error, field string) bool {
	de, ok := err.(*domain.Error)
	if !ok {
		return false
	}
	for _, f := range de.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func wire(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	cursors := []domain.Cursor{
		{Sort: "id", ID: 1},
		{Sort: "-id", ID: 1 << 62},
		{Sort: "name", Key: "go in action", ID: 42},
		{Sort: "-name", Key: `quote " backslash \ <tag> & ünïcödé 日本`, ID: 7},
		{Sort: "price", Key: "1999", ID: 3},
		{Sort: "-createdAt", Key: "2026-11-25T10:00:00.123456Z", ID: 9},
		// The longest names JSON escapes most: every character six bytes, or four.
		{Sort: "-name", Key: strings.Repeat("<", domain.MaxProductNameLength), ID: 1<<63 - 1},
		{Sort: "name", Key: strings.Repeat("\U0001F600", domain.MaxProductNameLength), ID: 1<<63 - 1},
		{Sort: "name", Key: strings.Repeat("\x01", domain.MaxProductNameLength), ID: 1<<63 - 1},
	}
	for _, c := range cursors {
		s := c.Encode()
		if strings.ContainsAny(s, "+/=") {
			t.Errorf("Encode(%+v) = %q, not URL-safe", c, s)
		}
		got, err := domain.DecodeCursor(s)
		if err != nil || got != c {
			t.Errorf("DecodeCursor(Encode(%+v)) = %+v, %v", c, got, err)
		}
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in string }{
		{"empty", ""},
		{"not base64", "!!!"},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte(`{"s":"id","i":1}`))},
		{"not json", wire("hello")},
		{"zero id", wire(`{"s":"id","i":0}`)},
		{"negative id", wire(`{"s":"id","i":-5}`)},
		{"no id", wire(`{"s":"id"}`)},
		{"no sort", wire(`{"i":1}`)},
		{"bad sort", wire(`{"s":"stock","i":1}`)},
		{"unknown field", wire(`{"s":"id","i":1,"x":1}`)},
		{"id as string", wire(`{"s":"id","i":"1"}`)},
		{"fractional id", wire(`{"s":"id","i":1.5}`)},
		{"json array", wire(`[1]`)},
		{"trailing data", wire(`{"s":"id","i":1}{}`)},
		{"trailing garbage", wire(`{"s":"id","i":1} x`)},
		{"too long", wire(`{"s":"name","k":"` + strings.Repeat("a", 1000) + `","i":1}`)},
	}
	for _, tc := range cases {
		c, err := domain.DecodeCursor(tc.in)
		if domain.KindOf(err) != domain.KindInvalid || !namesField(err, "cursor") {
			t.Errorf("%s: DecodeCursor(%q) = %+v, %v; want invalid naming cursor", tc.name, tc.in, c, err)
		}
	}
}

// FuzzDecodeCursor checks that DecodeCursor never panics and that what it
// accepts is a cursor that Encode gives back and that decodes the same.
func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []domain.Cursor{{Sort: "id", ID: 1}, {Sort: "-name", Key: "a\"b", ID: 9}, {Sort: "createdAt", Key: "2026-11-25T10:00:00Z", ID: 3}} {
		f.Add(c.Encode())
	}
	for _, s := range []string{"", "!!!", "e30", wire(`{"s":"id","i":1}{}`), wire(`{"s":"id","i":0}`),
		wire(`{"S":"ID","I":1}`), wire(`{"s":"id","i":1,"s":"-id"}`), wire(`{"s":"name","k":"\ud800","i":1}`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := domain.DecodeCursor(s)
		if err != nil {
			if domain.KindOf(err) != domain.KindInvalid {
				t.Fatalf("DecodeCursor(%q): error of kind %s, want invalid", s, domain.KindOf(err))
			}
			return
		}
		if c.ID <= 0 {
			t.Fatalf("DecodeCursor(%q) accepted id %d", s, c.ID)
		}
		if _, err := domain.ParseSort(c.Sort); err != nil || c.Sort == "" {
			t.Fatalf("DecodeCursor(%q) accepted sort %q", s, c.Sort)
		}
		again, err := domain.DecodeCursor(c.Encode())
		if err != nil || again != c {
			t.Fatalf("DecodeCursor(%q) = %+v, which re-encodes to %q and decodes to %+v, %v", s, c, c.Encode(), again, err)
		}
	})
}

func TestProductQueryValidate(t *testing.T) {
	t.Parallel()
	byName := domain.Sort{Field: domain.SortByName}
	cases := []struct {
		name   string
		q      domain.ProductQuery
		fields []string
	}{
		{"defaults", domain.ProductQuery{Limit: domain.DefaultPageSize}, nil},
		{"full", domain.ProductQuery{Limit: 100, CategoryID: 3, Q: "go", Sort: byName,
			After: &domain.Cursor{Sort: "name", Key: "go", ID: 4}}, nil},
		{"limit zero", domain.ProductQuery{Limit: 0}, []string{"limit"}},
		{"limit too big", domain.ProductQuery{Limit: 101}, []string{"limit"}},
		{"negative category", domain.ProductQuery{Limit: 1, CategoryID: -1}, []string{"categoryId"}},
		{"q too long", domain.ProductQuery{Limit: 1, Q: strings.Repeat("x", 801)}, []string{"q"}},
		{"cursor of another sort", domain.ProductQuery{Limit: 1, Sort: byName,
			After: &domain.Cursor{Sort: "-name", Key: "go", ID: 4}}, []string{"cursor"}},
		{"everything wrong", domain.ProductQuery{Limit: -1, CategoryID: -1, Q: strings.Repeat("x", 801),
			After: &domain.Cursor{Sort: "price", ID: 1}}, []string{"limit", "categoryId", "q", "cursor"}},
	}
	for _, tc := range cases {
		checkFields(t, tc.name, tc.q.Validate(), tc.fields)
	}
}

func TestCategoryQueryValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		q      domain.CategoryQuery
		fields []string
	}{
		{"first page", domain.CategoryQuery{Limit: 20}, nil},
		{"next page", domain.CategoryQuery{Limit: 20, After: &domain.Cursor{Sort: "id", ID: 5}}, nil},
		{"limit zero", domain.CategoryQuery{Limit: 0}, []string{"limit"}},
		{"product cursor", domain.CategoryQuery{Limit: 20, After: &domain.Cursor{Sort: "-id", ID: 5}}, []string{"cursor"}},
	}
	for _, tc := range cases {
		checkFields(t, tc.name, tc.q.Validate(), tc.fields)
	}
}

// checkFields fails unless err is nil when no fields are wanted, or an
// invalid error naming exactly the wanted fields, in order.
func checkFields(t *testing.T, name string, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("%s: unexpected error %v", name, err)
		}
		return
	}
	de, ok := err.(*domain.Error)
	if !ok || de.Kind != domain.KindInvalid {
		t.Errorf("%s: error %v, want invalid fields %v", name, err, want)
		return
	}
	var got []string
	for _, f := range de.Fields {
		if f.Message == "" {
			t.Errorf("%s: field %s has no message", name, f.Field)
		}
		got = append(got, f.Field)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: invalid fields %v, want %v", name, got, want)
	}
}

// TestCursorKeysRoundTrip checks that the one cursor-key format reads back
// to the position it was cut at, for every sort, through the opaque form
// clients hold, and that the order puts that position before the next row.
func TestCursorKeysRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC)
	last := domain.Product{ID: 7, Name: "Alpha & <b> ü", Price: 1999, CreatedAt: at}
	next := domain.Product{ID: 8, Name: "Zed", Price: 2000, CreatedAt: at.Add(time.Microsecond)}
	for _, field := range []domain.SortField{domain.SortByID, domain.SortByName, domain.SortByPrice, domain.SortByCreatedAt} {
		for _, desc := range []bool{false, true} {
			s := domain.Sort{Field: field, Desc: desc}
			c, err := domain.DecodeCursor(s.CursorAt(last).Encode())
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			pos, err := c.Position(s.Field)
			if err != nil {
				t.Fatalf("%s: position: %v", s, err)
			}
			if s.Compare(pos, last) != 0 {
				t.Errorf("%s: the cursor reads back as %+v, not at %+v", s, pos, last)
			}
			if want := map[bool]int{false: -1, true: 1}[desc]; s.Compare(pos, next) != want {
				t.Errorf("%s: Compare(cursor, next) = %d, want %d", s, s.Compare(pos, next), want)
			}
		}
	}
	if _, err := (domain.Cursor{Sort: "price", Key: "abc", ID: 1}).Position(domain.SortByPrice); domain.KindOf(err) != domain.KindInvalid {
		t.Errorf("a price key that is not cents: %v, want invalid", err)
	}
}
