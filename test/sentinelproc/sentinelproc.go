// Package sentinelproc runs a private Redis Sentinel deployment for tests
// that fail a master over: a master, one replica and three sentinels on
// free loopback ports, keeping nothing on disk. It can ask the sentinels
// for a graceful failover, kill the master, freeze a node, and tells which
// node is the master now. It never touches a shared Redis. It is test
// support only and imports nothing of the module but testproc.
package sentinelproc

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/etalase/etalase/test/testproc"
)

// MasterName is the name the sentinels monitor the master under.
const MasterName = "etalase"

// Node is one redis-server of the deployment (a data node or a sentinel).
type Node struct {
	t    testing.TB
	Port int
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// Addr is the node's host:port.
func (n *Node) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.Port) }

// Deployment is a master and a replica watched by three sentinels.
type Deployment struct {
	t         testing.TB
	Nodes     [2]*Node // the first starts as the master
	Sentinels [3]*Node
}

// Start runs the deployment and waits until every sentinel knows the
// master and its replica. A missing redis-server fails the test with a
// clear message.
func Start(t testing.TB) *Deployment {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("sentinelproc: redis-server is not installed; these tests need it on PATH: %v", err)
	}
	d := &Deployment{t: t}
	dir := t.TempDir()
	// Each data node keeps its files (a replica's sync) in the test's
	// directory, named after its port.
	data := []string{"--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no",
		"--maxmemory-policy", "noeviction", "--protected-mode", "no",
		"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}
	master := testproc.FreePort(t)
	d.Nodes[0] = d.start(append(dataNode(master), data...), master)
	replica := testproc.FreePort(t)
	d.Nodes[1] = d.start(append(dataNode(replica, "--replicaof", "127.0.0.1", strconv.Itoa(master)), data...), replica)
	for i := range d.Sentinels {
		port := testproc.FreePort(t)
		conf := filepath.Join(dir, fmt.Sprintf("sentinel-%d.conf", i))
		// Sentinel rewrites its file, so each has its own.
		body := fmt.Sprintf(`port %d
bind 127.0.0.1
protected-mode no
dir %s
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 4000
sentinel parallel-syncs %s 1
`, port, dir, MasterName, master, MasterName, MasterName, MasterName)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		d.Sentinels[i] = d.start([]string{conf, "--sentinel"}, port)
	}
	t.Cleanup(d.stopAll)
	d.waitReady(master, 30*time.Second)
	return d
}

func dataNode(port int, more ...string) []string {
	return append([]string{"--port", strconv.Itoa(port), "--dbfilename", fmt.Sprintf("dump-%d.rdb", port)}, more...)
}

// SentinelAddrs are the sentinels' addresses, for REDIS_ADDRS.
func (d *Deployment) SentinelAddrs() []string {
	out := make([]string, len(d.Sentinels))
	for i, s := range d.Sentinels {
		out[i] = s.Addr()
	}
	return out
}

