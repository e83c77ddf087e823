package bootstrap

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap/zapcore"
)

// Defaults of the variables CONTRACT.md lists.
const (
	DefaultHTTPAddr          = ":8080"
	DefaultDatabaseURL       = "postgres://postgres@127.0.0.1:5432/etalase?sslmode=disable"
	DefaultRedisURL          = "redis://127.0.0.1:6379/0"
	DefaultCacheTTL          = 60 * time.Second
	DefaultCacheLocalEntries = 10_000
	DefaultCacheLocalBytes   = 16 << 20
	DefaultCacheLocalWindow  = 10 * time.Millisecond
	DefaultReportDelay       = 5 * time.Second
	DefaultWorkerConcurrency = 10
	DefaultShutdownTimeout   = 15 * time.Second
)

// Key is a named secret from API_KEYS or ADMIN_KEYS.
type Key struct {
	Name   string
	Secret string
}

// String shows the key's name only.
func (k Key) String() string { return k.Name + ":" + mask }

// Config is etalase's configuration, read once from the environment by
// LoadConfig. Its String masks every secret.
type Config struct {
	Command string // the subcommand being run: api, dev, worker, all, migrate

	HTTPAddr    string
	DatabaseURL string
	// DatabaseDirectURL reaches PostgreSQL itself, never a transaction-mode
	// pooler: it carries what needs a session (LISTEN, migrations and
	// their advisory lock). It defaults to DatabaseURL.
	DatabaseDirectURL string
	RedisURL          string
	CacheRedisURL     string
	RedisMode         string
	RedisAddrs        []string
	// CacheRedisMode and CacheRedisAddrs are the cache Redis's topology,
	// the queue's unless CACHE_REDIS_MODE or CACHE_REDIS_ADDRS say otherwise
	// (the cache on Cluster, the queue on a single Redis or Sentinel).
	CacheRedisMode  string
	CacheRedisAddrs []string
	// RedisAllowEviction lets the commands start on a queue Redis whose
	// maxmemory-policy may drop keys (jobs), which they refuse otherwise.
	RedisAllowEviction bool

	// DatabaseURLSet and RedisURLSet say whether the variables were given;
	// only dev with an unset variable may fall back to memory adapters.
	DatabaseURLSet bool
	RedisURLSet    bool

	CacheTTL     time.Duration
	CacheEnabled bool
	// CacheLocalEntries and CacheLocalBytes bound the local tier (entries
	// 0: off); a write waits for every process to acknowledge its
	// invalidation, at most CacheLocalWindow and an eighth.
	CacheLocalEntries int
	CacheLocalBytes   int
	CacheLocalWindow  time.Duration
	ReportDelay       time.Duration
	WorkerConcurrency int

	APIKeys   []Key
	AdminKeys []Key
	// GeneratedKey is the key dev made up because API_KEYS was unset; it is
	// logged once at start.
	GeneratedKey *Key

	LogLevel        zapcore.Level
	LogFormat       string // json or console
	ShutdownTimeout time.Duration
}

// ConfigError is a configuration error; its text is one line naming the
// variable.
type ConfigError struct {
	Variable string
	Problem  string
}

func (e *ConfigError) Error() string { return "config: " + e.Variable + ": " + e.Problem }

