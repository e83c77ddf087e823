// Package archtest enforces the dependency rule of the hexagon: domain
// imports the standard library only; application imports domain; an adapter
// imports neither another adapter nor bootstrap; only bootstrap imports fx
// and reads the environment.
//
// The rules are plain functions over the package graph `go list` reports,
// so the test can show each rule catches a violation. It imports only the
// standard library.
package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Package is the part of `go list -json` the rules read.
type Package struct {
	ImportPath   string
	Dir          string
	GoFiles      []string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// List runs `go list -e -json ./...` in the module at root.
func List(root string) ([]Package, error) {
	cmd := exec.Command("go", "list", "-e", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, stderr.String())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// isStd reports whether path is a standard-library package: its first
// element has no dot.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// under reports whether path is pkg or inside it.
func under(path, pkg string) bool {
	return path == pkg || strings.HasPrefix(path, pkg+"/")
}

// adapterOf returns the adapter a package belongs to (module/adapters/X),
// or "".
func adapterOf(module, path string) string {
	rest, ok := strings.CutPrefix(path, module+"/adapters/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return module + "/adapters/" + name
}

// Check returns every violation of the import rules among pkgs of module,
// sorted. Only production imports count for the layer rules; fx is
// checked in test imports too.
func Check(module string, pkgs []Package) []string {
	var v []string
	for _, p := range pkgs {
		path := p.ImportPath
		inBootstrap := under(path, module+"/bootstrap")
		adapter := adapterOf(module, path)
		for _, imp := range p.Imports {
			switch {
			case under(path, module+"/domain") && !isStd(imp):
				v = append(v, fmt.Sprintf("%s imports %s: domain may import the standard library only", path, imp))
			case under(path, module+"/application") && !isStd(imp) && !under(imp, module+"/domain"):
				v = append(v, fmt.Sprintf("%s imports %s: application may import domain and the standard library only", path, imp))
			case adapter != "" && adapterOf(module, imp) != "" && adapterOf(module, imp) != adapter:
				v = append(v, fmt.Sprintf("%s imports %s: an adapter may not import another adapter", path, imp))
			case adapter != "" && under(imp, module+"/bootstrap"):
				v = append(v, fmt.Sprintf("%s imports %s: an adapter may not import bootstrap", path, imp))
			}
		}
		if inBootstrap {
			continue
		}
		all := append(append(append([]string{}, p.Imports...), p.TestImports...), p.XTestImports...)
		for _, imp := range all {
			if under(imp, "go.uber.org/fx") {
				v = append(v, fmt.Sprintf("%s imports %s: only bootstrap may import fx", path, imp))
			}
		}
	}
	sort.Strings(v)
	return compact(v)
}

func compact(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// envRead matches a read of the process environment.
var envRead = regexp.MustCompile(`\bos\.(Getenv|LookupEnv|Environ)\b`)

// CheckEnv returns every line of a production source file outside bootstrap
// that reads the environment. Test support under test/ and _test.go files
// may read variables of their own (where the test database is, say).
func CheckEnv(module string, pkgs []Package) ([]string, error) {
	var v []string
	for _, p := range pkgs {
		if under(p.ImportPath, module+"/bootstrap") || under(p.ImportPath, module+"/test") {
			continue
		}
		for _, f := range p.GoFiles {
			name := filepath.Join(p.Dir, f)
			lines, err := grep(name, envRead)
			if err != nil {
				return nil, err
			}
			for _, l := range lines {
				v = append(v, fmt.Sprintf("%s/%s:%s: only bootstrap may read the environment", p.ImportPath, f, l))
			}
		}
	}
	return v, nil
}

// grep returns "line: text" for each line of file matching re.
func grep(file string, re *regexp.Regexp) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; s.Scan(); n++ {
		if re.MatchString(s.Text()) {
			out = append(out, fmt.Sprintf("%d: %s", n, strings.TrimSpace(s.Text())))
		}
	}
	return out, s.Err()
}
