package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an Error so the edges (HTTP, worker) can react without
// knowing which adapter produced it.
type Kind int

// The kinds of error. KindInternal is the zero value on purpose: an error of
// unknown origin is a bug until proven otherwise.
const (
	KindInternal     Kind = iota // a bug or an unexpected fault
	KindInvalid                  // the input breaks a rule (422)
	KindNotFound                 // the thing does not exist (404)
	KindConflict                 // a uniqueness or state conflict (409)
	KindPrecondition             // an expected version did not match (412)
	KindUnavailable              // a dependency is down; retry later (503)
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict"
	case KindPrecondition:
		return "precondition failed"
	case KindUnavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// FieldError names one bad field of an input and says what is wrong with it.
type FieldError struct {
	Field   string
	Message string
}

// Error is the domain's error. Detail is safe to show to a client; Err is the
// cause, kept for logs and errors.Is/As, and never shown.
type Error struct {
	Kind   Kind
	Detail string
	Fields []FieldError
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// NotFound reports that the named thing does not exist.
func NotFound(format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Detail: fmt.Sprintf(format, args...)}
}

// Conflict reports a uniqueness or state conflict; fields may name the culprit.
func Conflict(detail string, fields ...FieldError) *Error {
	return &Error{Kind: KindConflict, Detail: detail, Fields: fields}
}

// Invalid reports input that breaks one or more rules, every bad field listed.
func Invalid(detail string, fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Detail: detail, Fields: fields}
}

// PreconditionFailed reports that the caller's expected version is stale.
func PreconditionFailed(detail string) *Error {
	return &Error{Kind: KindPrecondition, Detail: detail}
}

// Unavailable wraps a dependency failure the client may retry later.
func Unavailable(detail string, cause error) *Error {
	return &Error{Kind: KindUnavailable, Detail: detail, Err: cause}
}

// KindOf returns the Kind of the first *Error in err's chain, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// FieldErrors collects field errors while an input is checked.
type FieldErrors []FieldError

// Add records that field is wrong.
func (f *FieldErrors) Add(field, message string) {
	*f = append(*f, FieldError{Field: field, Message: message})
}

// Err returns an Invalid error listing every field, or nil if there are none.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid("the request has invalid fields", f...)
}
