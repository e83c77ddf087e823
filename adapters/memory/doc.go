// Package memory holds in-memory twins of etalase's driven ports: a Store
// (products, categories, reports, outbox, idempotency records) that behaves
// as the PostgreSQL adapter does, down to keyset pagination and error kinds.
// It is the dev fallback when PostgreSQL is unreachable and the fake that
// tests use. It imports domain and the standard library only.
package memory
