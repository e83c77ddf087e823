package testproc

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("ModuleRoot() = %s, which has no go.mod: %v", root, err)
	}
	if _, err := os.Stat(filepath.Join(root, "domain")); err != nil {
		t.Fatalf("ModuleRoot() = %s, which is not the etalase module: %v", root, err)
	}
}

func TestFreePort(t *testing.T) {
	port := FreePort(t)
	if port <= 0 || port > 65535 {
		t.Fatalf("FreePort() = %d", port)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("the free port %d cannot be listened on: %v", port, err)
	}
	l.Close()
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "etalase-bin-old")
	fresh := filepath.Join(dir, "etalase-bin-fresh")
	for _, d := range []string{old, fresh} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	removeStale(filepath.Join(dir, "etalase-bin-*"), time.Hour)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("stale directory kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("fresh directory removed: %v", err)
	}
}

func TestCapPool(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?pool_max_conns=4&sslmode=disable"},
		{"postgres://u@h:5432/db?pool_max_conns=9", "postgres://u@h:5432/db?pool_max_conns=9"},
		{"host=h dbname=db", "host=h dbname=db pool_max_conns=4"},
		{"host=h pool_max_conns=9", "host=h pool_max_conns=9"},
		{"", ""},
	} {
		if got := CapPool(c.in); got != c.want {
			t.Errorf("CapPool(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := WithPoolMaxConns("postgres://h/db?pool_max_conns=9", 16, true); got != "postgres://h/db?pool_max_conns=16" {
		t.Errorf("WithPoolMaxConns replace = %q", got)
	}
}
