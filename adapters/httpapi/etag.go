package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/etalase/etalase/domain"
)

// versionETag is the strong ETag of an item that shows nothing but its own
// fields (a category): its version, quoted, such as "7".
func versionETag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// productETag is the strong ETag of a product: its version and that of the
// category it embeds, such as "3.7", so renaming the category changes it.
func productETag(r domain.ProductRevision) string {
	return `"` + strconv.FormatInt(r.Version, 10) + "." + strconv.FormatInt(r.CategoryVersion, 10) + `"`
}

// bodyETag is the strong ETag of a representation with no version of its
// own (a list page): a digest of its bytes.
func bodyETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// opaqueTag strips the weakness marker from an entity tag.
func opaqueTag(tag string) string {
	return strings.TrimPrefix(strings.TrimSpace(tag), "W/")
}

// noneMatch reports whether If-None-Match names etag (weak comparison, as
// RFC 9110 prescribes for it) or is "*".
func noneMatch(header, etag string) bool {
	h := strings.TrimSpace(header)
	if h == "" {
		return false
	}
	if h == "*" {
		return true
	}
	for _, t := range strings.Split(h, ",") {
		if opaqueTag(t) == etag {
			return true
		}
	}
	return false
}

// ifMatchVersion reads If-Match into the category version the client
// expects, from a tag such as "7" (see ifMatchTag).
func ifMatchVersion(header string) (*int64, error) {
	n, err := ifMatchTag(header, 1)
	if n == nil || err != nil {
		return nil, err
	}
	return &n[0], nil
}

// ifMatchRevision reads If-Match into the product revision the client
// expects, from a tag such as "3.7" (see ifMatchTag).
func ifMatchRevision(header string) (*domain.ProductRevision, error) {
	n, err := ifMatchTag(header, 2)
	if n == nil || err != nil {
		return nil, err
	}
	return &domain.ProductRevision{Version: n[0], CategoryVersion: n[1]}, nil
}

// errStaleTag is an If-Match that can never match; the handler answers it
// as a stale one, naming the item's current ETag (see preconditionFailed).
var errStaleTag = errPrecondition("If-Match does not name the current item")

// preconditionFailed is the 412 of a change whose If-Match is stale or can
// never match: it names the current ETag of the item, which the client
// needs to retry, or is the error of reading it (a 404 when it is gone).
func preconditionFailed(current func() (string, error)) error {
	etag, err := current()
	if err != nil {
		return err
	}
	return errPrecondition("If-Match does not name the current item: its ETag is now " + etag +
		" (If-Match takes the strong ETag of a GET, or *)")
}

// ifMatchTag reads If-Match as a strong tag of parts positive numbers
// joined by dots. No header or "*" expects nothing (nil); anything else
// that is not such a tag (weak, malformed, a list, the tag of another
// kind of item) can never match: errStaleTag.
func ifMatchTag(header string, parts int) ([]int64, error) {
	h := strings.TrimSpace(header)
	if h == "" || h == "*" {
		return nil, nil
	}
	stale := errStaleTag
	if len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return nil, stale
	}
	fields := strings.Split(h[1:len(h)-1], ".")
	if len(fields) != parts {
		return nil, stale
	}
	out := make([]int64, parts)
	for i, digits := range fields {
		if len(digits) > 19 || !allDigits(digits) {
			return nil, stale
		}
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || v <= 0 {
			return nil, stale
		}
		out[i] = v
	}
	return out, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
