package bootstrap

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// badValues holds a bad value of every variable of the configuration
// table; TestEveryBadVariableInEveryCommand fails for a row without one.
var badValues = map[string]string{
	"HTTP_ADDR":             "8080",
	"DATABASE_URL":          "mysql://u:hunter2@db/shop",
	"DATABASE_DIRECT_URL":   "postgres://u:hunter2@db:port/shop",
	"REDIS_URL":             "http://:hunter2@queue",
	"CACHE_REDIS_URL":       "redis://:hunter2@cache/abc",
	"REDIS_MODE":            "ring",
	"REDIS_ADDRS":           "no-port",
	"REDIS_MASTER":          "mymaster",
	"CACHE_REDIS_MODE":      "ring",
	"CACHE_REDIS_ADDRS":     "no-port",
	"CACHE_REDIS_MASTER":    "mymaster",
	"REDIS_ALLOW_EVICTION":  "sometimes",
	"CACHE_TTL":             "sixty",
	"CACHE_ENABLED":         "yes please",
	"CACHE_LOCAL_ENTRIES":   "-1",
	"CACHE_LOCAL_BYTES":     "1KiB",
	"CACHE_LOCAL_WINDOW":    "100us",
	"REPORT_DELAY":          "soon",
	"WORKER_CONCURRENCY":    "0",
	"REPORT_SWEEP_AFTER":    "abc",
	"REPORT_SWEEP_INTERVAL": "1ms",
	"OUTBOX_POLL_INTERVAL":  "often",
	"JOB_RETRY_BASE":        "-1s",
	"OPS_ADDR":              "localhost",
	"API_KEYS":              "hunter2",
	"ADMIN_KEYS":            ":hunter2",
	"LOG_LEVEL":             "loud",
	"LOG_FORMAT":            "xml",
	"SHUTDOWN_TIMEOUT":      "-1s",
}

// commandArgs are the arguments every command is run with: valid but for
// the configuration.
var commandArgs = map[string][]string{"migrate": {"migrate", "status"}}

// TestEveryBadVariableInEveryCommand runs every command of the binary's
// table with each variable bad in turn (and everything else valid): each
// must print one line naming the variable, and nothing else, and exit 2
// (healthcheck 1) before starting anything. Run with -v, it logs the table.
func TestEveryBadVariableInEveryCommand(t *testing.T) {
	t.Parallel()
	var names []string
	for _, v := range (&Config{}).variables() {
		names = append(names, v.name)
		if _, ok := badValues[v.name]; !ok {
			t.Errorf("badValues has no bad value of %s", v.name)
		}
	}
	for name := range badValues {
		if !slices.Contains(names, name) {
			t.Errorf("badValues has %s, which is not in the table", name)
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n| variable=bad value | command | exit | stderr |\n|---|---|---|---|\n")
	for _, name := range names {
		for _, cmd := range commands {
			args := commandArgs[cmd.Name]
			if args == nil {
				args = []string{cmd.Name}
			}
			vars := map[string]string{"API_KEYS": "a:b", name: badValues[name]}
			var stdout, stderr bytes.Buffer
			code := run(args, env(vars), &stdout, &stderr)
			got := stderr.String()
			fmt.Fprintf(&table, "| %s=%s | %s | %d | %s |\n", name, badValues[name], strings.Join(args, " "), code,
				strings.TrimSuffix(got, "\n"))
			want := ExitUsage
			if cmd.Probe {
				want = 1 // Docker reserves a HEALTHCHECK's exit 2
			}
			if code != want || strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "etalase: config: "+name+": ") ||
				stdout.Len() != 0 || strings.Contains(got, "hunter2") {
				t.Errorf("etalase %s with %s=%s: exit %d, stdout %q, stderr %q; want exit %d and one safe line naming %s",
					strings.Join(args, " "), name, badValues[name], code, stdout.String(), got, want, name)
			}
		}
	}
	t.Log(table.String())
}
