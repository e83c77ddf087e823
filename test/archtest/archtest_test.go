package archtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/etalase/etalase"

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TestDependencyRule checks the real module.
func TestDependencyRule(t *testing.T) {
	pkgs, err := List(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.ImportPath] = true
	}
	for _, want := range []string{module + "/domain", module + "/application"} {
		if !seen[want] {
			t.Fatalf("go list did not report %s: the rule would check nothing", want)
		}
	}
	for _, v := range Check(module, pkgs) {
		t.Error(v)
	}
	env, err := CheckEnv(module, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range env {
		t.Error(v)
	}
}

// TestRulesCatchViolations shows each rule fails on a package graph that
// breaks it and passes on one that keeps it.
func TestRulesCatchViolations(t *testing.T) {
	t.Parallel()
	m := module
	tests := []struct {
		name string
		pkg  Package
		want string // "" means no violation
	}{
		{"domain imports stdlib", Package{ImportPath: m + "/domain", Imports: []string{"context", "time"}}, ""},
		{"domain imports a library", Package{ImportPath: m + "/domain", Imports: []string{"github.com/google/uuid"}}, "domain may import"},
		{"domain imports application", Package{ImportPath: m + "/domain", Imports: []string{m + "/application"}}, "domain may import"},
		{"application imports domain", Package{ImportPath: m + "/application", Imports: []string{m + "/domain", "fmt"}}, ""},
		{"application imports an adapter", Package{ImportPath: m + "/application", Imports: []string{m + "/adapters/postgres"}}, "application may import"},
		{"application imports pgx", Package{ImportPath: m + "/application", Imports: []string{"github.com/jackc/pgx/v5"}}, "application may import"},
		{"adapter imports domain", Package{ImportPath: m + "/adapters/cache", Imports: []string{m + "/domain", m + "/application"}}, ""},
		{"adapter imports its own subpackage", Package{ImportPath: m + "/adapters/httpapi", Imports: []string{m + "/adapters/httpapi/assets"}}, ""},
		{"adapter imports another adapter", Package{ImportPath: m + "/adapters/cache", Imports: []string{m + "/adapters/postgres"}}, "another adapter"},
		{"adapter subpackage imports another adapter", Package{ImportPath: m + "/adapters/httpapi/x", Imports: []string{m + "/adapters/queue"}}, "another adapter"},
		{"adapter imports bootstrap", Package{ImportPath: m + "/adapters/worker", Imports: []string{m + "/bootstrap"}}, "may not import bootstrap"},
		{"bootstrap imports fx", Package{ImportPath: m + "/bootstrap", Imports: []string{"go.uber.org/fx"}}, ""},
		{"adapter imports fx", Package{ImportPath: m + "/adapters/queue", Imports: []string{"go.uber.org/fx"}}, "only bootstrap may import fx"},
		{"the module root imports fx", Package{ImportPath: m, Imports: []string{"go.uber.org/fx"}}, "only bootstrap may import fx"},
		{"a test imports fx", Package{ImportPath: m + "/test/e2e", XTestImports: []string{"go.uber.org/fx/fxtest"}}, "only bootstrap may import fx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Check(m, []Package{tt.pkg})
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("unexpected violations: %v", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Fatalf("violations = %v, want one containing %q", got, tt.want)
			}
		})
	}
}

func TestCheckEnvCatchesGetenv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"bad.go":  "package x\n\nimport \"os\"\n\nvar v = os.Getenv(\"X\")\n",
		"look.go": "package x\n\nimport \"os\"\n\nfunc f() { _, _ = os.LookupEnv(\"Y\") }\n",
		"good.go": "package x\n\n// Getenv is mentioned, not called.\nvar w = 1\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pkgs := []Package{
		{ImportPath: module + "/adapters/x", Dir: dir, GoFiles: []string{"bad.go", "look.go", "good.go"}},
		{ImportPath: module + "/bootstrap", Dir: dir, GoFiles: []string{"bad.go"}},
		{ImportPath: module + "/test/pgtest", Dir: dir, GoFiles: []string{"bad.go"}},
	}
	got, err := CheckEnv(module, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.Contains(got[0], "bad.go:5") || !strings.Contains(got[1], "look.go:5") {
		t.Fatalf("violations = %v, want bad.go:5 and look.go:5 only", got)
	}
}
