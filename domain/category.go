package domain

import (
	"strconv"
	"strings"
	"time"
)

// MaxCategoryNameLength is the longest category name, in characters.
const MaxCategoryNameLength = 100

// Category groups products. Names are unique ignoring case.
type Category struct {
	ID        int64
	Name      string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CategoryFields is what a client may write of a category.
type CategoryFields struct {
	Name string
}

// Normalize trims the name.
func (f CategoryFields) Normalize() CategoryFields {
	f.Name = strings.TrimSpace(f.Name)
	return f
}

// Validate checks the (normalized) fields.
func (f CategoryFields) Validate() error {
	var errs FieldErrors
	checkText(&errs, "name", f.Name, 1, MaxCategoryNameLength)
	return errs.Err()
}

func itoa(n int) string { return strconv.Itoa(n) }
