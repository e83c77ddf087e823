// Package cache benchmarks the cache over real HTTP on loopback: GET
// /products/{id} and a filtered GET /products with the cache on (Redis in
// front of PostgreSQL) and off, and a bare fiber handler sending a body of
// the same size, all in one run, with req/s, p50, p99 and the ratios. It is
// test support only.
package cache
