package catalog

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

// pgbench runs PostgreSQL's own benchmark against a scratch database.
type pgbench struct {
	bin string
	dsn string
}

// tpsLine is pgbench's result line, e.g.
// "tps = 25000.123456 (without initial connection time)".
var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)

// pgbenchReady initialises a scratch database for pgbench (dropped when the
// benchmark ends). A missing pgbench fails the benchmark: it ships with the
// PostgreSQL client packages.
func pgbenchReady(b *testing.B) *pgbench {
	b.Helper()
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		b.Fatalf("pgbench is not installed (it ships with postgresql-client / postgresql-contrib); "+
			"the read benchmark compares the service with it: %v", err)
	}
	p := &pgbench{bin: bin, dsn: pgtest.NewEmptyDatabase(b)}
	start := time.Now()
	p.exec(b, 5*time.Minute, "-i", "-q", "-s", strconv.Itoa(pgbenchScale))
	b.Logf("pgbench -i -s %d took %s", pgbenchScale, time.Since(start).Round(time.Millisecond))
	return p
}

// run is one select-only run with as many clients as the service had; it
// returns the transactions per second pgbench reports.
func (p *pgbench) run(b *testing.B) float64 {
	b.Helper()
	out := p.exec(b, getDuration+time.Minute, "-S", "-c", strconv.Itoa(getClients), "-j", "2",
		"-T", strconv.Itoa(int(getDuration.Seconds())))
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench printed no tps line:\n%s", out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		b.Fatalf("pgbench tps %q: %v", m[1], err)
	}
	return tps
}

func (p *pgbench) exec(b *testing.B, timeout time.Duration, args ...string) []byte {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, p.bin, append(args, p.dsn)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("pgbench %v: %v\n%s", args, err, out.String())
	}
	return out.Bytes()
}
