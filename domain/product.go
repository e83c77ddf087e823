package domain

import (
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of product fields, shared by every adapter that checks input.
const (
	MaxSKULength         = 64
	MaxProductNameLength = 200
	MaxDescriptionLength = 2000
	MaxStock             = math.MaxInt32
)

var skuPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Product is an item of the catalog with the category it embeds. Version
// starts at 1 and grows by one on every change of the product;
// CategoryVersion is the version of the embedded category, read with its
// name.
type Product struct {
	ID              int64
	SKU             *string
	Name            string
	Description     *string
	Price           Price
	Stock           int64
	CategoryID      int64
	CategoryName    string
	CategoryVersion int64
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// ProductRevision names one state of a product as a client sees it: its
// own version and that of the category it embeds. Renaming the category
// makes another revision of every product in it, so the revision, not the
// version alone, is the product's optimistic-concurrency token and ETag.
// The product's version changes with its categoryId, so the pair never
// names two states.
type ProductRevision struct {
	Version         int64
	CategoryVersion int64
}

// Revision returns the revision p shows.
func (p Product) Revision() ProductRevision {
	return ProductRevision{Version: p.Version, CategoryVersion: p.CategoryVersion}
}

// Fields returns the writable part of the product.
func (p Product) Fields() ProductFields {
	return ProductFields{
		SKU:         p.SKU,
		Name:        p.Name,
		Description: p.Description,
		Price:       p.Price,
		Stock:       p.Stock,
		CategoryID:  p.CategoryID,
	}
}

// ProductFields is what a client may write of a product.
type ProductFields struct {
	SKU         *string
	Name        string
	Description *string
	Price       Price
	Stock       int64
	CategoryID  int64
}

// Equal reports whether f and g are the same fields.
func (f ProductFields) Equal(g ProductFields) bool {
	return equalOptional(f.SKU, g.SKU) && f.Name == g.Name && equalOptional(f.Description, g.Description) &&
		f.Price == g.Price && f.Stock == g.Stock && f.CategoryID == g.CategoryID
}

func equalOptional(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Normalize trims the strings, as the contract asks before any check.
func (f ProductFields) Normalize() ProductFields {
	if f.SKU != nil {
		s := strings.TrimSpace(*f.SKU)
		f.SKU = &s
	}
	f.Name = strings.TrimSpace(f.Name)
	if f.Description != nil {
		d := strings.TrimSpace(*f.Description)
		f.Description = &d
	}
	return f
}

// Validate checks every rule and lists every broken one. Call it on
// normalized fields. Whether CategoryID names a real category is the
// repository's to say.
func (f ProductFields) Validate() error {
	var errs FieldErrors
	if f.SKU != nil {
		switch n := utf8.RuneCountInString(*f.SKU); {
		case n == 0 || n > MaxSKULength:
			errs.Add("sku", "must be 1 to "+itoa(MaxSKULength)+" characters")
		case !skuPattern.MatchString(*f.SKU):
			errs.Add("sku", "may contain only letters, digits, '.', '_' and '-'")
		}
	}
	checkText(&errs, "name", f.Name, 1, MaxProductNameLength)
	if f.Description != nil {
		checkText(&errs, "description", *f.Description, 0, MaxDescriptionLength)
	}
	if f.Price < 0 || f.Price > MaxPrice {
		errs.Add("price", "must be between 0 and "+MaxPrice.String())
	}
	if f.Stock < 0 || f.Stock > MaxStock {
		errs.Add("stock", "must be between 0 and "+itoa(MaxStock))
	}
	if f.CategoryID <= 0 {
		errs.Add("categoryId", "is required and must be a positive integer")
	}
	return errs.Err()
}

func checkText(errs *FieldErrors, field, s string, minLen, maxLen int) {
	if !utf8.ValidString(s) {
		errs.Add(field, "must be valid UTF-8")
		return
	}
	if strings.ContainsRune(s, 0) {
		errs.Add(field, "must not contain NUL characters")
		return
	}
	n := utf8.RuneCountInString(s)
	if n < minLen || n > maxLen {
		if minLen > 0 {
			errs.Add(field, "must be "+itoa(minLen)+" to "+itoa(maxLen)+" characters")
		} else {
			errs.Add(field, "must be at most "+itoa(maxLen)+" characters")
		}
	}
}
