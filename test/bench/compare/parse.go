package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Run is what one `go test -bench` output held.
type Run struct {
	// Results are the benchmark lines by name, without the -GOMAXPROCS
	// suffix; a name measured twice keeps its last line.
	Results map[string]Result
	// Failures are the lines saying that a benchmark or a package failed,
	// was skipped or panicked.
	Failures []string
}

// Result is one benchmark line: its iterations and its metrics by unit
// ("ns/op", "req/s", "p50-µs" ...).
type Result struct {
	N       int64
	Metrics map[string]float64
}

var (
	// procsSuffix is the -GOMAXPROCS the testing package appends to a
	// benchmark's name when GOMAXPROCS is not 1.
	procsSuffix = regexp.MustCompile(`-[0-9]+$`)
	// failure matches the lines go test prints for a failed or skipped
	// benchmark, a failed package or build, and a panic.
	failure = regexp.MustCompile(`^(--- FAIL|--- SKIP|FAIL\b|panic: )`)
)

// Parse reads `go test -bench` output from r, copying every line to echo as
// it arrives, so a long run shows its progress.
//
// A benchmark that prints while it runs splits its line: the testing package
// writes the name, then the benchmark's own output ends that line, and the
// figures follow on a line of their own. Parse joins the two.
func Parse(r io.Reader, echo io.Writer) (*Run, error) {
	run := &Run{Results: map[string]Result{}}
	var pending string // a name whose figures have not come yet
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if _, err := fmt.Fprintln(echo, line); err != nil {
			return nil, err
		}
		if failure.MatchString(line) {
			run.Failures = append(run.Failures, line)
			continue
		}
		name, rest, tabbed := strings.Cut(line, "\t")
		name = strings.TrimSpace(name)
		if tabbed && strings.HasPrefix(name, "Benchmark") && !strings.ContainsAny(name, " ") {
			if res, ok := parseFigures(rest); ok {
				run.Results[procsSuffix.ReplaceAllString(name, "")] = res
				pending = ""
			} else {
				pending = name
			}
			continue
		}
		if pending != "" {
			if res, ok := parseFigures(line); ok {
				run.Results[procsSuffix.ReplaceAllString(pending, "")] = res
				pending = ""
			}
		}
	}
	return run, sc.Err()
}

// parseFigures parses the figures of a benchmark line: the iterations and
// then "value unit" pairs, separated by tabs.
func parseFigures(s string) (Result, bool) {
	fields := strings.Split(s, "\t")
	n, err := strconv.ParseInt(strings.TrimSpace(fields[0]), 10, 64)
	if err != nil || len(fields) < 2 {
		return Result{}, false
	}
	res := Result{N: n, Metrics: map[string]float64{}}
	for _, f := range fields[1:] {
		value, unit, ok := strings.Cut(strings.TrimSpace(f), " ")
		if !ok {
			return Result{}, false
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return Result{}, false
		}
		res.Metrics[strings.TrimSpace(unit)] = v
	}
	return res, true
}
