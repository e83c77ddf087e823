package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// versionETag is the strong ETag of a single item: its version, quoted.
func versionETag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
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

// ifMatchVersion reads If-Match into the version the client expects. No
// header or "*" expects nothing; a strong tag of a version expects it;
// anything else (weak, malformed, a list) can never match: 412.
func ifMatchVersion(header string) (*int64, error) {
	h := strings.TrimSpace(header)
	if h == "" || h == "*" {
		return nil, nil
	}
	stale := errPrecondition("If-Match must be the strong ETag of the current item, such as \"3\"")
	if len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return nil, stale
	}
	digits := h[1 : len(h)-1]
	if len(digits) > 19 || !allDigits(digits) {
		return nil, stale
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || v <= 0 {
		return nil, stale
	}
	return &v, nil
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

// isRead reports whether the request is a GET or HEAD, the only methods a
// 304 answers.
func isRead(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead
}

// sendItem writes a single item with its version ETag, or 304 when the
// client already holds that version.
func sendItem(c *fiber.Ctx, status int, version int64, v any) error {
	etag := versionETag(version)
	c.Set(fiber.HeaderETag, etag)
	if status == fiber.StatusOK && isRead(c) && noneMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
		c.Status(fiber.StatusNotModified)
		return nil
	}
	return sendJSON(c, status, v)
}

// sendList writes a list page with an ETag of its bytes, or 304.
func sendList(c *fiber.Ctx, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	etag := bodyETag(body)
	c.Set(fiber.HeaderETag, etag)
	if isRead(c) && noneMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
		c.Status(fiber.StatusNotModified)
		return nil
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(fiber.StatusOK).Send(body)
}

func sendJSON(c *fiber.Ctx, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}
