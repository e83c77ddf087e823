package domain

import (
	"fmt"
	"strconv"
	"strings"
)

// Price is an amount of money in cents. Money is never a float here.
type Price int64

// MaxPrice is the largest price the catalog accepts: 9999999999.99.
const MaxPrice Price = 999_999_999_999

// ParsePrice reads a non-negative decimal with at most two fraction digits,
// such as "19.99", "5", "5.5" or "0.07". It accepts no sign, exponent,
// spaces or thousands separators: what a client sends is what it means.
func ParsePrice(s string) (Price, error) {
	if s == "" {
		return 0, fmt.Errorf("price is empty")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return 0, fmt.Errorf("price %q is not a decimal number", s)
	}
	if len(frac) > 2 {
		return 0, fmt.Errorf("price has more than two fraction digits")
	}
	if !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("price %q is not a decimal number", s)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 10 {
		return 0, fmt.Errorf("price exceeds %s", MaxPrice)
	}
	var units int64
	if whole != "" {
		var err error
		if units, err = strconv.ParseInt(whole, 10, 64); err != nil {
			return 0, fmt.Errorf("price %q is not a decimal number", s)
		}
	}
	cents := int64(0)
	for i := 0; i < 2; i++ {
		cents *= 10
		if i < len(frac) {
			cents += int64(frac[i] - '0')
		}
	}
	p := Price(units*100 + cents)
	if p > MaxPrice {
		return 0, fmt.Errorf("price exceeds %s", MaxPrice)
	}
	return p, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats the price with two fraction digits, as "19.99".
func (p Price) String() string {
	sign := ""
	c := int64(p)
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}