// IsConfigError reports whether err is, or wraps, a configuration error.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// LoadConfig reads the configuration of command from getenv (os.Getenv in
// the binary). It returns the first bad variable as a *ConfigError.
func LoadConfig(command string, getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{Command: command}
	c.HTTPAddr = r.addr("HTTP_ADDR", DefaultHTTPAddr)
	c.DatabaseURL, c.DatabaseURLSet = r.url("DATABASE_URL", DefaultDatabaseURL, "postgres", "postgresql")
	c.DatabaseDirectURL, _ = r.url("DATABASE_DIRECT_URL", c.DatabaseURL, "postgres", "postgresql")
	c.RedisURL, c.RedisURLSet = r.url("REDIS_URL", DefaultRedisURL, "redis", "rediss", "unix")
	c.CacheRedisURL, _ = r.url("CACHE_REDIS_URL", c.RedisURL, "redis", "rediss", "unix")
	c.RedisMode = r.oneOf("REDIS_MODE", RedisSingle, RedisSingle, RedisCluster, RedisSentinel)
	c.RedisAddrs = r.list("REDIS_ADDRS")
	c.CacheRedisMode = r.oneOf("CACHE_REDIS_MODE", c.RedisMode, RedisSingle, RedisCluster, RedisSentinel)
	c.CacheRedisAddrs = r.list("CACHE_REDIS_ADDRS")
	if c.CacheRedisAddrs == nil && r.err == nil {
		if c.CacheRedisMode != c.RedisMode && c.CacheRedisMode != RedisSingle {
			// Cluster nodes and sentinels are never the same addresses.
			r.fail("CACHE_REDIS_ADDRS", "CACHE_REDIS_MODE=%s differs from REDIS_MODE=%s: give the cache its own addresses", c.CacheRedisMode, c.RedisMode)
		}
		c.CacheRedisAddrs = c.RedisAddrs
	}
	c.RedisAllowEviction = r.boolean("REDIS_ALLOW_EVICTION", false)
	c.CacheTTL = r.duration("CACHE_TTL", DefaultCacheTTL, time.Second)
	c.CacheEnabled = r.boolean("CACHE_ENABLED", true)
	// The local tier is on by default where its argument holds (not on a
	// Redis Cluster, see below).
	localEntries := DefaultCacheLocalEntries
	if c.CacheRedisMode == RedisCluster {
		localEntries = 0
	}
	c.CacheLocalEntries = r.integer("CACHE_LOCAL_ENTRIES", localEntries, 0, 10_000_000)
	c.CacheLocalBytes = r.integer("CACHE_LOCAL_BYTES", DefaultCacheLocalBytes, 1<<20, 1<<40)
	c.CacheLocalWindow = r.duration("CACHE_LOCAL_WINDOW", DefaultCacheLocalWindow, time.Millisecond)
	c.ReportDelay = r.duration("REPORT_DELAY", DefaultReportDelay, 0)
	c.WorkerConcurrency = r.integer("WORKER_CONCURRENCY", DefaultWorkerConcurrency, 1, 10000)
	c.APIKeys = r.keys("API_KEYS")
	c.AdminKeys = r.keys("ADMIN_KEYS")
	c.LogLevel = r.level("LOG_LEVEL", zapcore.InfoLevel)
	defaultFormat := "json"
	if command == "dev" {
		defaultFormat = "console"
	}
	c.LogFormat = r.oneOf("LOG_FORMAT", defaultFormat, "json", "console")
	c.ShutdownTimeout = r.duration("SHUTDOWN_TIMEOUT", DefaultShutdownTimeout, time.Millisecond)
	if r.err != nil {
		return Config{}, r.err
	}

	for _, v := range []struct{ name, url string }{{"DATABASE_URL", c.DatabaseURL}, {"DATABASE_DIRECT_URL", c.DatabaseDirectURL}} {
		if _, err := pgconn.ParseConfig(v.url); err != nil {
			return Config{}, &ConfigError{v.name, "not a valid PostgreSQL connection URL"}
		}
	}
	if c.CacheLocalEntries > 0 && c.CacheRedisMode == RedisCluster {
		// Cluster relays PUBLISH between nodes after answering it, so the
		// local tier's freshness argument does not hold there.
		return Config{}, &ConfigError{"CACHE_LOCAL_ENTRIES", "the local tier needs CACHE_REDIS_MODE single or sentinel, not cluster"}
	}
	queueMaster := strings.TrimSpace(getenv("REDIS_MASTER"))
	if queueMaster != "" {
		c.RedisURL = withMaster(c.RedisURL, queueMaster)
	}
	switch cacheMaster := strings.TrimSpace(getenv("CACHE_REDIS_MASTER")); {
	case cacheMaster != "":
		c.CacheRedisURL = withMaster(c.CacheRedisURL, cacheMaster)
	case queueMaster != "" && c.CacheRedisMode == RedisSentinel:
		// The queue's master name is the cache's only where it can apply.
		c.CacheRedisURL = withMaster(c.CacheRedisURL, queueMaster)
	}
	for _, v := range []struct {
		vars  redisVars
		url   string
		mode  string
		addrs []string
	}{
		{queueRedisVars, c.RedisURL, c.RedisMode, c.RedisAddrs},
		{cacheRedisVars, c.CacheRedisURL, c.CacheRedisMode, c.CacheRedisAddrs},
	} {
		if err := checkRedis(v.vars, v.url, v.mode, v.addrs); err != nil {
			return Config{}, err
		}
	}
	if len(c.APIKeys) == 0 {
		switch command {
		case "dev":
			k, err := generateKey()
			if err != nil {
				return Config{}, &ConfigError{"API_KEYS", "unset, and no random key could be made: " + err.Error()}
			}
			c.APIKeys = []Key{k}
			c.GeneratedKey = &k
		case "api", "all":
			return Config{}, &ConfigError{"API_KEYS", "must be set for " + command + " (name:secret,name2:secret2)"}
		}
	}
	return c, nil
}

