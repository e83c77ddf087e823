// Package redisproc runs private Redis deployments for tests: a
// redis-server (Start) that a test may hurt or reconfigure, with settings
// of its own (a small maxmemory that evicts), freeze (SIGSTOP), thaw, kill
// and start again empty; and a three-master Redis Cluster (StartCluster)
// whose nodes are such servers. StartClient gives a client of either, for
// tests that run on both. It never touches a shared Redis. It is test
// support only and imports nothing of the module.
package redisproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a private redis-server on a free port, keeping nothing on disk.
type Server struct {
	t    testing.TB
	Port int
	mu   sync.Mutex
	cmd  *exec.Cmd
	dir  string
	args []string // the settings of the options, kept for Restart
}

// Option configures the server Start runs.
type Option func(*Server)

// With sets a redis.conf directive on the command line, after the defaults
// (no persistence, maxmemory-policy noeviction), so it overrides them:
// With("maxmemory", "4mb"), With("maxmemory-policy", "allkeys-lru").
func With(name string, values ...string) Option {
	return func(s *Server) { s.args = append(append(s.args, "--"+name), values...) }
}

// onPort runs the server on port instead of a free one of its own.
func onPort(port int) Option {
	return func(s *Server) { s.Port = port }
}

// Start runs a fresh redis-server with opts and stops it when the test
// ends. A missing redis-server binary fails the test with a clear message.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if err := lookBinaries("redis-server"); err != nil {
		t.Fatalf("redisproc: %v", err)
	}
	s := &Server{t: t, dir: t.TempDir()}
	for _, o := range opts {
		o(s)
	}
	if s.Port == 0 {
		s.Port = freePorts(t, 1)[0]
	}
	s.start()
	t.Cleanup(s.Kill)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

func (s *Server) start() {
	s.t.Helper()
	args := append([]string{
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--maxmemory-policy", "noeviction", "--protected-mode", "no"}, s.args...)
	cmd := exec.Command("redis-server", args...)
	out, err := os.Create(s.logFile())
	if err != nil {
		s.t.Fatalf("redisproc: %v", err)
	}
	defer out.Close() // the child keeps its own descriptor
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("redisproc: start redis-server: %v", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(s.logFile())
			s.t.Fatalf("redisproc: redis-server on %s did not answer: %v\n%s", s.Addr(), err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logFile holds the server's output, read when it does not start (a
// setting it refuses).
func (s *Server) logFile() string { return filepath.Join(s.dir, "redis.log") }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Freeze stops the server process (SIGSTOP): connections stay open and
// nothing answers, as with a Redis that hangs.
func (s *Server) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (s *Server) Thaw() { s.signal(syscall.SIGCONT) }

// Kill kills the server with SIGKILL and waits for it to go; its data is lost.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// Restart kills the server and starts a new, empty one on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

// Topology is a Redis deployment that code under test must work on; its
// value names the subtests that run on it.
type Topology string

// The topologies StartClient runs.
const (
	Standalone Topology = "single"  // one server (Start)
	Clustered  Topology = "cluster" // a three-master cluster (StartCluster)
)

// Topologies are every topology, for a test that runs on each (RunOnEach).
var Topologies = []Topology{Standalone, Clustered}

// StartClient starts a private Redis of the topology and returns a client
// of it; the client is closed and the servers killed when the test ends.
func StartClient(t testing.TB, topology Topology) redis.UniversalClient {
	t.Helper()
	opts := &redis.UniversalOptions{}
	switch topology {
	case Standalone:
		opts.Addrs = []string{Start(t).Addr()}
	case Clustered:
		opts.Addrs, opts.IsClusterMode = StartCluster(t).Addrs(), true
	default:
		t.Fatalf("redisproc: unknown topology %q", topology)
	}
	rdb := redis.NewUniversalClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// RunOnEach runs test as a parallel subtest per topology, named after it,
// with a client of a private Redis of that topology.
func RunOnEach(t *testing.T, test func(t *testing.T, rdb redis.UniversalClient)) {
	for _, topology := range Topologies {
		t.Run(string(topology), func(t *testing.T) {
			t.Parallel()
			test(t, StartClient(t, topology))
		})
	}
}

// Flush empties the private Redis rdb reaches: every master of a cluster.
// Never hand it a client of a shared Redis.
func Flush(t testing.TB, rdb redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	var err error
	if c, ok := rdb.(*redis.ClusterClient); ok {
		err = c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.FlushAll(ctx).Err() })
	} else {
		err = rdb.FlushAll(ctx).Err()
	}
	if err != nil {
		t.Fatalf("redisproc: flush: %v", err)
	}
}

// lookBinaries says which of the programs a test needs is not on PATH.
func lookBinaries(bins ...string) error {
	for _, bin := range bins {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not installed; these tests need it on PATH (Debian package redis-server): %w", bin, err)
		}
	}
	return nil
}