// Env is the environment that points etalase's Redis at the deployment,
// with extra's variables added. REDIS_URL names no address that is used,
// only the database.
func (d *Deployment) Env(extra map[string]string) map[string]string {
	env := map[string]string{
		"REDIS_MODE":   "sentinel",
		"REDIS_ADDRS":  strings.Join(d.SentinelAddrs(), ","),
		"REDIS_MASTER": MasterName,
		"REDIS_URL":    "redis://127.0.0.1/0",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// Master returns the node the sentinels name as master now.
func (d *Deployment) Master() *Node {
	d.t.Helper()
	addr, err := d.masterAddr()
	if err != nil {
		d.t.Fatalf("sentinelproc: ask for the master: %v", err)
	}
	return d.node(addr)
}

// Failover asks a sentinel for a graceful failover (SENTINEL FAILOVER) and
// returns the new master once every sentinel names it. A sentinel answers
// NOGOODSLAVE until it has vetted the replica (its INFO from the replica
// is recent, the link up), which can lag the replica being listed on a
// busy machine; nothing started then, so it is asked again.
func (d *Deployment) Failover() *Node {
	d.t.Helper()
	old := d.Master()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := command(d.Sentinels[0].Addr(), "SENTINEL", "FAILOVER", MasterName)
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "NOGOODSLAVE") || time.Now().After(deadline) {
			d.t.Fatalf("sentinelproc: SENTINEL FAILOVER: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return d.WaitNewMaster(old, 30*time.Second)
}

// WaitNewMaster waits until every sentinel names a master other than old.
func (d *Deployment) WaitNewMaster(old *Node, timeout time.Duration) *Node {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		agreed := ""
		for i, s := range d.Sentinels {
			addr, err := masterOf(s.Addr())
			if err != nil || addr == old.Addr() || (i > 0 && addr != agreed) {
				agreed = ""
				break
			}
			agreed = addr
		}
		if agreed != "" {
			return d.node(agreed)
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("sentinelproc: no new master after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitReplicas waits until node, a master, has n replicas online.
func (d *Deployment) WaitReplicas(node *Node, n int, timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		info, err := command(node.Addr(), "INFO", "replication")
		if err == nil && strings.Contains(info, "role:master") && strings.Count(info, "state=online") >= n {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("sentinelproc: %s has not %d replicas online after %s: %s %v", node.Addr(), n, timeout, info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Lag makes the replica fall behind master for real: it freezes the
// replica and writes 32 MB to the master, more than the sockets between
// them buffer, so that what master acknowledges next has not reached the
// replica when the master dies. Thaw the replica to end it.
func (d *Deployment) Lag(master, replica *Node) {
	d.t.Helper()
	replica.Freeze()
	// 32 MB through a loopback socket on a busy shared machine can take
	// longer than the two seconds a small command gets.
	if _, err := commandWithin(15*time.Second, master.Addr(), "SET", "sentinelproc:filler", strings.Repeat("x", 32<<20)); err != nil {
		replica.Thaw() // a frozen replica would outlive the test's failure
		d.t.Fatalf("sentinelproc: write the filler: %v", err)
	}
}

// Kill ends the node at once (SIGKILL).
func (n *Node) Kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
		n.cmd = nil
	}
}

// Restart starts a killed node again with its first arguments, empty: a
// data node comes back as the master it was started as, and the sentinels
// turn it into a replica of the master they promoted.
func (n *Node) Restart() {
	n.t.Helper()
	n.Kill()
	n.run()
}

// RestartAsReplicaOf starts a killed data node again, empty, as a replica
// of master: what a restart script does for a master that came back after
// a failover, instead of waiting for the sentinels to convert it (which
// they do only after it has reported itself master for several of their
// ten-second looks).
func (n *Node) RestartAsReplicaOf(master *Node) {
	n.t.Helper()
	n.Kill()
	args := n.args
	n.args = append(append([]string{}, args...), "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
	n.run()
	n.args = args
}

// Freeze stops the node (SIGSTOP); Thaw lets it go on.
func (n *Node) Freeze() { n.signal(syscall.SIGSTOP) }

// Thaw continues a frozen node.
func (n *Node) Thaw() { n.signal(syscall.SIGCONT) }

func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(sig)
	}
}

func (d *Deployment) start(args []string, port int) *Node {
	n := &Node{t: d.t, Port: port, args: args}
	n.run()
	return n
}

func (n *Node) run() {
	n.t.Helper()
	cmd := exec.Command("redis-server", n.args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("sentinelproc: start redis-server: %v", err)
	}
	n.mu.Lock()
	n.cmd = cmd
	n.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := command(n.Addr(), "PING"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("sentinelproc: redis-server on %s did not answer", n.Addr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *Deployment) stopAll() {
	for _, s := range d.Sentinels {
		s.Thaw()
		s.Kill()
	}
	for _, n := range d.Nodes {
		n.Thaw()
		n.Kill()
	}
}

// waitReady waits until every sentinel names master and knows a replica.
func (d *Deployment) waitReady(master int, timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	want := "127.0.0.1:" + strconv.Itoa(master)
	for {
		ready := true
		for _, s := range d.Sentinels {
			addr, err := masterOf(s.Addr())
			replicas, err2 := command(s.Addr(), "SENTINEL", "REPLICAS", MasterName)
			if err != nil || err2 != nil || addr != want || !strings.Contains(replicas, "slave") {
				ready = false
				break
			}
		}
		if ready {
			d.WaitReplicas(d.Nodes[0], 1, timeout)
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("sentinelproc: the sentinels do not agree on %s and its replica after %s", want, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *Deployment) masterAddr() (string, error) {
	var last error
	for _, s := range d.Sentinels {
		addr, err := masterOf(s.Addr())
		if err == nil {
			return addr, nil
		}
		last = err
	}
	return "", last
}

func (d *Deployment) node(addr string) *Node {
	for _, n := range d.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	d.t.Fatalf("sentinelproc: %s is none of the deployment's nodes", addr)
	return nil
}

// masterOf asks one sentinel for the master's address.
func masterOf(sentinel string) (string, error) {
	out, err := command(sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName)
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return "", fmt.Errorf("unexpected answer %q", out)
	}
	return net.JoinHostPort(f[0], f[1]), nil
}

// command sends one command in RESP and returns the reply flattened to
// text (bulk strings and integers separated by spaces or newlines): enough
// for the few answers this package reads, without a client library.
func command(addr string, args ...string) (string, error) {
	return commandWithin(2*time.Second, addr, args...)
}

// commandWithin sends one command and reads its reply, both within limit.
func commandWithin(limit time.Duration, addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(limit))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(c))
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		parts := make([]string, 0, n)
		for range n {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, " "), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}
