package bootstrap

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig("api", env(map[string]string{"API_KEYS": "web:secret1"}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"HTTPAddr", c.HTTPAddr, ":8080"},
		{"OpsAddr", c.OpsAddr, "127.0.0.1:9090"},
		{"DatabaseURL", c.DatabaseURL, DefaultDatabaseURL},
		{"DatabaseURLSet", c.DatabaseURLSet, false},
		{"DatabaseDirectURL", c.DatabaseDirectURL, DefaultDatabaseURL},
		{"RedisURL", c.RedisURL, DefaultRedisURL},
		{"CacheRedisURL", c.CacheRedisURL, DefaultRedisURL},
		{"RedisMode", c.RedisMode, "single"},
		{"CacheRedisMode", c.CacheRedisMode, "single"},
		{"CacheRedisAddrs", len(c.CacheRedisAddrs), 0},
		{"RedisAllowEviction", c.RedisAllowEviction, false},
		{"CacheTTL", c.CacheTTL, 60 * time.Second},
		{"CacheEnabled", c.CacheEnabled, true},
		{"CacheLocalEntries", c.CacheLocalEntries, 10_000},
		{"CacheLocalBytes", c.CacheLocalBytes, 8 << 20},
		{"CacheLocalWindow", c.CacheLocalWindow, 10 * time.Millisecond},
		{"ReportDelay", c.ReportDelay, 5 * time.Second},
		{"WorkerConcurrency", c.WorkerConcurrency, 10},
		{"LogLevel", c.LogLevel, zapcore.InfoLevel},
		{"LogFormat", c.LogFormat, "json"},
		{"ShutdownTimeout", c.ShutdownTimeout, 15 * time.Second},
		{"APIKeys", len(c.APIKeys), 1},
		{"GeneratedKey", c.GeneratedKey == nil, true},
		{"GeneratedAdminKey", c.GeneratedAdminKey == nil, true},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
}

