package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/etalase/etalase/migrations"
)

// Migration commands Migrate knows.
const (
	MigrateUp     = "up"
	MigrateDown   = "down"
	MigrateStatus = "status"
)

// errBadDSN replaces pgx's parse errors, which may quote the connection
// string and with it a password.
var errBadDSN = errors.New("postgres: the database URL is not a valid connection string")

// Migrate runs a goose command over the embedded migrations: up applies
// every pending one, down rolls back the latest, status lists them. It
// writes one line per migration to out. Concurrent runs against one
// database wait for each other on a session advisory lock, so dsn must
// reach PostgreSQL directly: through a transaction-mode pooler the lock and
// its release could land on different server connections.
func Migrate(ctx context.Context, dsn, command string, out io.Writer) error {
	switch command {
	case MigrateUp, MigrateDown, MigrateStatus:
	default:
		return fmt.Errorf("postgres: unknown migration command %q (want up, down or status)", command)
	}
	cfg, err := directConfig(dsn)
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("postgres: load migrations: %w", err)
	}

	switch command {
	case MigrateUp:
		results, err := provider.Up(ctx)
		for _, r := range results {
			fmt.Fprintln(out, r)
		}
		if err != nil {
			return migrateError("migrate up", err)
		}
		if len(results) == 0 {
			fmt.Fprintln(out, "no migrations to apply")
		}
	case MigrateDown:
		result, err := provider.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			fmt.Fprintln(out, "no migrations to roll back")
			return nil
		}
		if err != nil {
			return migrateError("migrate down", err)
		}
		fmt.Fprintln(out, result)
	case MigrateStatus:
		statuses, err := provider.Status(ctx)
		if err != nil {
			return migrateError("migration status", err)
		}
		for _, s := range statuses {
			applied := "pending"
			if s.State == goose.StateApplied {
				applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05 UTC")
			}
			fmt.Fprintf(out, "%-30s %s\n", s.Source.Path, applied)
		}
	}
	return nil
}

// directConfig parses dsn for a connection of its own, outside any pool
// (migrations, LISTEN), bounding its connection attempt when dsn does not.
// dsn may carry pgx's pool options (pool_max_conns, ...), since it is often
// the pool's own; they are dropped here, as PostgreSQL refuses parameters it
// does not know.
func directConfig(dsn string) (*pgx.ConnConfig, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errBadDSN
	}
	cfg := pcfg.ConnConfig
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	return cfg, nil
}

// migrateError marks a migration that could not reach the database as
// unavailable and wraps the rest.
func migrateError(op string, err error) error {
	if unavailable(err) {
		return mapError("postgres: "+op, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// maintenanceDatabase is the database every PostgreSQL server has, used to
// create the one the DSN names.
const maintenanceDatabase = "postgres"

// EnsureDatabase creates the database dsn names if it does not exist, by
// connecting to the same server's maintenance database as the same user.
func EnsureDatabase(ctx context.Context, dsn string) error {
	cfg, err := directConfig(dsn)
	if err != nil {
		return err
	}
	name := cfg.Database
	if name == "" || name == maintenanceDatabase {
		return nil
	}
	cfg.Database = maintenanceDatabase
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return mapError("postgres: connect to the maintenance database", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	const exists = `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`
	var found bool
	if err := conn.QueryRow(ctx, exists, name).Scan(&found); err != nil {
		return mapError("postgres: look up the database", err)
	}
	if found {
		return nil
	}
	// CREATE DATABASE takes no parameters: the name is quoted as an identifier.
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, create); err != nil {
		if isCode(err, codeDuplicateDatabase) || isCode(err, codeUniqueViolation) {
			return nil // another process created it meanwhile
		}
		return mapError("postgres: create database "+pgx.Identifier{name}.Sanitize(), err)
	}
	return nil
}
