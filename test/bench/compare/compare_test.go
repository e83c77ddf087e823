package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
)

// sample is the output of a complete run, as go test prints it with
// GOMAXPROCS=2: the cache's best rounds, the PATCH variants, the report
// bursts, the ceilings and the RSS, with the benchmarks' own output between
// them and one result line split by a benchmark that printed while it ran.
const sample = `goos: linux
goarch: amd64
pkg: github.com/etalase/etalase/test/bench/cache
cpu: AMD EPYC
BenchmarkCache/bare-fiber-2         	  100000	     17000 ns/op	     57609 req/s	       239.0 p50-µs	      2990 p99-µs
best of 3 interleaved rounds, 32 clients
variant           req/s      p50        p99
BenchmarkCache/best/bare-fiber-2    	1000000000	     50000 req/s	       250.0 p50-µs	      3000 p99-µs
BenchmarkCache/best/item-default-2  	1000000000	     45000 req/s	       280.0 p50-µs	      1660 p99-µs
BenchmarkCache/best/item-tier-off-2 	1000000000	     20000 req/s	       638.0 p50-µs	      2480 p99-µs
BenchmarkCache/best/item-cache-off-2	1000000000	     15000 req/s	       811.0 p50-µs	      3310 p99-µs
BenchmarkPatch/best/patch-default-2 	1000000000	      1749 req/s	      2090 p50-µs	      6790 p99-µs
BenchmarkPatch/best/patch-tier-off-2	1000000000	      2025 req/s	      1790 p50-µs	      6070 p99-µs
BenchmarkAPIMemory-2                	       1	15000000000 ns/op	        85.20 peak-RSS-MiB	     30000 req/s
PASS
ok  	github.com/etalase/etalase/test/bench/cache	95.1s
pkg: github.com/etalase/etalase/test/bench/catalog
BenchmarkCatalog/get-by-id-2        	bench: uncached GET /products/{id}, 32 clients for 10s: 18000 req/s
       1	10000000000 ns/op	     18000 etalase-req/s	         0.3000 etalase/pgbench	     60000 pgbench-S-tps
PASS
ok  	github.com/etalase/etalase/test/bench/catalog	120.0s
pkg: github.com/etalase/etalase/test/bench/jobs
BenchmarkReports/burst-2            	       1	4000000000 ns/op	        12.50 p50-ms	        40.00 p99-ms	      1500 reports/s
BenchmarkReportsAll-2               	       1	5000000000 ns/op	        18.00 p50-ms	        60.00 p99-ms	      2100 reports/s
BenchmarkReportsAllPaced/1000-per-s-2         	       1	3039957976 ns/op	        12.50 p50-ms	       107.2 p99-ms	       992.6 reports/s	      1000 sent/s
BenchmarkReportsAllPaced/2000-per-s-2         	       1	4470363287 ns/op	      1629 p50-ms	      1962 p99-ms	      1349 reports/s	      1999 sent/s
BenchmarkCommitCeiling-2            	       1	10000000000 ns/op	      6000 tpcb-tps
BenchmarkStatementCeiling-2         	       1	2000000000 ns/op	      3000 reports/s
PASS
ok  	github.com/etalase/etalase/test/bench/jobs	80.0s
`

func parse(t *testing.T, out string) (*Run, string) {
	t.Helper()
	var echo bytes.Buffer
	run, err := Parse(strings.NewReader(out), &echo)
	if err != nil {
		t.Fatal(err)
	}
	return run, echo.String()
}

func TestParseReadsBenchmarkLines(t *testing.T) {
	t.Parallel()
	run, echo := parse(t, sample)
	if echo != sample {
		t.Errorf("the echo differs from the input:\n%s", echo)
	}
	tests := []struct {
		name, unit string
		want       float64
	}{
		{"BenchmarkCache/bare-fiber", "req/s", 57609},
		{"BenchmarkCache/best/item-default", "p99-µs", 1660},
		{"BenchmarkAPIMemory", "peak-RSS-MiB", 85.2},
		{"BenchmarkAPIMemory", "ns/op", 15e9},
		// The line the benchmark's own output split.
		{"BenchmarkCatalog/get-by-id", "pgbench-S-tps", 60000},
		{"BenchmarkReportsAll", "reports/s", 2100},
	}
	for _, tt := range tests {
		r, ok := run.Results[tt.name]
		if !ok {
			t.Errorf("no result %q; have %v", tt.name, run.Results)
			continue
		}
		if got := r.Metrics[tt.unit]; got != tt.want {
			t.Errorf("%s %s = %v, want %v", tt.name, tt.unit, got, tt.want)
		}
	}
	if len(run.Failures) != 0 {
		t.Errorf("failures in a passing run: %q", run.Failures)
	}
}

func TestParseKeepsNamesEndingInDigitsOfTheirOwn(t *testing.T) {
	t.Parallel()
	// Without GOMAXPROCS > 1 there is no suffix; with it, only the last
	// -N goes.
	run, _ := parse(t, "BenchmarkX/sort=id-2\t5\t1.5 p50-ms\nBenchmarkY\t3\t2 req/s\n")
	if _, ok := run.Results["BenchmarkX/sort=id"]; !ok {
		t.Errorf("results %v, want BenchmarkX/sort=id", run.Results)
	}
	if r := run.Results["BenchmarkY"]; r.N != 3 || r.Metrics["req/s"] != 2 {
		t.Errorf("BenchmarkY = %+v, want N 3 and 2 req/s", r)
	}
}