func TestLoadConfigValues(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig("all", env(map[string]string{
		"HTTP_ADDR":            "127.0.0.1:9000",
		"OPS_ADDR":             "0.0.0.0:9100",
		"DATABASE_URL":         "postgres://u:pw@db:5432/shop",
		"DATABASE_DIRECT_URL":  "postgres://u:pw@db-direct:5432/shop",
		"REDIS_URL":            "redis://:rpw@queue:6379/1",
		"CACHE_REDIS_URL":      "redis://cache:6379/0",
		"REDIS_ALLOW_EVICTION": "true",
		"CACHE_TTL":            "2m",
		"CACHE_ENABLED":        "false",
		"CACHE_LOCAL_ENTRIES":  "5000",
		"CACHE_LOCAL_BYTES":    "8388608",
		"CACHE_LOCAL_WINDOW":   "20ms",
		"REPORT_DELAY":         "0s",
		"WORKER_CONCURRENCY":   "3",
		"API_KEYS":             "web:abc, cli:def",
		"ADMIN_KEYS":           "ops:ghi",
		"LOG_LEVEL":            "debug",
		"LOG_FORMAT":           "console",
		"SHUTDOWN_TIMEOUT":     "3s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.OpsAddr != "0.0.0.0:9100" {
		t.Fatalf("OpsAddr = %q, want 0.0.0.0:9100", c.OpsAddr)
	}
	if c.HTTPAddr != "127.0.0.1:9000" || !c.DatabaseURLSet || c.DatabaseDirectURL != "postgres://u:pw@db-direct:5432/shop" || c.CacheRedisURL != "redis://cache:6379/0" || !c.RedisAllowEviction ||
		c.CacheTTL != 2*time.Minute || c.CacheEnabled || c.ReportDelay != 0 || c.WorkerConcurrency != 3 ||
		c.CacheLocalEntries != 5000 || c.CacheLocalBytes != 8<<20 || c.CacheLocalWindow != 20*time.Millisecond ||
		c.LogLevel != zapcore.DebugLevel || c.LogFormat != "console" || c.ShutdownTimeout != 3*time.Second {
		t.Fatalf("unexpected config: %s", c)
	}
	want := []Key{{"web", "abc"}, {"cli", "def"}}
	if len(c.APIKeys) != 2 || c.APIKeys[0] != want[0] || c.APIKeys[1] != want[1] {
		t.Fatalf("APIKeys = %#v, want %#v", c.APIKeys, want)
	}
	if len(c.AdminKeys) != 1 || c.AdminKeys[0] != (Key{"ops", "ghi"}) {
		t.Fatalf("AdminKeys = %#v", c.AdminKeys)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	keys := "API_KEYS"
	tests := []struct {
		name    string
		command string
		vars    map[string]string
		wantVar string
	}{
		{"api without keys", "api", nil, "API_KEYS"},
		{"all without keys", "all", nil, "API_KEYS"},
		{"bad key entry", "api", map[string]string{keys: "justasecret"}, "API_KEYS"},
		{"duplicate key name", "api", map[string]string{keys: "a:x1,a:x2"}, "API_KEYS"},
		{"bad admin key", "api", map[string]string{keys: "a:b", "ADMIN_KEYS": ":nope"}, "ADMIN_KEYS"},
		{"bad ttl", "api", map[string]string{keys: "a:b", "CACHE_TTL": "sixty"}, "CACHE_TTL"},
		{"ttl too short", "api", map[string]string{keys: "a:b", "CACHE_TTL": "10ms"}, "CACHE_TTL"},
		{"bad bool", "api", map[string]string{keys: "a:b", "CACHE_ENABLED": "yes please"}, "CACHE_ENABLED"},
		{"bad local entries", "api", map[string]string{keys: "a:b", "CACHE_LOCAL_ENTRIES": "-1"}, "CACHE_LOCAL_ENTRIES"},
		{"local bytes too few", "api", map[string]string{keys: "a:b", "CACHE_LOCAL_BYTES": "1000"}, "CACHE_LOCAL_BYTES"},
		{"local window too short", "api", map[string]string{keys: "a:b", "CACHE_LOCAL_WINDOW": "100us"}, "CACHE_LOCAL_WINDOW"},
		{"local tier on a cluster", "api", map[string]string{keys: "a:b", "CACHE_LOCAL_ENTRIES": "10",
			"REDIS_MODE": "cluster", "REDIS_ADDRS": "a:7000,b:7001"}, "CACHE_LOCAL_ENTRIES"},
		{"bad concurrency", "worker", map[string]string{"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY"},
		{"bad level", "api", map[string]string{keys: "a:b", "LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"bad format", "api", map[string]string{keys: "a:b", "LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"bad shutdown", "api", map[string]string{keys: "a:b", "SHUTDOWN_TIMEOUT": "-1s"}, "SHUTDOWN_TIMEOUT"},
		{"bad db scheme", "api", map[string]string{keys: "a:b", "DATABASE_URL": "mysql://u:hunter2@x/db"}, "DATABASE_URL"},
		{"bad direct db scheme", "api", map[string]string{keys: "a:b", "DATABASE_DIRECT_URL": "mysql://u:hunter2@x/db"}, "DATABASE_DIRECT_URL"},
		{"bad direct db port", "api", map[string]string{keys: "a:b", "DATABASE_DIRECT_URL": "postgres://u:hunter2@db:port/x"}, "DATABASE_DIRECT_URL"},
		{"bad redis scheme", "api", map[string]string{keys: "a:b", "REDIS_URL": "http://:hunter2@x"}, "REDIS_URL"},
		{"bad redis db", "api", map[string]string{keys: "a:b", "REDIS_URL": "redis://:hunter2@x/abc"}, "REDIS_URL"},
		{"bad listen address", "api", map[string]string{keys: "a:b", "HTTP_ADDR": "8080"}, "HTTP_ADDR"},
		{"bad listen port", "api", map[string]string{keys: "a:b", "HTTP_ADDR": ":http-alt"}, "HTTP_ADDR"},
		{"bad ops address", "worker", map[string]string{"OPS_ADDR": "9090"}, "OPS_ADDR"},
		{"bad db port", "api", map[string]string{keys: "a:b", "DATABASE_URL": "postgres://u:hunter2@db:port/x"}, "DATABASE_URL"},
		{"bad allow eviction", "api", map[string]string{keys: "a:b", "REDIS_ALLOW_EVICTION": "sometimes"}, "REDIS_ALLOW_EVICTION"},
		{"bad mode", "api", map[string]string{keys: "a:b", "REDIS_MODE": "ring"}, "REDIS_MODE"},
		{"cluster without addrs", "api", map[string]string{keys: "a:b", "REDIS_MODE": "cluster"}, "REDIS_ADDRS"},
		{"sentinel without master", "api", map[string]string{keys: "a:b", "REDIS_MODE": "sentinel",
			"REDIS_ADDRS": "s1:26379"}, "REDIS_URL"},
		{"bad cache mode", "api", map[string]string{keys: "a:b", "CACHE_REDIS_MODE": "ring"}, "CACHE_REDIS_MODE"},
		{"cache cluster without addrs", "api", map[string]string{keys: "a:b", "CACHE_REDIS_MODE": "cluster"}, "CACHE_REDIS_ADDRS"},
		{"cache cluster with the sentinels' addrs", "api", map[string]string{keys: "a:b", "REDIS_MODE": "sentinel",
			"REDIS_ADDRS": "s1:26379", "REDIS_MASTER": "m", "CACHE_REDIS_MODE": "cluster"}, "CACHE_REDIS_ADDRS"},
		{"cache sentinel without master", "api", map[string]string{keys: "a:b", "CACHE_REDIS_MODE": "sentinel",
			"CACHE_REDIS_ADDRS": "s1:26379"}, "CACHE_REDIS_URL"},
		{"cache cluster with a db", "api", map[string]string{keys: "a:b", "CACHE_REDIS_URL": "redis://:hunter2@x/3",
			"CACHE_REDIS_MODE": "cluster", "CACHE_REDIS_ADDRS": "a:7000"}, "CACHE_REDIS_URL"},
		{"local tier on a cache cluster", "api", map[string]string{keys: "a:b", "CACHE_LOCAL_ENTRIES": "10",
			"CACHE_REDIS_MODE": "cluster", "CACHE_REDIS_ADDRS": "a:7000,b:7001"}, "CACHE_LOCAL_ENTRIES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfig(tt.command, env(tt.vars))
			if err == nil {
				t.Fatal("no error")
			}
			if !IsConfigError(err) {
				t.Fatalf("%v is not a ConfigError", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "config: "+tt.wantVar+": ") {
				t.Fatalf("error %q does not name %s first", msg, tt.wantVar)
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "hunter2") {
				t.Fatalf("error %q is not one safe line", msg)
			}
		})
	}
}

func TestLoadConfigKeysPerCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		command       string
		wantGenerated bool
		wantErr       bool
	}{
		{"dev", true, false},
		{"api", false, true},
		{"all", false, true},
		{"worker", false, false},
		{"migrate", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			t.Parallel()
			c, err := LoadConfig(tt.command, env(nil))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %t", err, tt.wantErr)
			}
			if (c.GeneratedKey != nil) != tt.wantGenerated {
				t.Fatalf("GeneratedKey = %v, want generated %t", c.GeneratedKey, tt.wantGenerated)
			}
			if tt.wantGenerated {
				if len(c.APIKeys) != 1 || c.APIKeys[0].Name != "dev" || len(c.APIKeys[0].Secret) < 32 {
					t.Fatalf("generated keys = %#v", c.APIKeys)
				}
				if c.GeneratedAdminKey == nil || len(c.AdminKeys) != 1 || c.AdminKeys[0].Name != "dev-admin" ||
					len(c.AdminKeys[0].Secret) < 32 || c.AdminKeys[0].Secret == c.APIKeys[0].Secret {
					t.Fatalf("generated admin keys = %#v", c.AdminKeys)
				}
				if c.LogFormat != "console" {
					t.Fatalf("dev LogFormat = %s, want console", c.LogFormat)
				}
			}
		})
	}
}

func TestConfigStringMasksSecrets(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig("api", env(map[string]string{
		"DATABASE_URL":        "postgres://u:dbpass@db/shop",
		"DATABASE_DIRECT_URL": "postgres://u:directpass@db-direct/shop",
		"REDIS_URL":           "redis://:redispass@q:6379/0",
		"API_KEYS":            "web:apisecret",
		"ADMIN_KEYS":          "ops:adminsecret",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, secret := range []string{"dbpass", "directpass", "redispass", "apisecret", "adminsecret"} {
		if strings.Contains(s, secret) {
			t.Errorf("String() shows %q: %s", secret, s)
		}
	}
	for _, want := range []string{"web:***", "ops:***", "u:***@db", "DATABASE_DIRECT_URL=postgres://u:***@db-direct", "CACHE_REDIS_URL=redis://:***@q"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q: %s", want, s)
		}
	}
}

func TestRedisMasterFromEnvironment(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig("worker", env(map[string]string{
		"REDIS_MODE": "sentinel", "REDIS_ADDRS": "s1:26379, s2:26379", "REDIS_MASTER": "mymaster",
	}))
	if err != nil {
		t.Fatal(err)
	}
	o, err := redisOptions(c.RedisURL, c.RedisMode, c.RedisAddrs)
	if err != nil {
		t.Fatal(err)
	}
	if o.MasterName != "mymaster" || len(o.Addrs) != 2 {
		t.Fatalf("master=%q addrs=%v", o.MasterName, o.Addrs)
	}
}

// TestCacheRedisTopology puts the cache on a cluster and the queue on
// sentinels, with each master name going where it applies.
func TestCacheRedisTopology(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                     string
		vars                     map[string]string
		queueMode, cacheMode     string
		queueAddrs, cacheAddrs   []string
		queueMaster, cacheMaster string
	}{
		{"cache inherits the queue's", map[string]string{
			"REDIS_MODE": "sentinel", "REDIS_ADDRS": "s1:26379,s2:26379", "REDIS_MASTER": "q"},
			"sentinel", "sentinel", []string{"s1:26379", "s2:26379"}, []string{"s1:26379", "s2:26379"}, "q", "q"},
		{"cache on cluster, queue on sentinel", map[string]string{
			"REDIS_MODE": "sentinel", "REDIS_ADDRS": "s1:26379", "REDIS_MASTER": "q",
			"CACHE_REDIS_MODE": "cluster", "CACHE_REDIS_ADDRS": "n1:7000, n2:7001, n3:7002"},
			"sentinel", "cluster", []string{"s1:26379"}, []string{"n1:7000", "n2:7001", "n3:7002"}, "q", ""},
		{"cache on its own sentinel master", map[string]string{
			"REDIS_MODE": "sentinel", "REDIS_ADDRS": "s1:26379", "REDIS_MASTER": "q", "CACHE_REDIS_MASTER": "c"},
			"sentinel", "sentinel", []string{"s1:26379"}, []string{"s1:26379"}, "q", "c"},
		{"cache on cluster, queue single", map[string]string{
			"CACHE_REDIS_MODE": "cluster", "CACHE_REDIS_ADDRS": "n1:7000"},
			"single", "cluster", []string{"127.0.0.1:6379"}, []string{"n1:7000"}, "", ""},
		{"local tier on a single cache beside a cluster queue", map[string]string{
			"REDIS_MODE": "cluster", "REDIS_ADDRS": "n1:7000", "CACHE_LOCAL_ENTRIES": "100",
			"CACHE_REDIS_MODE": "single", "CACHE_REDIS_URL": "redis://cache:6379/0"},
			"cluster", "single", []string{"n1:7000"}, []string{"cache:6379"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := LoadConfig("worker", env(tt.vars))
			if err != nil {
				t.Fatal(err)
			}
			if c.RedisMode != tt.queueMode || c.CacheRedisMode != tt.cacheMode {
				t.Fatalf("modes = %s, %s; want %s, %s", c.RedisMode, c.CacheRedisMode, tt.queueMode, tt.cacheMode)
			}
			q, err := redisOptions(c.RedisURL, c.RedisMode, c.RedisAddrs)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := redisOptions(c.CacheRedisURL, c.CacheRedisMode, c.CacheRedisAddrs)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(q.Addrs, ",") != strings.Join(tt.queueAddrs, ",") || q.MasterName != tt.queueMaster {
				t.Errorf("queue: addrs %v master %q, want %v %q", q.Addrs, q.MasterName, tt.queueAddrs, tt.queueMaster)
			}
			if strings.Join(ch.Addrs, ",") != strings.Join(tt.cacheAddrs, ",") || ch.MasterName != tt.cacheMaster ||
				ch.IsClusterMode != (tt.cacheMode == "cluster") {
				t.Errorf("cache: addrs %v master %q cluster %t, want %v %q %s", ch.Addrs, ch.MasterName, ch.IsClusterMode,
					tt.cacheAddrs, tt.cacheMaster, tt.cacheMode)
			}
			if s := c.String(); !strings.Contains(s, "CACHE_REDIS_MODE="+tt.cacheMode) {
				t.Errorf("String() lacks the cache's mode: %s", s)
			}
		})
	}
}

// FuzzParseKeys checks that any API_KEYS value either fails with one line
// naming the variable or yields well-formed, unique keys that parse back to
// themselves.
func FuzzParseKeys(f *testing.F) {
	for _, seed := range []string{"web:secret", "a:b, c:d", ":x", "a:", "a:b,a:c", "a:b:c", ",,", "  w : s  "} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := LoadConfig("worker", env(map[string]string{"API_KEYS": v}))
		keys := c.APIKeys
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "config: API_KEYS: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q is not one line naming API_KEYS", msg)
			}
			return
		}
		seen := map[string]bool{}
		parts := make([]string, len(keys))
		for i, k := range keys {
			if k.Name == "" || k.Secret == "" || strings.Contains(k.Name, ",") || strings.Contains(k.Secret, ",") {
				t.Fatalf("malformed key %#v from %q", k, v)
			}
			if seen[k.Name] {
				t.Fatalf("duplicate name %q from %q", k.Name, v)
			}
			seen[k.Name] = true
			parts[i] = k.Name + ":" + k.Secret
		}
		again, err := LoadConfig("worker", env(map[string]string{"API_KEYS": strings.Join(parts, ",")}))
		back := again.APIKeys
		if err != nil || len(back) != len(keys) {
			t.Fatalf("keys %v from %q do not parse back: %v", keys, v, err)
		}
		for i := range back {
			if back[i] != keys[i] {
				t.Fatalf("round trip changed %#v to %#v", keys[i], back[i])
			}
		}
	})
}

func TestWorkerConcurrencyFollowsReportDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want int
	}{
		{map[string]string{}, DefaultWorkerConcurrency},
		{map[string]string{"REPORT_DELAY": "0s"}, runtime.GOMAXPROCS(0) * 64},
		{map[string]string{"REPORT_DELAY": "0s", "WORKER_CONCURRENCY": "3"}, 3},
	} {
		tc.env["API_KEYS"] = "a:b"
		c, err := LoadConfig("all", env(tc.env))
		if err != nil {
			t.Fatal(err)
		}
		if c.WorkerConcurrency != tc.want {
			t.Errorf("%v: WorkerConcurrency %d, want %d", tc.env, c.WorkerConcurrency, tc.want)
		}
	}
}

// The local tier is on by default, except on a cache on Redis Cluster,
// where its argument does not hold and the default turns it off.
func TestLocalTierDefaultFollowsTheCacheMode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		vars map[string]string
		want int
	}{
		{map[string]string{}, DefaultCacheLocalEntries},
		{map[string]string{"REDIS_MODE": "sentinel", "REDIS_ADDRS": "s1:26379", "REDIS_MASTER": "m"}, DefaultCacheLocalEntries},
		{map[string]string{"CACHE_REDIS_MODE": "cluster", "CACHE_REDIS_ADDRS": "n1:7000"}, 0},
		{map[string]string{"CACHE_LOCAL_ENTRIES": "0"}, 0},
	} {
		c, err := LoadConfig("worker", env(tt.vars))
		if err != nil {
			t.Fatal(err)
		}
		if c.CacheLocalEntries != tt.want {
			t.Errorf("%v: CacheLocalEntries = %d, want %d", tt.vars, c.CacheLocalEntries, tt.want)
		}
	}
}
