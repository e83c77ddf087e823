package httpapi

import (
	"context"
	"errors"
	"sync"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"
)

// readyJSON is the body of /readyz.
type readyJSON struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// healthz answers 200 while the process can serve at all.
func (s *Server) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, fiber.StatusOK, map[string]string{"status": "ok"})
}

// readyz runs every check at once within ReadyTimeout. A failing critical
// check answers 503; a failing other one answers 200 "degraded". A check's
// error text is logged, never shown: it may hold an address or a secret.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.ReadyTimeout)
	defer cancel()
	results := make([]error, len(s.checks))
	var wg sync.WaitGroup
	for i, chk := range s.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runCheck(ctx, chk)
		}()
	}
	wg.Wait()

	out := readyJSON{Status: "ok", Checks: make(map[string]string, len(s.checks))}
	status := fiber.StatusOK
	for i, chk := range s.checks {
		if results[i] == nil {
			out.Checks[chk.Name] = "ok"
			continue
		}
		out.Checks[chk.Name] = "error: unavailable"
		s.log.Warn("readiness check failed", zap.String("check", chk.Name),
			zap.Bool("critical", chk.Critical), zap.String("request_id", RequestID(c)), zap.Error(results[i]))
		if chk.Critical {
			status = fiber.StatusServiceUnavailable
			out.Status = "unavailable"
		} else if out.Status == "ok" {
			out.Status = "degraded"
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, status, out)
}

// errCheckPanicked is the failure of a check that panicked.
var errCheckPanicked = errors.New("check panicked")

// runCheck runs one check until ctx ends, turning a panic into a failure
// so one broken probe cannot take the readiness endpoint down.
func runCheck(ctx context.Context, chk Check) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- errCheckPanicked
			}
		}()
		done <- chk.Run(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
