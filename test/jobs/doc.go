// Package jobs tests etalase's background jobs from the outside: the
// reports and queue admin API, the refusal of a queue Redis that evicts,
// and fault tests that kill the API, kill a worker mid-job, freeze Redis and
// restart it empty, then check in PostgreSQL that every committed product
// has exactly one completed report; and the same jobs, retries and admin on
// a Redis Cluster.
package jobs

import "strconv"

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
