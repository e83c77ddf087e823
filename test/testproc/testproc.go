// Package testproc runs the etalase binary as a child process in tests: it
// builds the binary once per test binary, starts it with a chosen
// environment, waits for it to answer over HTTP and stops or kills it.
//
// It is test support only and imports nothing from the module but builds its
// command from source, so any test (e2e, fault, load) can drive the real
// process the way an operator would.
package testproc

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mainPackage is the command built by Binary, relative to the module root.
const mainPackage = "./bootstrap/cmd/etalase"

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds the etalase command once per test binary and returns the
// path of the executable. A failed build fails every test that asks for it.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.path, build.err = buildBinary()
	})
	if build.err != nil {
		t.Fatalf("build etalase: %v", build.err)
	}
	return build.path
}

func buildBinary() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	// The directory outlives any single test: the binary is shared by every
	// test of this test binary, and there is no hook after the last one. So
	// each build removes the directories earlier runs left behind.
	removeStale(binDirPattern, staleAfter)
	dir, err := os.MkdirTemp("", "etalase-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "etalase")
	cmd := exec.Command("go", "build", "-o", out, mainPackage)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", mainPackage, err, b)
	}
	return out, nil
}

// binDirPattern matches the directories Binary builds into.
var binDirPattern = filepath.Join(os.TempDir(), "etalase-bin-*")

// staleAfter is the age at which a build directory surely belongs to a test
// run that has ended.
const staleAfter = time.Hour

// removeStale deletes the directories matching pattern that are older than
// age. Failures do not matter: the next build tries again.
func removeStale(pattern string, age time.Duration) {
	dirs, _ := filepath.Glob(pattern)
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && time.Since(fi.ModTime()) > age {
			_ = os.RemoveAll(d)
		}
	}
}

// ModuleRoot returns the nearest directory at or above the working directory
// that holds a go.mod file.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Proc is a running etalase process.
type Proc struct {
	cmd     *exec.Cmd
	out     *syncBuffer
	opsAddr string        // the process's OPS_ADDR
	done    chan struct{} // closed when the process has exited
	err     error         // the result of Wait, valid after done is closed
}

// PoolMaxConns is the size of the PostgreSQL pool of a process a test
// starts, unless its DATABASE_URL sets pool_max_conns itself. A process
// otherwise holds up to 16, and the suite runs two test binaries at once on
// a two-core machine, each with several processes: together they would
// take most of a server's default 100 connections (README: Running at
// scale). Four keeps every test's concurrency while the whole suite stays
// well under that.
const PoolMaxConns = 4

// CapPool returns dsn with pool_max_conns=PoolMaxConns unless it sets
// pool_max_conns already. dsn is a URL or a keyword/value string.
func CapPool(dsn string) string {
	return WithPoolMaxConns(dsn, PoolMaxConns, false)
}

// WithPoolMaxConns returns dsn with pool_max_conns=n; a pool_max_conns dsn
// already has is replaced only if replace is true.
func WithPoolMaxConns(dsn string, n int, replace bool) string {
	if dsn == "" {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// keyword/value form: the last setting of a keyword wins.
		if strings.Contains(dsn, "pool_max_conns") && !replace {
			return dsn
		}
		return fmt.Sprintf("%s pool_max_conns=%d", dsn, n)
	}
	q := u.Query()
	if q.Has("pool_max_conns") && !replace {
		return dsn
	}
	q.Set("pool_max_conns", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	return u.String()
}

// Start runs the etalase binary with args and exactly the given environment
// plus PATH and HOME, OPS_ADDR on a free port unless env sets it (many
// processes share this host, and the default OPS_ADDR would let only one
// start), and a DATABASE_URL gets a pool of PoolMaxConns (CapPool).
// Its output is kept and logged if the test fails; the process is killed
// when the test ends.
func Start(t testing.TB, env map[string]string, args ...string) *Proc {
	t.Helper()
	bin := Binary(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	opsAddr, ok := env["OPS_ADDR"]
	if !ok {
		opsAddr = "127.0.0.1:" + strconv.Itoa(FreePort(t))
		cmd.Env = append(cmd.Env, "OPS_ADDR="+opsAddr)
	}
	for k, v := range env {
		if k == "DATABASE_URL" {
			v = CapPool(v)
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &Proc{cmd: cmd, out: &syncBuffer{}, opsAddr: opsAddr, done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start etalase %v: %v", args, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("etalase %v output:\n%s", args, p.Output())
		}
	})
	return p
}

// OpsURL returns the base URL of the process's operators' listener
// (OPS_ADDR), where /metrics, /debug/pprof/, /healthz and /readyz live.
func (p *Proc) OpsURL() string { return "http://" + p.opsAddr }

// MetricsURL returns the URL of the process's Prometheus metrics.
func (p *Proc) MetricsURL() string { return p.OpsURL() + "/metrics" }

// API is a started etalase command that serves HTTP on a port of its own.
type API struct {
	*Proc
	URL string // "http://" + its HTTP_ADDR
}

// StartAPI is Start with HTTP_ADDR on a free port of 127.0.0.1 (unless env
// names one) for a command that serves HTTP (api, all, dev). It does not
// wait: WaitHealthy or WaitHTTP does.
func StartAPI(t testing.TB, env map[string]string, args ...string) *API {
	t.Helper()
	vars := make(map[string]string, len(env)+1)
	for k, v := range env {
		vars[k] = v
	}
	if vars["HTTP_ADDR"] == "" {
		vars["HTTP_ADDR"] = "127.0.0.1:" + strconv.Itoa(FreePort(t))
	}
	return &API{Proc: Start(t, vars, args...), URL: "http://" + vars["HTTP_ADDR"]}
}

// WaitHealthy waits until /healthz answers 200, failing the test if the
// process exits first or timeout passes.
func (a *API) WaitHealthy(t testing.TB, timeout time.Duration) {
	t.Helper()
	a.WaitHTTP(t, a.URL+"/healthz", timeout)
}

// Output returns everything the process has written so far to stdout and
// stderr.
func (p *Proc) Output() string { return p.out.String() }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitHTTP polls url until it answers 200, failing the test if the process
// exits first or timeout passes.
func (p *Proc) WaitHTTP(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		if p.Exited() {
			t.Fatalf("etalase exited (%v) before %s answered:\n%s", p.err, url, p.Output())
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within %s (last: %s):\n%s", url, timeout, last, p.Output())
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Proc) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Pid returns the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Pause stops the process (SIGSTOP), as a stall would: it keeps its
// connections but runs nothing until Resume.
func (p *Proc) Pause() {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGSTOP)
	}
}

// Resume continues a paused process (SIGCONT).
func (p *Proc) Resume() {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Stop sends SIGTERM and waits up to timeout for the process to exit,
// returning its exit code. A process still running after timeout is killed
// and Stop returns -1.
func (p *Proc) Stop(timeout time.Duration) (exitCode int) {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
		return -1
	}
	return p.ExitCode()
}

// ExitCode returns the exit code of an ended process, -1 if it was ended by
// a signal or is still running.
func (p *Proc) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Wait waits up to timeout for the process to exit on its own and returns
// its exit code, or -1 if it is still running.
func (p *Proc) Wait(timeout time.Duration) int {
	select {
	case <-p.done:
		return p.ExitCode()
	case <-time.After(timeout):
		return -1
	}
}

// syncBuffer is a bytes.Buffer safe for the two copying goroutines of
// exec.Cmd and the test reading it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
