package postgres

import (
	"net"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
)

// CheckURL reports whether dsn is a connection string pgx accepts. Its
// error never quotes dsn, which may hold a password.
func CheckURL(dsn string) error {
	if _, err := pgconn.ParseConfig(dsn); err != nil {
		return errBadDSN
	}
	return nil
}

// TCPAddress returns the host:port dsn connects to first, or "" when it
// is not a TCP address (a Unix socket) or dsn does not parse.
func TCPAddress(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil || len(cfg.Host) == 0 || cfg.Host[0] == '/' {
		return ""
	}
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}
