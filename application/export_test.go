package application

import "time"

// SetNow replaces the catalog's clock, so tests can step over the
// idempotency window.
func SetNow(c *Catalog, now func() time.Time) { c.now = now }
