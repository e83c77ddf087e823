package httpapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/etalase/etalase/domain"
)

func members(t *testing.T, body string) *object {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("test body %s: %v", body, err)
	}
	return newObject(m)
}

func TestObjectInteger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		want    member[int64]
		wantErr string
	}{
		{`{}`, member[int64]{}, ""},
		{`{"n": 7}`, member[int64]{present: true, value: 7}, ""},
		{`{"n": -3}`, member[int64]{present: true, value: -3}, ""},
		{`{"n": null}`, member[int64]{present: true, null: true}, ""},
		{`{"n": 1.5}`, member[int64]{present: true}, "must be an integer"},
		{`{"n": 1e3}`, member[int64]{present: true}, "must be an integer"},
		{`{"n": "7"}`, member[int64]{present: true}, "must be an integer"},
		{`{"n": true}`, member[int64]{present: true}, "must be an integer"},
		{`{"n": 99999999999999999999999999}`, member[int64]{present: true}, "is out of range"},
	}
	for _, tt := range tests {
		o := members(t, tt.body)
		got := o.integer("n")
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.body, got, tt.want)
		}
		checkOneError(t, tt.body, o.errs, "n", tt.wantErr)
	}
}

func TestObjectPrice(t *testing.T) {
	t.Parallel()
	rangeMsg := "must be between 0 and 9999999999.99"
	formMsg := "must be a decimal number such as 19.99"
	exponentMsg := `must be written without an exponent, as 1000 or "1000.00"`
	tests := []struct {
		body    string
		want    domain.Price
		wantErr string
	}{
		{`{"p": 19.99}`, 1999, ""},
		{`{"p": "19.99"}`, 1999, ""},
		{`{"p": " 5.5 "}`, 550, ""},
		{`{"p": 0}`, 0, ""},
		{`{"p": 9999999999.99}`, domain.MaxPrice, ""},
		{`{"p": 10000000000}`, 0, rangeMsg},
		{`{"p": 1.999}`, 0, "must have at most two fraction digits"},
		{`{"p": -1}`, 0, rangeMsg},
		{`{"p": 1e2}`, 0, exponentMsg},
		{`{"p": 1E+3}`, 0, exponentMsg},
		{`{"p": "1e3"}`, 0, exponentMsg},
		{`{"p": "abc"}`, 0, formMsg},
		{`{"p": "   "}`, 0, "must not be empty"},
		{`{"p": "1,000"}`, 0, formMsg},
		{`{"p": 1e400}`, 0, exponentMsg},
		{`{"p": 123456789012345678901234567890}`, 0, rangeMsg},
		{`{"p": true}`, 0, "must be a decimal number or string"},
		{`{"p": [1]}`, 0, "must be a decimal number or string"},
	}
	for _, tt := range tests {
		o := members(t, tt.body)
		got := o.price("p")
		if got.value != tt.want {
			t.Errorf("%s: got %d, want %d", tt.body, got.value, tt.want)
		}
		checkOneError(t, tt.body, o.errs, "p", tt.wantErr)
	}
}

func TestObjectString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		want    member[string]
		wantErr string
	}{
		{`{"s": "  Go in Action "}`, member[string]{present: true, value: "Go in Action"}, ""},
		{`{"s": null}`, member[string]{present: true, null: true}, ""},
		{`{"s": 5}`, member[string]{present: true}, "must be a string"},
		{`{"s": {"a": 1}}`, member[string]{present: true}, "must be a string"},
	}
	for _, tt := range tests {
		o := members(t, tt.body)
		got := o.str("s")
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.body, got, tt.want)
		}
		checkOneError(t, tt.body, o.errs, "s", tt.wantErr)
	}
}

func TestObjectUnknownListsEveryMember(t *testing.T) {
	t.Parallel()
	o := members(t, `{"name": "x", "colour": "red", "Price": 1}`)
	o.str("name")
	o.unknown()
	want := domain.FieldErrors{
		{Field: "Price", Message: "is not a field of this resource"},
		{Field: "colour", Message: "is not a field of this resource"},
	}
	if !reflect.DeepEqual(o.errs, want) {
		t.Fatalf("got %+v, want %+v", o.errs, want)
	}
}

