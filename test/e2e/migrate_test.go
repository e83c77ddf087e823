package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/testproc"
)

// TestMigrateCommand runs `etalase migrate` against an empty database:
// status lists pending migrations, up applies them, down rolls one back,
// up applies it again, and a bad subcommand exits 2.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"DATABASE_URL": pgtest.NewEmptyDatabase(t)}
	run := func(args ...string) string {
		t.Helper()
		p := testproc.Start(t, vars, append([]string{"migrate"}, args...)...)
		if code := p.Wait(60 * time.Second); code != 0 {
			t.Fatalf("etalase migrate %v: exit %d\n%s", args, code, p.Output())
		}
		return p.Output()
	}
	if out := run("status"); !strings.Contains(out, "pending") {
		t.Fatalf("status on an empty database lists nothing pending:\n%s", out)
	}
	if out := run("up"); !strings.Contains(out, "00001_catalog.sql") {
		t.Fatalf("up did not apply the first migration:\n%s", out)
	}
	if out := run("status"); strings.Contains(out, "pending") {
		t.Fatalf("migrations still pending after up:\n%s", out)
	}
	run("down")
	if out := run("status"); !strings.Contains(out, "pending") {
		t.Fatalf("nothing pending after down:\n%s", out)
	}
	run("up")

	bad := testproc.Start(t, vars, "migrate", "sideways")
	if code := bad.Wait(30 * time.Second); code != 2 {
		t.Fatalf("migrate sideways: exit %d, want 2\n%s", code, bad.Output())
	}
}
