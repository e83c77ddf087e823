package redisproc

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Masters is the number of nodes StartCluster runs: the fewest Redis
// accepts for a cluster.
const Masters = 3

// Cluster is a running private Redis Cluster: three masters without
// replicas, each a Server of its own. It needs Redis 7 or later
// (cluster-port) and redis-cli.
type Cluster struct {
	Nodes []*Server
}

// StartCluster runs a fresh three-master cluster, joined with `redis-cli
// --cluster create`, and waits until every node says cluster_state:ok. The
// nodes are killed when the test ends. A missing redis-server or redis-cli
// fails the test with a clear message.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	if err := lookBinaries("redis-server", "redis-cli"); err != nil {
		t.Fatalf("redisproc: %v", err)
	}
	c := &Cluster{}
	ports := freePorts(t, 2*Masters)
	for i := 0; i < Masters; i++ {
		// The cluster bus gets a port of its own (the default, port+10000,
		// may not exist), and the cluster still serves the other nodes'
		// slots while one node is unreachable.
		c.Nodes = append(c.Nodes, Start(t, onPort(ports[2*i]),
			With("cluster-enabled", "yes"), With("cluster-port", strconv.Itoa(ports[2*i+1])),
			With("cluster-config-file", "nodes.conf"), With("cluster-require-full-coverage", "no")))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redisproc: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, n := range c.Nodes {
		for {
			state, err := clusterState(n.Addr())
			if state == "ok" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("redisproc: node %s says cluster_state %q (%v) after 15s", n.Addr(), state, err)
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

// clusterState asks the node at addr CLUSTER INFO and returns its
// cluster_state.
func clusterState(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
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

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago; every listener stays open until all are chosen, so no port
// comes twice.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("redisproc: find a free port: %v", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}