// redisVars names the variables of one Redis client, for errors.
type redisVars struct{ url, mode, addrs, master string }

var (
	queueRedisVars = redisVars{"REDIS_URL", "REDIS_MODE", "REDIS_ADDRS", "REDIS_MASTER"}
	cacheRedisVars = redisVars{"CACHE_REDIS_URL", "CACHE_REDIS_MODE", "CACHE_REDIS_ADDRS", "CACHE_REDIS_MASTER"}
)

// checkRedis checks one client's settings, naming the variable to fix.
func checkRedis(v redisVars, rawURL, mode string, addrs []string) error {
	if mode != RedisSingle && len(addrs) == 0 {
		return &ConfigError{v.addrs, v.mode + "=" + mode + " needs a comma list of addresses"}
	}
	if mode == RedisSentinel && !hasMaster(rawURL) {
		return &ConfigError{v.url, v.mode + "=sentinel needs a master name: set " + v.master + " or ?master= in " + v.url}
	}
	if _, err := redisOptions(rawURL, mode, addrs); err != nil {
		return &ConfigError{v.url, err.Error()}
	}
	return nil
}

// hasMaster reports whether a Redis URL names a sentinel master.
func hasMaster(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.Query().Get(masterParam) != ""
}

// withMaster adds the sentinel master name to a Redis URL that has none.
func withMaster(rawURL, master string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	q := u.Query()
	if q.Get(masterParam) == "" {
		q.Set(masterParam, master)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func generateKey() (Key, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return Key{}, err
	}
	return Key{Name: "dev", Secret: hex.EncodeToString(b)}, nil
}

// String prints the configuration with passwords and key secrets masked.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP_ADDR=%s DATABASE_URL=%s DATABASE_DIRECT_URL=%s REDIS_URL=%s CACHE_REDIS_URL=%s REDIS_MODE=%s REDIS_ADDRS=%s CACHE_REDIS_MODE=%s CACHE_REDIS_ADDRS=%s REDIS_ALLOW_EVICTION=%t",
		c.HTTPAddr, RedactURL(c.DatabaseURL), RedactURL(c.DatabaseDirectURL), RedactURL(c.RedisURL), RedactURL(c.CacheRedisURL),
		c.RedisMode, strings.Join(c.RedisAddrs, ","), c.CacheRedisMode, strings.Join(c.CacheRedisAddrs, ","), c.RedisAllowEviction)
	fmt.Fprintf(&b, " CACHE_TTL=%s CACHE_ENABLED=%t CACHE_LOCAL_ENTRIES=%d CACHE_LOCAL_BYTES=%d CACHE_LOCAL_WINDOW=%s REPORT_DELAY=%s WORKER_CONCURRENCY=%d",
		c.CacheTTL, c.CacheEnabled, c.CacheLocalEntries, c.CacheLocalBytes, c.CacheLocalWindow, c.ReportDelay, c.WorkerConcurrency)
	fmt.Fprintf(&b, " API_KEYS=%s ADMIN_KEYS=%s LOG_LEVEL=%s LOG_FORMAT=%s SHUTDOWN_TIMEOUT=%s",
		keyList(c.APIKeys), keyList(c.AdminKeys), c.LogLevel, c.LogFormat, c.ShutdownTimeout)
	return b.String()
}