func TestParseNotesFailures(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, line string }{
		{"failed benchmark", "--- FAIL: BenchmarkReportsAll"},
		{"failed package", "FAIL\tgithub.com/etalase/etalase/test/bench/jobs\t12.0s"},
		{"build failure", "FAIL\tgithub.com/etalase/etalase/test/bench/jobs [build failed]"},
		{"skipped benchmark", "--- SKIP: BenchmarkCommitCeiling"},
		{"panic", "panic: runtime error: index out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run, _ := parse(t, sample+tt.line+"\n")
			if len(run.Failures) != 1 || run.Failures[0] != tt.line {
				t.Errorf("failures = %q, want [%q]", run.Failures, tt.line)
			}
		})
	}
}

func TestSummaryOfACompleteRun(t *testing.T) {
	t.Parallel()
	run, _ := parse(t, sample)
	var out bytes.Buffer
	if err := Summarise(run, &out); err != nil {
		t.Fatalf("Summarise: %v\n%s", err, out.String())
	}
	table := out.String()
	for _, want := range []string{
		// 45,000 / 50,000 of the bare handler's best round.
		"default (local tier on)", "45,000", "0.90",
		"local tier off (Redis hit)", "0.40",
		"cache off", "0.30",
		// 2.09 ms - 1.79 ms at p50, 6.79 - 6.07 at p99.
		"+0.30 ms", "+0.72 ms", "meets p50 <= 1 ms",
		// 2,100 reports/s of 6,000 TPC-B tps; the workers miss 2,000/s.
		"2,100", "0.35", "meets >= 2000/s", "1,500", "0.25", "MISSES >= 2000/s",
		"6,000 tps",
		// Paced: 993 of 1,000/s at p50 12.5 ms; 1,349 of 1,999/s misses.
		"1,000 creations/s", "993", "12.50 ms", "107.20 ms",
		"2,000 creations/s", "1,349", "1.63 s", "1,999", "MISSES keeps up with 2000/s, p50 <= 20 ms",
		// The pipeline's statements alone: 3,000 reports/s, half of TPC-B.
		"its statements alone", "3,000", "0.50",
		// 18,000 of 60,000.
		"18,000", "60,000 tps", "MISSES >= 0.5 of -S",
		"85.2 MiB", "meets <= 100 MiB",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, " - ") {
		t.Errorf("the table shows a missing figure:\n%s", table)
	}
}

func TestSummaryFailsOnAMissingLine(t *testing.T) {
	t.Parallel()
	var without []string
	for _, l := range strings.Split(sample, "\n") {
		if !strings.HasPrefix(l, "BenchmarkCommitCeiling") && !strings.HasPrefix(l, "BenchmarkCache/best/item-tier-off") {
			without = append(without, l)
		}
	}
	run, _ := parse(t, strings.Join(without, "\n"))
	var out bytes.Buffer
	err := Summarise(run, &out)
	if err == nil {
		t.Fatalf("Summarise succeeded without two lines:\n%s", out.String())
	}
	for _, want := range []string{"missing: BenchmarkCommitCeiling tpcb-tps", "missing: BenchmarkCache/best/item-tier-off req/s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	// What the run has is still printed.
	if !strings.Contains(out.String(), "45,000") {
		t.Errorf("the table lacks the figures the run had:\n%s", out.String())
	}
}

func TestSummaryFailsOnAFailedBenchmark(t *testing.T) {
	t.Parallel()
	run, _ := parse(t, sample+"--- FAIL: BenchmarkReports/burst\nFAIL\n")
	var out bytes.Buffer
	err := Summarise(run, &out)
	if err == nil || !strings.Contains(err.Error(), "failed: --- FAIL: BenchmarkReports/burst") {
		t.Fatalf("Summarise = %v, want the failed benchmark named", err)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{count(57609.4), "57,609"},
		{count(999), "999"},
		{count(1234567), "1,234,567"},
		{count(math.NaN()), "-"},
		{ratio(1, 4), "0.25"},
		{ratio(1, 0), "-"},
		{ratio(math.NaN(), 2), "-"},
		{micros(239), "239 µs"},
		{micros(2090), "2.09 ms"},
		{millis(4148), "4.15 s"},
		{signedMS(0.3), "+0.30 ms"},
		{signedMS(-0.25), "-0.25 ms"},
		{mib(85.25), "85.2 MiB"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestSummaryPacedGoalNeedsAllThree(t *testing.T) {
	t.Parallel()
	const paced = "BenchmarkReportsAllPaced/2000-per-s-2\t1\t3000000000 ns/op\t%s p50-ms\t40 p99-ms\t%s reports/s\t%s sent/s"
	tests := []struct {
		name, p50, reports, sent, want string
	}{
		{"kept up", "15", "1960", "1999", "meets keeps up"},
		{"p50 too high", "25", "1960", "1999", "MISSES keeps up"},
		{"completions fell behind", "15", "1800", "1999", "MISSES keeps up"},
		{"the client could not send at the rate", "15", "1700", "1700", "MISSES keeps up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var lines []string
			for _, l := range strings.Split(sample, "\n") {
				if strings.HasPrefix(l, "BenchmarkReportsAllPaced/2000") {
					l = fmt.Sprintf(paced, tt.p50, tt.reports, tt.sent)
				}
				lines = append(lines, l)
			}
			run, _ := parse(t, strings.Join(lines, "\n"))
			var out bytes.Buffer
			if err := Summarise(run, &out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("want %q in:\n%s", tt.want, out.String())
			}
		})
	}
}
