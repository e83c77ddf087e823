package e2e

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxy is a TCP proxy in front of PostgreSQL that a test can cut (close
// every connection and refuse new ones) and slow down (delay every chunk
// sent to the server).
type proxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool
	delay  atomic.Int64 // nanoseconds added before each client->server chunk

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.closeAll()
	})
	return p
}

// Addr is the host:port clients dial.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every open connection and refuses new ones until Restore.
func (p *proxy) Cut() {
	p.down.Store(true)
	p.closeAll()
}

// Restore lets connections through again.
func (p *proxy) Restore() { p.down.Store(false) }

// SetDelay delays each chunk the client sends by d.
func (p *proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			c.Close()
			continue
		}
		go p.serve(c)
	}
}

func (p *proxy) serve(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		return
	}
	go func() {
		p.pipe(server, client, true)
		server.Close()
	}()
	p.pipe(client, server, false)
	client.Close()
}

// track registers a connection pair, or closes it if the proxy was cut
// meanwhile.
func (p *proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down.Load() {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// pipe copies src to dst; toServer chunks wait for the current delay.
func (p *proxy) pipe(dst, src net.Conn, toServer bool) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Duration(p.delay.Load()); toServer && d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a closed connection: the pair ends
		}
	}
}
