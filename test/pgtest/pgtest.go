// Package pgtest gives tests a private, migrated PostgreSQL database: a
// fresh randomly named one per call, dropped when the test ends. The server
// is the one TEST_DATABASE_URL names (a local default otherwise); a test
// fails, never skips, when it is unreachable. ReadReports and
// WaitReportsCompleted check such a database against the outbox's promise.
// It is test support: it may import the postgres adapter.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/adapters/postgres"
)

// DefaultURL is the server tests use when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the DSN of the server tests create their databases on.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates a fresh database with every migration applied and
// returns its DSN. The database is dropped, connections and all, when the
// test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	dsn := NewEmptyDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := postgres.Migrate(ctx, dsn, postgres.MigrateUp, io.Discard); err != nil {
		t.Fatalf("pgtest: migrate the test database: %v", err)
	}
	return dsn
}

// NewEmptyDatabase creates a fresh database without migrations and returns
// its DSN; it is dropped when the test ends.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	server := ServerURL()
	name := "etalase_test_" + randomSuffix(t)
	admin := connect(t, server)
	defer admin.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		conn := connect(t, server)
		defer conn.Close(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(server, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// NewStore returns a store over a fresh migrated database; its pool is
// closed before the database is dropped.
func NewStore(t testing.TB) *postgres.Store {
	t.Helper()
	dsn := NewDatabase(t)
	pool, err := postgres.NewPool(context.Background(), dsn)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return postgres.NewStore(pool)
}

func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("pgtest: TEST_DATABASE_URL is not a valid PostgreSQL connection string")
	}
	cfg.ConnectTimeout = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: PostgreSQL is unreachable at %s:%d (set TEST_DATABASE_URL to a server where tests may create databases): %v",
			cfg.Host, cfg.Port, err)
	}
	return conn
}

// withDatabase returns dsn naming database name instead of its own; dsn is a
// URL or a keyword/value string.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", errors.New("TEST_DATABASE_URL is not a valid URL")
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In keyword/value form the last setting of a keyword wins.
	return dsn + " dbname=" + name, nil
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("pgtest: random database name: %v", err)
	}
	return hex.EncodeToString(b)
}
