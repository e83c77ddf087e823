// Package jobs measures the report pipeline end to end on real processes:
// POST /products commits a product and its queued report (which is its own
// outbox row); the relay moves the job to Redis; a worker computes the
// report in PostgreSQL. With REPORT_DELAY=0 it reports completed reports
// per second, for one api and two workers and for one `etalase all` with
// its defaults, the p50 and p99 of the time from the 201 to the completed
// report, and, measured in the same run, the commit-bound ceiling of the
// same PostgreSQL (pgbench's TPC-B-like script).
package jobs
