package domain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/etalase/etalase/domain"
)

func TestKindOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want domain.Kind
	}{
		{"nil", nil, domain.KindInternal},
		{"plain error", errors.New("boom"), domain.KindInternal},
		{"not found", domain.NotFound("product %d not found", 4), domain.KindNotFound},
		{"wrapped conflict", fmt.Errorf("create: %w", domain.Conflict("taken")), domain.KindConflict},
		{"twice wrapped invalid", fmt.Errorf("a: %w", fmt.Errorf("b: %w", domain.Invalid("bad"))), domain.KindInvalid},
		{"precondition", domain.PreconditionFailed("stale"), domain.KindPrecondition},
		{"unavailable", domain.Unavailable("db down", errors.New("dial")), domain.KindUnavailable},
	}
	for _, tc := range cases {
		if got := domain.KindOf(tc.err); got != tc.want {
			t.Errorf("%s: KindOf = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp: refused")
	err := domain.Unavailable("database unreachable", cause)
	if !errors.Is(err, cause) {
		t.Fatal("Unavailable does not unwrap to its cause")
	}
	if got, want := err.Error(), "unavailable: database unreachable: dial tcp: refused"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	inv := domain.Invalid("bad input", domain.FieldError{Field: "price", Message: "too big"})
	if got := inv.Error(); !strings.Contains(got, "price: too big") || !strings.HasPrefix(got, "invalid") {
		t.Fatalf("Error() = %q, want the kind and the field", got)
	}
}

func TestFieldErrors(t *testing.T) {
	t.Parallel()
	var fe domain.FieldErrors
	if fe.Err() != nil {
		t.Fatal("no field errors, yet Err is not nil")
	}
	fe.Add("name", "is required")
	fe.Add("price", "is negative")
	checkFields(t, "two fields", fe.Err(), []string{"name", "price"})
}

func TestKindString(t *testing.T) {
	t.Parallel()
	want := map[domain.Kind]string{
		domain.KindInternal: "internal", domain.KindInvalid: "invalid", domain.KindNotFound: "not found",
		domain.KindConflict: "conflict", domain.KindPrecondition: "precondition failed",
		domain.KindUnavailable: "unavailable", domain.Kind(99): "internal",
	}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), k.String(), s)
		}
	}
}
