package bootstrap

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/etalase/etalase/adapters/postgres"
	"github.com/etalase/etalase/domain"
)

// dialTimeout bounds the reachability probe of dev's default servers.
const dialTimeout = time.Second

// prepareTimeout bounds dev's database creation and migrations.
const prepareTimeout = time.Minute

// devCommand is `etalase dev`: everything in one process, migrations
// applied at start, and the in-memory fallback for unreachable defaults.
var devCommand = Command{
	Name:    "dev",
	Summary: "everything in one process for a laptop: migrates at start, falls back to memory",
	Prepare: prepareDev,
	Options: DevOptions,
}

// DevOptions are the fx options of `etalase dev`: those of `all`; what
// differs (migrating, the fallback) happens in prepareDev.
func DevOptions(c Config, log *zap.Logger, fb Fallback) fx.Option {
	return AllOptions(c, log, fb)
}

// prepareDev creates and migrates the database, or, only when DATABASE_URL
// was not set and the default server does not answer, falls back to the
// in-memory store. Redis is probed the same way. A server that answers but
// fails (a bad password, a broken migration) is an error, not a fallback.
func prepareDev(ctx context.Context, c Config, log *zap.Logger) (Fallback, error) {
	var fb Fallback
	if !c.DatabaseURLSet && !reachable(ctx, postgresAddr(c.DatabaseURL)) {
		fb.Postgres = true
		log.Warn("POSTGRESQL IS UNREACHABLE: dev runs on the in-memory store and every change is lost at exit",
			zap.String("database", RedactURL(c.DatabaseURL)))
	} else {
		ctx, cancel := context.WithTimeout(ctx, prepareTimeout)
		defer cancel()
		// Both need a session of PostgreSQL itself, not of a pooler.
		if err := postgres.EnsureDatabase(ctx, c.DatabaseDirectURL); err != nil {
			return fb, fmt.Errorf("create database: %s%s", Redact(err.Error(), c.DatabaseDirectURL), noFallback(c, err))
		}
		out := logWriter(log.Named("migrate"))
		err := postgres.Migrate(ctx, c.DatabaseDirectURL, "up", out)
		out.Close()
		if err != nil {
			return fb, fmt.Errorf("migrate: %s", Redact(err.Error(), c.DatabaseDirectURL))
		}
	}
	if !c.RedisURLSet && c.RedisMode == RedisSingle && c.CacheRedisMode == RedisSingle && !reachable(ctx, redisAddr(c.RedisURL)) {
		fb.Redis = true
		log.Warn("REDIS IS UNREACHABLE: dev runs with an in-process cache and an in-memory job queue",
			zap.String("redis", RedactURL(c.RedisURL)))
	}
	return fb, nil
}

// noFallback explains, after an unreachable database, why dev did not fall
// back to memory: the variable was set.
func noFallback(c Config, err error) string {
	if !c.DatabaseURLSet || domain.KindOf(err) != domain.KindUnavailable {
		return ""
	}
	return " (DATABASE_URL is set, so dev does not fall back to memory: only an unset DATABASE_URL or REDIS_URL does)"
}

// reachable reports whether a TCP connection to addr opens within
// dialTimeout.
func reachable(ctx context.Context, addr string) bool {
	if addr == "" {
		return false
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func postgresAddr(dsn string) string { return postgres.TCPAddress(dsn) }

func redisAddr(rawURL string) string {
	o, err := redisOptions(rawURL, RedisSingle, nil)
	if err != nil || len(o.Addrs) == 0 {
		return ""
	}
	return o.Addrs[0]
}

// logWriter turns the lines a library prints (goose's progress) into info
// log lines. Close it to flush the last line.
func logWriter(log *zap.Logger) io.WriteCloser {
	r, w := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := bufio.NewScanner(r)
		for s.Scan() {
			log.Info("migration", zap.String("line", s.Text()))
		}
	}()
	return closer{w: w, done: done}
}

type closer struct {
	w    *io.PipeWriter
	done chan struct{}
}

func (c closer) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c closer) Close() error {
	err := c.w.Close()
	<-c.done
	return err
}
