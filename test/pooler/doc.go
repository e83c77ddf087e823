// Package pooler runs etalase the way a large deployment does: every
// process's pool reaches PostgreSQL through PgBouncer in transaction mode
// (DATABASE_URL), and only what needs a session of its own, LISTEN and
// migrations, goes to PostgreSQL directly (DATABASE_DIRECT_URL). The tests
// start real api, worker and migrate processes on a fresh database behind
// a private PgBouncer and check the catalog, the reports, the cache and the
// connections PostgreSQL sees.
package pooler
