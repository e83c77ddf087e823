package bootstrap

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/zap"
)

// TestValidateApps checks the fx graph of every server command, with and
// without dev's fallbacks, without running any constructor.
func TestValidateApps(t *testing.T) {
	t.Parallel()
	fallbacks := map[string]Fallback{
		"no fallback":       {},
		"postgres fallback": {Postgres: true},
		"redis fallback":    {Redis: true},
		"both fallbacks":    {Postgres: true, Redis: true},
	}
	servers := 0
	for _, cmd := range commands {
		if cmd.Options == nil {
			continue
		}
		servers++
		for name, fb := range fallbacks {
			if cmd.Name != "dev" && fb != (Fallback{}) {
				continue // only dev ever falls back
			}
			t.Run(cmd.Name+"/"+name, func(t *testing.T) {
				t.Parallel()
				c, err := LoadConfig(cmd.Name, env(map[string]string{"API_KEYS": "test:secret", "ADMIN_KEYS": "ops:secret2"}))
				if err != nil {
					t.Fatal(err)
				}
				log := zap.NewNop()
				if err := fx.ValidateApp(cmd.Options(c, log, fb), appOptions(c, log)); err != nil {
					t.Fatalf("etalase %s does not wire: %v", cmd.Name, err)
				}
			})
		}
	}
	if servers < 2 {
		t.Fatalf("only %d server commands in the table", servers)
	}
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		vars       map[string]string
		wantCode   int
		wantStderr string
		wantStdout string
	}{
		{"no command", nil, nil, ExitUsage, "usage: etalase", ""},
		{"help", []string{"help"}, nil, ExitOK, "", "migrate up|down|status"},
		{"unknown command", []string{"serve"}, nil, ExitUsage, `unknown command "serve"`, ""},
		{"api without keys", []string{"api"}, nil, ExitUsage, "config: API_KEYS: must be set", ""},
		{"bad variable", []string{"api"}, map[string]string{"API_KEYS": "a:b", "CACHE_TTL": "soon"}, ExitUsage, "config: CACHE_TTL:", ""},
		{"extra arguments", []string{"api", "now"}, map[string]string{"API_KEYS": "a:b"}, ExitUsage, "unexpected arguments", ""},
		{"migrate without subcommand", []string{"migrate"}, nil, ExitUsage, "up, down, status", ""},
		{"migrate sideways", []string{"migrate", "sideways"}, nil, ExitUsage, "up, down, status", ""},
		// Docker's HEALTHCHECK knows 0 and 1 only: every failure of the probe is 1.
		{"healthcheck with nothing listening", []string{"healthcheck"}, map[string]string{"OPS_ADDR": "127.0.0.1:1"}, ExitFailed, "127.0.0.1:1/readyz", ""},
		{"healthcheck with arguments", []string{"healthcheck", "now"}, nil, ExitFailed, "takes no arguments", ""},
		{"healthcheck with a bad OPS_ADDR", []string{"healthcheck"}, map[string]string{"OPS_ADDR": "9090"}, ExitFailed, "config: OPS_ADDR:", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(tt.args, env(tt.vars), &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), tt.wantStderr)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Fatalf("stdout %q lacks %q", stdout.String(), tt.wantStdout)
			}
		})
	}
}

// TestBadConfigIsOneLine checks that a configuration error prints exactly
// one line and nothing else.
func TestBadConfigIsOneLine(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run([]string{"api"}, env(map[string]string{"API_KEYS": "a:b", "WORKER_CONCURRENCY": "-3"}), &stdout, &stderr)
	if code != ExitUsage {
		t.Fatalf("exit code %d, want %d", code, ExitUsage)
	}
	if got := stderr.String(); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "etalase: config: WORKER_CONCURRENCY: ") {
		t.Fatalf("stderr = %q, want one line naming WORKER_CONCURRENCY", got)
	}
	if stdout.Len() != 0 {
		t.Fatalf("stdout = %q, want nothing", stdout.String())
	}
}
