package httpapi

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"
)

// DefaultReadyTimeout bounds all readiness checks together unless the
// server's or the ops listener's configuration says otherwise.
const DefaultReadyTimeout = 2 * time.Second

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

// readyz answers the readiness of the dependencies; see readiness.
func (s *Server) readyz(c *fiber.Ctx) error {
	status, out := readiness(c.UserContext(), s.checks, s.cfg.ReadyTimeout,
		s.log.With(zap.String("request_id", RequestID(c))))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendJSON(c, status, out)
}

// readiness runs every check at once within timeout, for /readyz on
// HTTP_ADDR and on OPS_ADDR alike. A failing critical check answers 503; a
// failing other one answers 200 "degraded". A check's error text is
// logged, never shown: it may hold an address or a secret.
func readiness(ctx context.Context, checks []Check, timeout time.Duration, log *zap.Logger) (int, readyJSON) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, chk := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runCheck(ctx, chk)
		}()
	}
	wg.Wait()

	out := readyJSON{Status: "ok", Checks: make(map[string]string, len(checks))}
	status := http.StatusOK
	for i, chk := range checks {
		if results[i] == nil {
			out.Checks[chk.Name] = "ok"
			continue
		}
		out.Checks[chk.Name] = "error: unavailable"
		log.Warn("readiness check failed", zap.String("check", chk.Name),
			zap.Bool("critical", chk.Critical), zap.Error(results[i]))
		if chk.Critical {
			status = http.StatusServiceUnavailable
			out.Status = "unavailable"
		} else if out.Status == "ok" {
			out.Status = "degraded"
		}
	}
	return status, out
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
