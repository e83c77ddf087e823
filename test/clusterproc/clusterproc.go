// Package clusterproc runs a private Redis Cluster for tests: three masters
// without replicas on free loopback ports, each in its own temporary
// directory, joined with `redis-cli --cluster create` and killed when the
// test ends. A node can be frozen (SIGSTOP) and thawed. It never touches a
// shared Redis. It needs Redis 7 or later (cluster-port) and redis-cli. It
// is test support only and imports nothing of the module.
package clusterproc

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Masters is the number of nodes Start runs: the fewest Redis accepts for
// a cluster.
const Masters = 3

// Cluster is a running private Redis Cluster.
type Cluster struct {
	Nodes []*Node
}

// Node is one redis-server of a Cluster.
type Node struct {
	Port int
	bus  int
	dir  string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// Start runs a fresh three-master cluster and waits until every node says
// cluster_state:ok. A missing redis-server or redis-cli fails the test with
// a clear message.
func Start(t testing.TB) *Cluster {
	t.Helper()
	if err := lookBinaries(); err != nil {
		t.Fatalf("clusterproc: %v", err)
	}
	c := &Cluster{}
	t.Cleanup(c.kill)
	ports := freePorts(t, 2*Masters)
	for i := 0; i < Masters; i++ {
		n := &Node{Port: ports[2*i], bus: ports[2*i+1], dir: t.TempDir()}
		c.Nodes = append(c.Nodes, n)
		n.start(t)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("clusterproc: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, n := range c.Nodes {
		for {
			state, err := n.clusterState()
			if state == "ok" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("clusterproc: node %s says cluster_state %q (%v) after 15s", n.Addr(), state, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

// Addrs are the nodes' host:port addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// AddrList is Addrs as the comma list REDIS_ADDRS takes.
func (c *Cluster) AddrList() string { return strings.Join(c.Addrs(), ",") }

func (c *Cluster) kill() {
	for _, n := range c.Nodes {
		n.Kill()
	}
}

// Addr is the node's host:port.
func (n *Node) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.Port) }

// start runs the node's redis-server: no persistence, the cluster bus on a
// port of its own (the default, port+10000, may not exist), and the cluster
// still serving the other nodes' slots while one node is unreachable.
func (n *Node) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(n.Port), "--bind", "127.0.0.1",
		"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(n.bus),
		"--cluster-config-file", "nodes.conf", "--cluster-require-full-coverage", "no",
		"--save", "", "--appendonly", "no", "--dir", n.dir,
		"--maxmemory-policy", "noeviction", "--protected-mode", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("clusterproc: start redis-server: %v", err)
	}
	n.mu.Lock()
	n.cmd = cmd
	n.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", n.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clusterproc: redis-server on %s did not answer: %v", n.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clusterState asks the node CLUSTER INFO and returns its cluster_state.
func (n *Node) clusterState() (string, error) {
	conn, err := net.DialTimeout("tcp", n.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("CLUSTER INFO\r\n")); err != nil {
		return "", err
	}
	// The answer is a bulk string: $<len>, then lines of field:value.
	r := bufio.NewReader(conn)
	head, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(head, "$") {
		return "", fmt.Errorf("CLUSTER INFO answered %q", strings.TrimSpace(head))
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_state:"); ok {
			return v, nil
		}
	}
}

func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(sig)
	}
}

// Freeze stops the node's process (SIGSTOP): connections stay open and
// nothing answers, as with a Redis that hangs.
func (n *Node) Freeze() { n.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen node (SIGCONT).
func (n *Node) Thaw() { n.signal(syscall.SIGCONT) }

// Kill kills the node with SIGKILL and waits for it to go.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd := n.cmd
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// lookBinaries says which of the programs Start runs is not on PATH.
func lookBinaries() error {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not installed; these tests need it on PATH (Debian package redis-server): %w", bin, err)
		}
	}
	return nil
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago; every listener stays open until all are chosen, so no port
// comes twice.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("clusterproc: find a free port: %v", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}
