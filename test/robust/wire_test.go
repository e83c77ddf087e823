package robust

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// request is one request as bytes on the wire. Every request is written by
// hand so that the hostile ones (invalid methods, broken header bytes, lying
// Content-Lengths) reach the server exactly as generated.
type request struct {
	kind    string // the generator that made it, for the failure messages
	method  string
	target  string // the request target, written as is
	header  [][2]string
	body    []byte
	raw     []byte // when set, written instead of the fields above
	fresh   bool   // send on a new connection and close it afterwards
	noReply bool   // a server may close such a connection without answering
}

// wire renders the request as HTTP/1.1 bytes.
func (r *request) wire() []byte {
	if r.raw != nil {
		return r.raw
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: etalase\r\n", r.method, r.target)
	hasLength := false
	for _, h := range r.header {
		if strings.EqualFold(h[0], "Content-Length") || strings.EqualFold(h[0], "Transfer-Encoding") {
			hasLength = true
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if !hasLength && (r.body != nil || r.method == "POST" || r.method == "PATCH" || r.method == "PUT") {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body))
	}
	if r.fresh {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// String describes the request briefly, for failure messages.
func (r *request) String() string {
	w := r.wire()
	if len(w) > 300 {
		w = append(w[:300:300], "..."...)
	}
	return fmt.Sprintf("[%s] %q", r.kind, w)
}

// reply is what came back for one request.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// errNoReply marks a connection the server closed or reset before any byte
// of a response arrived.
var errNoReply = errors.New("connection closed without a response")

// client sends requests over one keep-alive connection, opening a new one
// when the server closed the last.
type client struct {
	addr    string
	conn    net.Conn
	br      *bufio.Reader
	timeout time.Duration
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}

func (c *client) dial() error {
	conn, err := net.DialTimeout("tcp", c.addr, c.timeout)
	if err != nil {
		return err
	}
	c.conn, c.br = conn, bufio.NewReaderSize(conn, 64<<10)
	return nil
}

// do sends r and reads its response. A request on a reused keep-alive
// connection that the server had already closed is retried once on a new
// connection; a new connection that yields no response is an error.
func (c *client) do(r *request) (reply, error) {
	if r.fresh {
		c.close()
	}
	reused := c.conn != nil
	rep, err := c.roundTrip(r)
	if err != nil && reused && errors.Is(err, errNoReply) {
		c.close()
		rep, err = c.roundTrip(r)
	}
	if err != nil || r.fresh || rep.header.Get("Connection") == "close" {
		c.close()
	}
	return rep, err
}

func (c *client) roundTrip(r *request) (reply, error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return reply{}, fmt.Errorf("dial: %w", err)
		}
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return reply{}, err
	}
	// Write while reading: a server may answer (413, 400) and close before
	// it has read a large body, and the answer must be read as it arrives.
	wrote := make(chan error, 1)
	data := r.wire()
	conn, fresh := c.conn, r.fresh
	go func() {
		_, err := conn.Write(data)
		if err == nil && fresh {
			// Half-close: a server waiting for more body than was sent
			// sees the end instead of waiting for the deadline.
			if tc, ok := conn.(*net.TCPConn); ok {
				err = tc.CloseWrite()
			}
		}
		wrote <- err
	}()
	if _, err := c.br.Peek(1); err != nil {
		<-wrote
		if errors.Is(err, io.EOF) || isReset(err) {
			return reply{}, fmt.Errorf("%w: %v", errNoReply, err)
		}
		return reply{}, fmt.Errorf("read response: %w", err)
	}
	method := r.method
	if method == "" {
		method = "GET"
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 {
		// An interim answer (100 Continue); the final one follows.
		resp, err = http.ReadResponse(c.br, &http.Request{Method: method})
	}
	if err != nil {
		<-wrote
		return reply{}, fmt.Errorf("parse response: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	if err != nil {
		<-wrote
		return reply{}, fmt.Errorf("read response body: %w", err)
	}
	if werr := <-wrote; werr != nil {
		// The server answered before it read everything; the connection
		// cannot carry another request.
		c.close()
	}
	if resp.Close {
		resp.Header.Set("Connection", "close")
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

func isReset(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe")
}

// contentLength formats n for a header.
func contentLength(n int) string { return strconv.Itoa(n) }
