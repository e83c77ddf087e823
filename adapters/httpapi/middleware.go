package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"runtime/debug"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"go.uber.org/zap"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-ID"

const (
	localRequestID  = "etalase.requestId"
	localPanicStack = "etalase.panicStack"
	maxRequestID    = 128
)

// saneRequestID accepts the ids a proxy or client plausibly sends: short,
// visible ASCII without quotes or separators that could split a log line.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		ok := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ||
			ch == '-' || ch == '_' || ch == '.' || ch == ':' || ch == '/' || ch == '+' || ch == '='
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ensureRequestID returns the request's id, choosing and announcing one if
// no middleware did yet (fiber reports some errors before any middleware).
func ensureRequestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(localRequestID).(string); ok && id != "" {
		return id
	}
	id := c.Get(HeaderRequestID)
	if !saneRequestID(id) {
		id = newRequestID()
	} else {
		id = string([]byte(id))
	}
	c.Locals(localRequestID, id)
	c.Set(HeaderRequestID, id)
	return id
}

// RequestID returns the id of the request, as the X-Request-ID response
// header and every log line about it show it.
func RequestID(c *fiber.Ctx) string { return ensureRequestID(c) }

// requestID honours a sane incoming X-Request-ID, else makes one, and puts
// it on the response.
func (s *Server) requestID(c *fiber.Ctx) error {
	ensureRequestID(c)
	return c.Next()
}

// accessLog writes one line per request. It runs the error handler itself,
// so the line shows the status the client got.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	route := routeLabel(c)
	if err != nil {
		var fe *fiber.Error
		if errors.As(err, &fe) && (fe.Code == fiber.StatusNotFound || fe.Code == fiber.StatusMethodNotAllowed) {
			route = "unmatched"
		}
		if herr := s.handleError(c, err); herr != nil {
			s.log.Error("write error response", zap.String("request_id", RequestID(c)), zap.Error(herr))
			c.Status(fiber.StatusInternalServerError)
		}
	}
	// Probes come every few seconds and say nothing: they log at debug.
	lvl := zap.InfoLevel
	if route == "/healthz" || route == "/readyz" {
		lvl = zap.DebugLevel
	}
	// Check first: a logger that drops info lines costs no fields.
	ce := s.log.Check(lvl, "http request")
	if ce == nil {
		return nil
	}
	fields := []zap.Field{
		zap.String("method", c.Method()),
		zap.String("route", route),
		zap.String("path", c.Path()),
		zap.Int("status", c.Response().StatusCode()),
		zap.Duration("duration", time.Since(start)),
		zap.String("request_id", RequestID(c)),
	}
	if name := KeyName(c); name != "" {
		fields = append(fields, zap.String("key", name))
	}
	ce.Write(fields...)
	return nil
}

// recoverPanics is fiber's recover middleware: a handler's panic becomes an
// error for the error handler (a 500), and its stack is kept for the log.
func recoverPanics() fiber.Handler {
	return recover.New(recover.Config{
		EnableStackTrace: true,
		StackTraceHandler: func(c *fiber.Ctx, _ any) {
			c.Locals(localPanicStack, string(debug.Stack()))
		},
	})
}