func keyList(keys []Key) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, ",")
}

// reader parses variables and keeps the first error.
type reader struct {
	getenv func(string) string
	err    error
}

func (r *reader) fail(name, format string, args ...any) {
	if r.err == nil {
		r.err = &ConfigError{Variable: name, Problem: fmt.Sprintf(format, args...)}
	}
}

func (r *reader) lookup(name string) (string, bool) {
	v := strings.TrimSpace(r.getenv(name))
	return v, v != ""
}

func (r *reader) str(name, def string) string {
	if v, ok := r.lookup(name); ok {
		return v
	}
	return def
}

// addr reads a listen address: host:port, where the host may be empty.
func (r *reader) addr(name, def string) string {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		r.fail(name, "%q is not host:port (like :8080 or 127.0.0.1:8080)", v)
		return def
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		r.fail(name, "%q has no valid port", v)
		return def
	}
	return v
}

// url checks the scheme of a URL variable; its error never quotes the
// value, which may hold a password.
func (r *reader) url(name, def string, schemes ...string) (string, bool) {
	v, ok := r.lookup(name)
	if !ok {
		return def, false
	}
	u, err := url.Parse(v)
	if err != nil {
		r.fail(name, "not a valid URL")
		return def, true
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return v, true
		}
	}
	r.fail(name, "scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
	return def, true
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return def
}

func (r *reader) list(name string) []string {
	v, ok := r.lookup(name)
	if !ok {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// duration parses a Go duration at least min long.
func (r *reader) duration(name string, def, min time.Duration) time.Duration {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, "%q is not a duration (like 60s or 1m30s)", v)
		return def
	}
	if d < min {
		r.fail(name, "%s is shorter than %s", d, min)
		return def
	}
	return d
}

func (r *reader) boolean(name string, def bool) bool {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "%q is not true or false", v)
		return def
	}
	return b
}

func (r *reader) integer(name string, def, min, max int) int {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(name, "%q is not an integer", v)
		return def
	}
	if n < min || n > max {
		r.fail(name, "%d is not between %d and %d", n, min, max)
		return def
	}
	return n
}

func (r *reader) level(name string, def zapcore.Level) zapcore.Level {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	l, err := zapcore.ParseLevel(v)
	if err != nil {
		r.fail(name, "%q is not one of debug, info, warn, error", v)
		return def
	}
	return l
}

// keys parses "name:secret,name2:secret2". Its errors name the entry by
// position and name, never by secret.
func (r *reader) keys(name string) []Key {
	v, ok := r.lookup(name)
	if !ok {
		return nil
	}
	var out []Key
	seen := map[string]bool{}
	for i, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		n, secret, found := strings.Cut(entry, ":")
		n, secret = strings.TrimSpace(n), strings.TrimSpace(secret)
		switch {
		case !found || n == "" || secret == "":
			r.fail(name, "entry %d is not name:secret", i+1)
			return nil
		case seen[n]:
			r.fail(name, "the name %q is used twice", n)
			return nil
		}
		seen[n] = true
		out = append(out, Key{Name: n, Secret: secret})
	}
	return out
}
