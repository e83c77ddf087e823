// Command compare summarises a run of the benchmarks under test/bench for
// `make bench-compare`: it reads `go test -bench` output from stdin, echoes
// it, and then prints one table of the figures issue 12 asks for side by
// side (the cached GET against a bare fiber handler, the local tier's write
// cost, reports per second against the commit ceiling, the uncached GET
// against pgbench -S, the API's peak RSS) with their ratios and goals.
// It exits non-zero when a benchmark or package failed, or a figure the
// table needs is missing. It imports only the standard library.
package main

import (
	"fmt"
	"os"
)

func main() {
	run, err := Parse(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare: read the benchmark output:", err)
		os.Exit(1)
	}
	fmt.Println()
	fmt.Println("bench-compare summary (one run)")
	if err := Summarise(run, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}
