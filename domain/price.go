package domain

import (
	"strconv"
	"strings"
)

// Price is an amount of money in cents. Money is never a float here.
type Price int64

// MaxPriceText is the longest text a price may be written in, spaces and
// leading zeros included.
const MaxPriceText = 32

// MaxPrice is the largest price the catalog accepts: 9999999999.99.
const MaxPrice Price = 999_999_999_999

// ParsePrice reads a non-negative decimal with at most two fraction digits,
// such as "19.99", "5", "5.5" or "0.07". It accepts no sign, exponent,
// spaces or thousands separators: what a client sends is what it means.
// Its error is Invalid, with a field error on "price" saying what is wrong
// with the form or the amount.
func ParsePrice(s string) (Price, error) {
	bad := func(message string) (Price, error) {
		return 0, Invalid("bad price", FieldError{Field: "price", Message: message})
	}
	outOfRange := "must be between 0 and " + MaxPrice.String()
	whole, frac, hasDot := strings.Cut(s, ".")
	switch {
	case s == "":
		return bad("must not be empty")
	case len(s) > MaxPriceText:
		return bad("must be at most " + strconv.Itoa(MaxPriceText) + " characters")
	case strings.ContainsAny(s, "eE") && !strings.ContainsFunc(s, unicodeLetterNotE):
		return bad("must be written without an exponent, as 1000 or \"1000.00\"")
	case strings.HasPrefix(s, "-"):
		return bad(outOfRange)
	case whole == "" || (hasDot && frac == "") || !allDigits(whole) || !allDigits(frac):
		return bad("must be a decimal number such as 19.99")
	case len(frac) > 2:
		return bad("must have at most two fraction digits")
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 10 {
		return bad(outOfRange)
	}
	var units int64
	if whole != "" {
		var err error
		if units, err = strconv.ParseInt(whole, 10, 64); err != nil {
			return bad("must be a decimal number such as 19.99")
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
		return bad(outOfRange)
	}
	return p, nil
}

// unicodeLetterNotE reports a letter other than e or E: "1e3" is a number
// with an exponent, "1eur" is not a number at all.
func unicodeLetterNotE(r rune) bool {
	return r != 'e' && r != 'E' && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
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
//
// It appends digits rather than calling fmt.Sprintf: every product the API
// writes formats its price, and this way costs one allocation instead of two
// and none of fmt's reflection.
func (p Price) String() string {
	var buf [24]byte
	b := buf[:0]
	c := int64(p)
	u := uint64(c)
	if c < 0 {
		b, u = append(b, '-'), -u
	}
	b = strconv.AppendUint(b, u/100, 10)
	b = append(b, '.', byte('0'+u%100/10), byte('0'+u%10))
	return string(b)
}
