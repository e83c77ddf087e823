package bootstrap

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
)

// The defaults that other code shares: OPS_ADDR's, which healthcheck
// probes, and the servers of DATABASE_URL and REDIS_URL.
const (
	DefaultOpsAddr           = "127.0.0.1:9090"
	DefaultWorkerConcurrency = 10 // with a REPORT_DELAY; see defaultWorkerConcurrency
	DefaultDatabaseURL       = "postgres://postgres@127.0.0.1:5432/etalase?sslmode=disable"
	DefaultRedisURL          = "redis://127.0.0.1:6379/0"
	DefaultCacheLocalEntries = 10_000
	DefaultCacheLocalBytes   = 8 << 20
)

// defaultWorkerConcurrency is WORKER_CONCURRENCY when unset. A job that
// waits out REPORT_DELAY holds a slot for seconds doing nothing, and
// CONTRACT.md's 10 stands. With no delay a job is a few round trips to
// PostgreSQL and Redis: its time is spent waiting, and concurrent jobs
// share their statement and commit (the postgres adapter's batcher), so
// the more run at once the less each costs. It is GOMAXPROCS×64 (128 on
// two cores, in eight lanes of 16, see worker.Server): against `etalase
// all` at 1,000 creations a second, 16 kept up with 800 (p50 about 1 s),
// 64 and 128 with 960 to 990 (p50 23 to 260 ms); a burst ran at 1,094
// reports/s with 16, 1,469 with 64, 1,396 and 1,629 with 128.
func defaultWorkerConcurrency(reportDelay time.Duration) int {
	if reportDelay > 0 {
		return DefaultWorkerConcurrency
	}
	return runtime.GOMAXPROCS(0) * 64
}

// Key is a named secret from API_KEYS or ADMIN_KEYS.
type Key struct {
	Name   string
	Secret string
}

// String shows the key's name only.
func (k Key) String() string { return k.Name + ":" + mask }

// Config is etalase's configuration, read once from the environment by
// LoadConfig: every command reads (and so checks) every variable, those of
// the parts it does not run included. Its String masks every secret.
type Config struct {
	Command string // the subcommand being run: api, dev, worker, all, migrate

	HTTPAddr string
	// OpsAddr is the operators' listener: /metrics, /debug/pprof/, /healthz
	// and /readyz, apart from the public API.
	OpsAddr     string
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
	// RedisMaster and CacheRedisMaster name the sentinel masters; LoadConfig
	// folds them into RedisURL and CacheRedisURL as ?master=.
	RedisMaster      string
	CacheRedisMaster string
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
	// Jobs is the tuning of the job side beyond CONTRACT.md's variables.
	Jobs JobsConfig

	APIKeys   []Key
	AdminKeys []Key
	// GeneratedKey and GeneratedAdminKey are the keys dev made up because
	// API_KEYS or ADMIN_KEYS was unset; they are logged once at start.
	GeneratedKey      *Key
	GeneratedAdminKey *Key

	LogLevel        zapcore.Level
	LogFormat       string // json or console
	ShutdownTimeout time.Duration
}

// JobsConfig is the tuning of the job side beyond CONTRACT.md's variables.
type JobsConfig struct {
	// SweepAfter is how long a report may stay queued or running before the
	// sweeper enqueues it again (REPORT_SWEEP_AFTER).
	SweepAfter time.Duration
	// SweepInterval is how often the sweeper looks (REPORT_SWEEP_INTERVAL).
	SweepInterval time.Duration
	// RelayPoll is the outbox poll when no wake-up arrives
	// (OUTBOX_POLL_INTERVAL).
	RelayPoll time.Duration
	// RetryBase is the delay before a failed job's first retry; each next
	// one doubles it (JOB_RETRY_BASE).
	RetryBase time.Duration
}

