package jobs

import (
	"fmt"
	"testing"
	"time"

	"github.com/etalase/etalase/test/pgbench"
)

// The commit-bound ceiling's shape: the TPC-B-like script with as many
// clients as a deployment's pool (benchPoolMaxConns), at a scale with a
// branch per client, so the clients do not queue on one branch row.
const (
	ceilingClients  = benchPoolMaxConns
	ceilingScale    = ceilingClients
	ceilingDuration = 10 * time.Second
)

// BenchmarkCommitCeiling measures what the reports' figures are bound by:
// the committed transactions per second of pgbench's built-in TPC-B-like
// script on a scratch database of the same server, in the same run. Every
// report costs the pipeline several commits (the creation, the relay's
// claim, the report's own), so reports/s stays well below it.
func BenchmarkCommitCeiling(b *testing.B) {
	pg := pgbench.Ready(b, ceilingScale)
	var sum float64
	b.ResetTimer()
	for range b.N {
		sum += pg.TPCB(b, ceilingClients, ceilingDuration)
	}
	b.StopTimer()
	tps := sum / float64(b.N)
	b.ReportMetric(tps, "tpcb-tps")
	fmt.Printf("pgbench TPC-B -c %d -j 2 -T %d (scale %d): %.0f tps\n",
		ceilingClients, int(ceilingDuration.Seconds()), ceilingScale, tps)
}
