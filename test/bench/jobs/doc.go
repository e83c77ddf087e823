// Package jobs measures the report pipeline end to end on real processes:
// POST /products commits a product, its report and an outbox row; the relay
// moves the job to Redis; a worker computes the report in PostgreSQL. With
// REPORT_DELAY=0 it reports completed reports per second, and the p50 and
// p99 of the time from the 201 to the completed report at a moderate rate.
package jobs
