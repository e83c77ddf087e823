// Package pgbouncerproc runs a private PgBouncer in transaction mode on a
// free port, in front of the PostgreSQL server tests use (pgtest's
// TEST_DATABASE_URL), for tests of etalase behind a pooler: several
// processes whose pools, together, are larger than the few server
// connections PgBouncer opens. It never touches a shared PgBouncer. It is
// test support: it may import pgtest and testproc.
package pgbouncerproc

import (
	"bytes"
	"context"
	"fmt"
	"net"
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

	"github.com/jackc/pgx/v5"

	"github.com/etalase/etalase/test/pgtest"
	"github.com/etalase/etalase/test/testproc"
)

// DefaultPoolSize is the number of server connections PgBouncer opens per
// database: small, so that a test shows many clients sharing few.
const DefaultPoolSize = 4

// DefaultMaxClientConn is how many client connections PgBouncer accepts:
// enough for a handful of etalase processes with pools of 16.
const DefaultMaxClientConn = 500

// Options size the private PgBouncer; zero fields take the defaults.
type Options struct {
	PoolSize      int // default_pool_size: server connections per database and user
	MaxClientConn int // max_client_conn
}

// Server is a running private PgBouncer.
type Server struct {
	Port     int
	PoolSize int

	t    testing.TB
	user string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// Start runs a PgBouncer with the default options and stops it when the
// test ends. A missing pgbouncer binary fails the test with a clear message.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith runs a PgBouncer sized by o and stops it when the test ends.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	if o.PoolSize <= 0 {
		o.PoolSize = DefaultPoolSize
	}
	if o.MaxClientConn <= 0 {
		o.MaxClientConn = DefaultMaxClientConn
	}
	bin := binary(t)
	backend, err := pgx.ParseConfig(pgtest.ServerURL())
	if err != nil {
		t.Fatalf("pgbouncerproc: TEST_DATABASE_URL is not a valid PostgreSQL connection string")
	}
	dir := t.TempDir()
	// The port was free a moment ago; another process may take it before
	// PgBouncer binds, so a failed start tries another.
	var last string
	for attempt := 0; attempt < 3; attempt++ {
		s := &Server{Port: testproc.FreePort(t), PoolSize: o.PoolSize, t: t, user: backend.User}
		ini := filepath.Join(dir, "pgbouncer-"+strconv.Itoa(attempt)+".ini")
		if err := os.WriteFile(ini, []byte(s.config(backend, o)), 0o644); err != nil {
			t.Fatalf("pgbouncerproc: write the configuration: %v", err)
		}
		if s.start(bin, ini) {
			t.Cleanup(s.stop)
			return s
		}
		last = s.out.String()
	}
	t.Fatalf("pgbouncerproc: pgbouncer did not start:\n%s", last)
	return nil
}

// binary finds pgbouncer on PATH or where Debian's package puts it, which
// is not on every user's PATH.
func binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p
	}
	const debian = "/usr/sbin/pgbouncer"
	if _, err := os.Stat(debian); err == nil {
		return debian
	}
	t.Fatalf("pgbouncerproc: pgbouncer is not installed (Debian: apt-get install pgbouncer); these tests need it on PATH or in /usr/sbin")
	return ""
}

// config is the ini file of s: every database is forwarded to the test
// server as its user (auth_type any accepts any client user without a
// password), in transaction mode, logging to stderr.
func (s *Server) config(backend *pgx.ConnConfig, o Options) string {
	target := "host=" + quote(backend.Host) + " port=" + strconv.Itoa(int(backend.Port)) + " user=" + quote(backend.User)
	if backend.Password != "" {
		target += " password=" + quote(backend.Password)
	}
	return fmt.Sprintf(`[databases]
* = %s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
logfile =
pidfile =
auth_type = any
pool_mode = transaction
default_pool_size = %d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = %d
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
`, target, s.Port, o.PoolSize, o.MaxClientConn)
}

// quote quotes a libpq connection-string value.
func quote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// start runs pgbouncer with ini and reports whether it answers.
func (s *Server) start(bin, ini string) bool {
	s.t.Helper()
	args := []string{ini}
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root; it reads ini before it switches.
		args = []string{"-u", "nobody", ini}
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.out = &syncBuffer{}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.done = make(chan struct{})
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("pgbouncerproc: start %s: %v", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	return false
}

// stop ends PgBouncer (SIGTERM is its immediate shutdown) and logs its
// output if the test failed.
func (s *Server) stop() {
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	if s.t.Failed() {
		s.t.Logf("pgbouncer output:\n%s", s.out.String())
	}
}

// Addr is PgBouncer's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL returns a DSN of database through PgBouncer.
func (s *Server) URL(database string) string {
	u := url.URL{Scheme: "postgres", User: url.User(s.user), Host: s.Addr(), Path: "/" + database, RawQuery: "sslmode=disable"}
	return u.String()
}

// URLFor returns dsn's database through PgBouncer: for a DSN from
// pgtest.NewDatabase.
func (s *Server) URLFor(t testing.TB, dsn string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("pgbouncerproc: not a PostgreSQL connection string")
	}
	return s.URL(cfg.Database)
}

// Show runs SHOW what (POOLS, SERVERS, CLIENTS, STATS...) on PgBouncer's
// admin console and returns its rows as column name to text value.
func (s *Server) Show(t testing.TB, what string) []map[string]string {
	t.Helper()
	cfg, err := pgx.ParseConfig(s.URL("pgbouncer"))
	if err != nil {
		t.Fatal(err)
	}
	// The console speaks the simple protocol only.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgbouncerproc: connect to the admin console: %v", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SHOW "+what)
	if err != nil {
		t.Fatalf("pgbouncerproc: SHOW %s: %v", what, err)
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		row := map[string]string{}
		for i, fd := range rows.FieldDescriptions() {
			row[fd.Name] = string(rows.RawValues()[i])
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("pgbouncerproc: SHOW %s: %v", what, err)
	}
	return out
}

// Output returns what PgBouncer has logged so far.
func (s *Server) Output() string { return s.out.String() }

// syncBuffer is a bytes.Buffer safe for exec.Cmd's copying and the test
// reading it.
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
