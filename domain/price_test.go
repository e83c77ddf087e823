package domain_test

import (
	"math"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/etalase/etalase/domain"
)

func TestParsePrice(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want domain.Price
	}{
		{"19.99", 1999},
		{"5", 500},
		{"5.5", 550},
		{"5.50", 550},
		{"0.07", 7},
		{"0", 0},
		{"0.00", 0},
		{"000", 0},
		{"00012.30", 1230},
		{"9999999999.99", domain.MaxPrice},
		{"9999999999", domain.MaxPrice - 99},
		{"0000000000009999999999.99", domain.MaxPrice},
	}
	for _, tc := range valid {
		got, err := domain.ParsePrice(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParsePrice(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	invalid := []string{
		"", "-1", "+1", "-0.01", "1e3", "1E3", " 1", "1 ", "1.", ".5", "1.234", "0.001",
		"10000000000", "10000000000.00", "9999999999.999", "99999999999999999999999",
		"1,000", "1_000", "abc", "0x10", "１", "1.2.3", "NaN", "Inf", "12..3", "1.-2",
	}
	for _, in := range invalid {
		if got, err := domain.ParsePrice(in); err == nil {
			t.Errorf("ParsePrice(%q) = %d, want an error", in, got)
		}
	}
}

func TestPriceString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p    domain.Price
		want string
	}{
		{0, "0.00"},
		{7, "0.07"},
		{70, "0.70"},
		{1999, "19.99"},
		{100000, "1000.00"},
		{-150, "-1.50"},
		{-7, "-0.07"},
		{math.MinInt64, "-92233720368547758.08"},
		{domain.MaxPrice, "9999999999.99"},
	}
	for _, tc := range cases {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("Price(%d).String() = %q, want %q", int64(tc.p), got, tc.want)
		}
	}
}

// decimal is what ParsePrice must accept, size aside: at most MaxPriceText
// characters and MaxPrice.
var decimal = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)

// FuzzParsePrice checks that ParsePrice never panics, accepts exactly the
// plain decimals of at most two fraction digits between 0 and MaxPrice,
// written in at most MaxPriceText characters (leading zeros count),
// reads them to the cent, and that what it accepts round-trips through
// String.
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"19.99", "5", "5.5", "0.07", "0", "9999999999.99", "10000000000", "-1",
		"1e3", " 1", "1.", ".5", "1.234", "00012.30", "１", "\xff", "99999999999999999999.99",
		strings.Repeat("0", domain.MaxPriceText), strings.Repeat("0", domain.MaxPriceText+1)} {
		f.Add(s)
	}
	maxValue := big.NewRat(int64(domain.MaxPrice), 100)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := domain.ParsePrice(s)
		shouldAccept := false
		var value *big.Rat
		if decimal.MatchString(s) && len(s) <= domain.MaxPriceText {
			var ok bool
			value, ok = new(big.Rat).SetString(s)
			shouldAccept = ok && value.Cmp(maxValue) <= 0
		}
		if err != nil {
			if shouldAccept {
				t.Fatalf("ParsePrice(%q) refused a valid price: %v", s, err)
			}
			return
		}
		if !shouldAccept {
			t.Fatalf("ParsePrice(%q) = %d, want an error", s, int64(p))
		}
		if p < 0 || p > domain.MaxPrice {
			t.Fatalf("ParsePrice(%q) = %d, outside 0..MaxPrice", s, int64(p))
		}
		if new(big.Rat).SetFrac64(int64(p), 100).Cmp(value) != 0 {
			t.Fatalf("ParsePrice(%q) = %s, not the same amount", s, p)
		}
		back, err := domain.ParsePrice(p.String())
		if err != nil || back != p {
			t.Fatalf("ParsePrice(%q) = %d; its String %q parses as %d, %v", s, int64(p), p.String(), int64(back), err)
		}
	})
}
