// Package jobs tests etalase's background jobs from the outside: the
// reports and queue admin API, the refusal of a queue Redis that evicts,
// and fault tests that kill the API, kill a worker mid-job, freeze Redis and
// restart it empty, then check in PostgreSQL that every committed product
// has exactly one completed report.
package jobs

import "strconv"

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
