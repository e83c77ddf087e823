// Package pgbench runs PostgreSQL's own benchmark, pgbench, against a
// scratch database of the test server, so a benchmark can measure the
// service next to what PostgreSQL alone does on the same machine in the
// same run: the select-only script (-S) as the ceiling of a read by id, the
// built-in TPC-B-like script as the ceiling of a committing write. It is
// test support only; it imports pgtest and the standard library.
package pgbench

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/etalase/etalase/test/pgtest"
)

// DB is a scratch database initialised for pgbench.
type DB struct {
	bin   string
	dsn   string
	scale int
}

// tpsLine is pgbench's result line, e.g.
// "tps = 25000.123456 (without initial connection time)".
var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)

// Ready creates a scratch database (dropped when the benchmark ends) and
// initialises it at scale (pgbench -i -s scale: 100,000 accounts and one
// branch per unit). A missing pgbench fails the benchmark: it ships with
// the PostgreSQL client packages.
func Ready(tb testing.TB, scale int) *DB {
	tb.Helper()
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		tb.Fatalf("pgbench is not installed (it ships with postgresql-client / postgresql-contrib); "+
			"the benchmark compares the service with it: %v", err)
	}
	db := &DB{bin: bin, dsn: pgtest.NewEmptyDatabase(tb), scale: scale}
	start := time.Now()
	db.exec(tb, 5*time.Minute, "-i", "-q", "-s", strconv.Itoa(scale))
	tb.Logf("pgbench -i -s %d took %s", scale, time.Since(start).Round(time.Millisecond))
	return db
}

// Scale is the scale the database was initialised at.
func (db *DB) Scale() int { return db.scale }

// SelectOnly runs the built-in select-only script (pgbench -S) with clients
// connections for d and returns the transactions per second pgbench reports.
func (db *DB) SelectOnly(tb testing.TB, clients int, d time.Duration) float64 {
	tb.Helper()
	return db.run(tb, clients, d, "-S")
}

// TPCB runs the built-in TPC-B-like script (three UPDATEs, a SELECT and an
// INSERT in one committed transaction) with clients connections for d and
// returns the transactions per second: the commits per second this server
// sustains, the ceiling of any pipeline that commits once per item.
func (db *DB) TPCB(tb testing.TB, clients int, d time.Duration) float64 {
	tb.Helper()
	return db.run(tb, clients, d)
}

// run is one timed run of the script args name (the TPC-B-like one if
// none), with two pgbench threads.
func (db *DB) run(tb testing.TB, clients int, d time.Duration, args ...string) float64 {
	tb.Helper()
	args = append(args, "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(max(int(d.Seconds()), 1)))
	out := db.exec(tb, d+time.Minute, args...)
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		tb.Fatalf("pgbench %v printed no tps line:\n%s", args, out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		tb.Fatalf("pgbench tps %q: %v", m[1], err)
	}
	return tps
}

func (db *DB) exec(tb testing.TB, timeout time.Duration, args ...string) []byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, db.bin, append(args, db.dsn)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tb.Fatalf("pgbench %v: %v\n%s", args, err, out.String())
	}
	return out.Bytes()
}