func checkOneError(t *testing.T, body string, errs domain.FieldErrors, field, want string) {
	t.Helper()
	if want == "" {
		if len(errs) != 0 {
			t.Errorf("%s: unexpected errors %+v", body, errs)
		}
		return
	}
	if len(errs) != 1 || errs[0].Field != field || errs[0].Message != want {
		t.Errorf("%s: got errors %+v, want %s: %s", body, errs, field, want)
	}
}

// TestShapeIsPresenceOnly checks that the validator checks which members a
// create must give, named as JSON spells them, and no limit: the limits
// are the domain's alone.
func TestShapeIsPresenceOnly(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", domain.MaxProductNameLength+1)
	zero := int64(0)
	price := domain.MaxPrice + 1
	if errs := shapeErrors(productRequest{Name: &long, CategoryID: &zero, Price: &price}); len(errs) != 0 {
		t.Fatalf("the validator checked a limit: %+v", errs)
	}
	want := domain.FieldErrors{
		{Field: "name", Message: "is required"},
		{Field: "price", Message: "is required"},
		{Field: "categoryId", Message: "is required"},
	}
	if got := shapeErrors(productRequest{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("empty request: got %+v, want %+v", got, want)
	}
	for _, tag := range []string{"min", "max", "gt", "len"} {
		for _, typ := range []reflect.Type{reflect.TypeOf(productRequest{}), reflect.TypeOf(categoryRequest{})} {
			for f := range typ.Fields() {
				if strings.Contains(f.Tag.Get("validate"), tag) {
					t.Errorf("%s.%s declares the limit %q; limits live in domain", typ.Name(), f.Name, f.Tag.Get("validate"))
				}
			}
		}
	}
}

func TestMergeFieldsKeepsFirstComplaint(t *testing.T) {
	t.Parallel()
	got := mergeFields(domain.FieldErrors{{Field: "price", Message: "first"}},
		domain.FieldError{Field: "price", Message: "second"}, domain.FieldError{Field: "name", Message: "n"})
	want := domain.FieldErrors{{Field: "price", Message: "first"}, {Field: "name", Message: "n"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestScanObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body       string
		wantStatus int // 0: accepted
		wantKeys   int
		wantDup    []string
	}{
		{`{}`, 0, 0, nil},
		{` {"a": {"b": [1, {"c": null}]}, "d": "e"} `, 0, 2, nil},
		{`{"a": 1, "b": 2, "a": 3, "a": 4}`, 0, 2, []string{"a"}},
		{`{"a": 1} {"b": 2}`, 400, 0, nil},
		{`{"a": 1} x`, 400, 0, nil},
		{`{"a": 1`, 400, 0, nil},
		{`{"a" 1}`, 400, 0, nil},
		{`{1: 2}`, 400, 0, nil},
		{`[{"a": 1}]`, 400, 0, nil},
		{`"a"`, 400, 0, nil},
		{`null`, 400, 0, nil},
		{`{"a": [}`, 400, 0, nil},
	}
	for _, tt := range tests {
		o, err := scanObject([]byte(tt.body))
		if tt.wantStatus != 0 {
			var he *httpError
			if !errors.As(err, &he) || he.status != tt.wantStatus {
				t.Errorf("%s: got %v, want status %d", tt.body, err, tt.wantStatus)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.body, err)
			continue
		}
		if len(o.m) != tt.wantKeys {
			t.Errorf("%s: %d members, want %d", tt.body, len(o.m), tt.wantKeys)
		}
		var dups []string
		for _, e := range o.errs {
			dups = append(dups, e.Field)
		}
		if !reflect.DeepEqual(dups, tt.wantDup) {
			t.Errorf("%s: duplicates %v, want %v", tt.body, dups, tt.wantDup)
		}
	}
}
