// Package postgres implements etalase's driven ports on PostgreSQL with pgx
// v5: the unit of work (Store), the product, category and report
// repositories, the transactional outbox, the idempotency store, and the
// schema migrations of package migrations. Concurrent creations and report
// jobs outside a transaction share statements and commits (batch.go). It
// maps PostgreSQL errors to domain error kinds so the edges never see SQL.
// It imports domain, migrations, pgx and goose; never another adapter.
package postgres
