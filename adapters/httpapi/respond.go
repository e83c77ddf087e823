package httpapi

import (
	"bytes"
	"encoding/json"

	"github.com/gofiber/fiber/v2"
)

// marshalJSON encodes v as JSON without the HTML escapes of json.Marshal:
// a name is "Books & Comics" on the wire, not "Books \u0026 Comics". No
// response of the API is HTML, and every one says it is JSON.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// notModified turns the response into a 304: no body, and none of the
// headers that describe one.
func notModified(c *fiber.Ctx) {
	c.Status(fiber.StatusNotModified)
	c.Response().ResetBody()
	c.Response().Header.Del(fiber.HeaderContentType)
	c.Response().Header.SetNoDefaultContentType(true)
}

// isRead reports whether the request is a GET or HEAD, the only methods a
// 304 answers.
func isRead(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead
}

// sendItem writes a single item with its strong ETag, or 304 when the
// client already holds that representation.
func sendItem(c *fiber.Ctx, status int, etag string, v any) error {
	c.Set(fiber.HeaderETag, etag)
	if status == fiber.StatusOK && isRead(c) && noneMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
		notModified(c)
		return nil
	}
	return sendJSON(c, status, v)
}

// sendList writes a list page with an ETag of its bytes, or 304.
func sendList(c *fiber.Ctx, v any) error {
	body, err := marshalJSON(v)
	if err != nil {
		return err
	}
	etag := bodyETag(body)
	c.Set(fiber.HeaderETag, etag)
	if isRead(c) && noneMatch(c.Get(fiber.HeaderIfNoneMatch), etag) {
		notModified(c)
		return nil
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(fiber.StatusOK).Send(body)
}

func sendJSON(c *fiber.Ctx, status int, v any) error {
	body, err := marshalJSON(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}
