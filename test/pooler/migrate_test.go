package pooler

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/test/pgbouncerproc"
	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/testproc"
)

// TestMigrateGoesDirect runs `etalase migrate` with DATABASE_URL through
// PgBouncer: goose's session advisory lock must not go through a
// transaction-mode pooler, so the migrations run on DATABASE_DIRECT_URL and
// PgBouncer never sees the database. Nor does a DATABASE_URL that does not
// answer stop them.
func TestMigrateGoesDirect(t *testing.T) {
	t.Parallel()
	direct := pgtest.NewEmptyDatabase(t)
	bouncer := pgbouncerproc.Start(t)
	cfg, err := pgx.ParseConfig(direct)
	if err != nil {
		t.Fatal(err)
	}
	run := func(databaseURL string, args ...string) string {
		t.Helper()
		p := testproc.Start(t, map[string]string{"DATABASE_URL": databaseURL, "DATABASE_DIRECT_URL": direct},
			append([]string{"migrate"}, args...)...)
		if code := p.Wait(60 * time.Second); code != 0 {
			t.Fatalf("etalase migrate %v: exit %d\n%s", args, code, p.Output())
		}
		return p.Output()
	}
	pooled := bouncer.URLFor(t, direct)
	if out := run(pooled, "up"); !strings.Contains(out, "00001_catalog.sql") {
		t.Fatalf("up did not apply the first migration:\n%s", out)
	}
	if out := run(pooled, "status"); strings.Contains(out, "pending") {
		t.Fatalf("migrations still pending after up:\n%s", out)
	}
	for _, s := range bouncer.Show(t, "STATS") {
		if s["database"] == cfg.Database {
			t.Fatalf("PgBouncer served the migrations: %v", s)
		}
	}

	unreachable := "postgres://postgres@127.0.0.1:1/" + cfg.Database + "?sslmode=disable&connect_timeout=1"
	if out := run(unreachable, "status"); strings.Contains(out, "pending") {
		t.Fatalf("status lists pending migrations:\n%s", out)
	}
}