// variables is the table of every configuration variable, in the order
// LoadConfig reads them and String prints them: its name, its default and
// how it is parsed into c. Add a variable by adding a row (and a line to
// the README's table). A default is parsed like a given value; "" means
// none, and "$NAME" means the value NAME resolved to, so NAME's row must
// come first.
func (c *Config) variables() []variable {
	logFormat := "json"
	if c.Command == "dev" {
		logFormat = "console" // a person at a terminal
	}
	return []variable{
		{"HTTP_ADDR", ":8080", addr(&c.HTTPAddr)},
		{"OPS_ADDR", DefaultOpsAddr, addr(&c.OpsAddr)},
		{"DATABASE_URL", DefaultDatabaseURL, postgresURL(&c.DatabaseURL)},
		{"DATABASE_DIRECT_URL", "$DATABASE_URL", postgresURL(&c.DatabaseDirectURL)},
		{"REDIS_URL", DefaultRedisURL, redisURL(&c.RedisURL)},
		{"CACHE_REDIS_URL", "$REDIS_URL", redisURL(&c.CacheRedisURL)},
		{"REDIS_MODE", RedisSingle, oneOf(&c.RedisMode, RedisSingle, RedisCluster, RedisSentinel)},
		{"REDIS_ADDRS", "", addrList(&c.RedisAddrs)},
		{"REDIS_MASTER", "", text(&c.RedisMaster)},
		{"CACHE_REDIS_MODE", "$REDIS_MODE", oneOf(&c.CacheRedisMode, RedisSingle, RedisCluster, RedisSentinel)},
		{"CACHE_REDIS_ADDRS", "", addrList(&c.CacheRedisAddrs)}, // the queue's where they apply: see LoadConfig
		{"CACHE_REDIS_MASTER", "", text(&c.CacheRedisMaster)},
		{"REDIS_ALLOW_EVICTION", "false", boolean(&c.RedisAllowEviction)},
		{"CACHE_TTL", "60s", duration(&c.CacheTTL, time.Second)},
		{"CACHE_ENABLED", "true", boolean(&c.CacheEnabled)},
		{"CACHE_LOCAL_ENTRIES", "", integer(&c.CacheLocalEntries, 0, 10_000_000)}, // unset: see check
		{"CACHE_LOCAL_BYTES", strconv.Itoa(DefaultCacheLocalBytes), integer(&c.CacheLocalBytes, 1<<20, 1<<40)},
		{"CACHE_LOCAL_WINDOW", "10ms", duration(&c.CacheLocalWindow, time.Millisecond)},
		{"REPORT_DELAY", "5s", duration(&c.ReportDelay, 0)},
		{"WORKER_CONCURRENCY", "", integer(&c.WorkerConcurrency, 1, 10000)}, // unset: defaultWorkerConcurrency
		// Five attempts back off 2+4+8+16 s, so a report left queued or
		// running for two minutes has lost its job.
		{"REPORT_SWEEP_AFTER", "2m", duration(&c.Jobs.SweepAfter, time.Second)},
		{"REPORT_SWEEP_INTERVAL", "10s", duration(&c.Jobs.SweepInterval, 100*time.Millisecond)},
		{"OUTBOX_POLL_INTERVAL", "5s", duration(&c.Jobs.RelayPoll, 10*time.Millisecond)},
		{"JOB_RETRY_BASE", "2s", duration(&c.Jobs.RetryBase, time.Millisecond)},
		{"API_KEYS", "", keys(&c.APIKeys)},
		{"ADMIN_KEYS", "", keys(&c.AdminKeys)},
		{"LOG_LEVEL", "info", level(&c.LogLevel)},
		{"LOG_FORMAT", logFormat, oneOf(&c.LogFormat, "json", "console")},
		{"SHUTDOWN_TIMEOUT", "15s", duration(&c.ShutdownTimeout, time.Millisecond)},
	}
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
// the binary): every row of the table, then the rules between variables.
// It returns the first bad variable as a *ConfigError.
func LoadConfig(command string, getenv func(string) string) (Config, error) {
	c := Config{Command: command}
	given, err := c.read(getenv)
	if err != nil {
		return Config{}, err
	}
	c.DatabaseURLSet, c.RedisURLSet = given["DATABASE_URL"], given["REDIS_URL"]
	if err := c.check(given); err != nil {
		return Config{}, err
	}
	if err := c.completeKeys(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// read parses every row of the table and returns which variables were set.
func (c *Config) read(getenv func(string) string) (map[string]bool, error) {
	given := map[string]bool{}
	resolved := map[string]string{}
	for _, v := range c.variables() {
		raw := strings.TrimSpace(getenv(v.name))
		given[v.name] = raw != ""
		if raw == "" {
			raw = v.def
			if from, ok := strings.CutPrefix(raw, "$"); ok {
				raw = resolved[from]
			}
		}
		resolved[v.name] = raw
		if raw == "" {
			continue
		}
		if err := v.kind.parse(raw); err != nil {
			return nil, &ConfigError{v.name, err.Error()}
		}
	}
	return given, nil
}

// check applies the rules between variables and folds the sentinel master
// names into the Redis URLs.
func (c *Config) check(given map[string]bool) error {
	if !given["CACHE_LOCAL_ENTRIES"] && c.CacheRedisMode != RedisCluster {
		// The local tier is on by default where its argument holds (not on
		// a Redis Cluster, see below).
		c.CacheLocalEntries = DefaultCacheLocalEntries
	}
	if !given["WORKER_CONCURRENCY"] {
		c.WorkerConcurrency = defaultWorkerConcurrency(c.ReportDelay)
	}
	if !given["CACHE_REDIS_ADDRS"] {
		if c.CacheRedisMode != c.RedisMode && c.CacheRedisMode != RedisSingle {
			// Cluster nodes and sentinels are never the same addresses.
			return &ConfigError{"CACHE_REDIS_ADDRS", fmt.Sprintf(
				"CACHE_REDIS_MODE=%s differs from REDIS_MODE=%s: give the cache its own addresses", c.CacheRedisMode, c.RedisMode)}
		}
		c.CacheRedisAddrs = c.RedisAddrs
	}
	if c.CacheLocalEntries > 0 && c.CacheRedisMode == RedisCluster {
		// Cluster relays PUBLISH between nodes after answering it, so the
		// in-process tier's freshness argument does not hold there.
		return &ConfigError{"CACHE_LOCAL_ENTRIES", "the in-process tier needs CACHE_REDIS_MODE single or sentinel, not cluster"}
	}
	if c.RedisMaster != "" && c.RedisMode != RedisSentinel {
		return &ConfigError{"REDIS_MASTER", "a master name is only used with REDIS_MODE=sentinel"}
	}
	if c.CacheRedisMaster != "" && c.CacheRedisMode != RedisSentinel {
		return &ConfigError{"CACHE_REDIS_MASTER", "a master name is only used with CACHE_REDIS_MODE=sentinel"}
	}
	if c.RedisMaster != "" {
		c.RedisURL = withMaster(c.RedisURL, c.RedisMaster)
	}
	switch {
	case c.CacheRedisMaster != "":
		c.CacheRedisURL = withMaster(c.CacheRedisURL, c.CacheRedisMaster)
	case c.RedisMaster != "" && c.CacheRedisMode == RedisSentinel:
		// The queue's master name is the cache's only where it can apply.
		c.CacheRedisURL = withMaster(c.CacheRedisURL, c.RedisMaster)
	}
	if err := checkRedis(queueRedisVars, c.RedisURL, c.RedisMode, c.RedisAddrs); err != nil {
		return err
	}
	if err := checkRedis(cacheRedisVars, c.CacheRedisURL, c.CacheRedisMode, c.CacheRedisAddrs); err != nil {
		return err
	}
	if c.Jobs.SweepAfter <= c.ReportDelay {
		// Or every healthy job would be handed out twice.
		return &ConfigError{"REPORT_SWEEP_AFTER", fmt.Sprintf("%s must exceed REPORT_DELAY (%s)", c.Jobs.SweepAfter, c.ReportDelay)}
	}
	return nil
}

// completeKeys makes up the keys dev runs without and refuses a writing
// command without writer keys.
func (c *Config) completeKeys() error {
	if c.Command == "dev" {
		for _, k := range []struct {
			variable  string
			keys      *[]Key
			generated **Key
			name      string
		}{
			{"API_KEYS", &c.APIKeys, &c.GeneratedKey, "dev"},
			{"ADMIN_KEYS", &c.AdminKeys, &c.GeneratedAdminKey, "dev-admin"},
		} {
			if len(*k.keys) > 0 {
				continue
			}
			key, err := generateKey(k.name)
			if err != nil {
				return &ConfigError{k.variable, "unset, and no random key could be made: " + err.Error()}
			}
			*k.keys, *k.generated = []Key{key}, &key
		}
	}
	if len(c.APIKeys) == 0 && (c.Command == "api" || c.Command == "all") {
		return &ConfigError{"API_KEYS", "must be set for " + c.Command + " (name:secret,name2:secret2)"}
	}
	return nil
}

func generateKey(name string) (Key, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return Key{}, err
	}
	return Key{Name: name, Secret: hex.EncodeToString(b)}, nil
}

// String prints every variable of the table as it was resolved, with
// passwords and key secrets masked.
func (c Config) String() string {
	vars := c.variables()
	parts := make([]string, len(vars))
	for i, v := range vars {
		parts[i] = v.name + "=" + v.kind.show()
	}
	return strings.Join(parts, " ")
}
