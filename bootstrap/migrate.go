package bootstrap

import (
	"context"
	"fmt"
	"io"

	"github.com/etalase/etalase/adapters/postgres"
)

// migrateCommand is `etalase migrate up|down|status`.
var migrateCommand = Command{
	Name:    "migrate",
	Usage:   "up|down|status",
	Summary: "apply, roll back one, or list the schema migrations",
	Run:     runMigrate,
}

func runMigrate(ctx context.Context, c Config, args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return usageError{"want exactly one of up, down, status"}
	}
	// Migrations hold a session advisory lock: never through a pooler.
	if err := postgres.Migrate(ctx, c.DatabaseDirectURL, args[0], stdout); err != nil {
		return fmt.Errorf("%s", Redact(err.Error(), c.DatabaseDirectURL))
	}
	return nil
}
