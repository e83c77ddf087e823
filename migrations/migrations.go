// Package migrations holds etalase's PostgreSQL schema as goose SQL
// migrations, embedded in the binary. Files are numbered NNNNN_name.sql and
// applied in order; it imports only the standard library.
package migrations

import "embed"

// FS holds every migration file of this directory.
//
//go:embed *.sql
var FS embed.FS
