// Package catalog holds the catalog benchmarks: a real etalase api process
// over a database seeded with a million products, measuring first and deep
// keyset pages and uncached reads by id against pgbench's select-only
// baseline on the same PostgreSQL. The benchmarks run only with -bench (make
// bench); plain go test does nothing heavy here. It has no code outside its
// tests; the tests import domain, the test helpers under test/, pgx, fasthttp's
// client (the load generator of the reads by id) and the standard library.
package catalog
