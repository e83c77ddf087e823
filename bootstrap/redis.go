package bootstrap

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/redis/go-redis/v9"
)

// The Redis deployment modes of REDIS_MODE.
const (
	RedisSingle   = "single"
	RedisCluster  = "cluster"
	RedisSentinel = "sentinel"
)

// masterParam is the query parameter of a Redis URL that names the sentinel
// master. go-redis rejects unknown parameters, so it is taken out before the
// URL is parsed.
const masterParam = "master"

// NewRedisClient returns a go-redis client for one of the three deployment
// modes. In single mode everything comes from rawURL (address, username,
// password, database, TLS for rediss://, go-redis query options). In cluster
// and sentinel mode the addresses come from addrs and the credentials and
// options from rawURL; sentinel mode needs the master name as
// ?master=name in the URL (LoadConfig folds REDIS_MASTER and
// CACHE_REDIS_MASTER in).
func NewRedisClient(rawURL, mode string, addrs []string) (redis.UniversalClient, error) {
	opts, err := redisOptions(rawURL, mode, addrs)
	if err != nil {
		return nil, err
	}
	return redis.NewUniversalClient(opts), nil
}

// redisOptions builds the options NewRedisClient uses. Its errors never
// contain the URL, which may hold a password.
func redisOptions(rawURL, mode string, addrs []string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	q := u.Query()
	master := q.Get(masterParam)
	q.Del(masterParam)
	u.RawQuery = q.Encode()
	o, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("not a valid Redis URL (%s)", Redact(err.Error(), rawURL))
	}
	opts := &redis.UniversalOptions{
		Addrs:           []string{o.Addr},
		ClientName:      o.ClientName,
		DB:              o.DB,
		Protocol:        o.Protocol,
		Username:        o.Username,
		Password:        o.Password,
		MaxRetries:      o.MaxRetries,
		MinRetryBackoff: o.MinRetryBackoff,
		MaxRetryBackoff: o.MaxRetryBackoff,
		DialTimeout:     o.DialTimeout,
		ReadTimeout:     o.ReadTimeout,
		WriteTimeout:    o.WriteTimeout,
		PoolFIFO:        o.PoolFIFO,
		PoolSize:        o.PoolSize,
		PoolTimeout:     o.PoolTimeout,
		MinIdleConns:    o.MinIdleConns,
		MaxIdleConns:    o.MaxIdleConns,
		ConnMaxIdleTime: o.ConnMaxIdleTime,
		ConnMaxLifetime: o.ConnMaxLifetime,
		TLSConfig:       o.TLSConfig,
	}
	switch mode {
	case "", RedisSingle:
		if master != "" {
			return nil, errors.New("a master name is only used in sentinel mode")
		}
	case RedisCluster:
		if len(addrs) == 0 {
			return nil, errors.New("cluster mode needs a list of addresses")
		}
		if o.DB != 0 {
			return nil, errors.New("cluster mode has only database 0")
		}
		opts.Addrs = addrs
		opts.IsClusterMode = true
	case RedisSentinel:
		if len(addrs) == 0 {
			return nil, errors.New("sentinel mode needs a list of addresses")
		}
		if master == "" {
			return nil, errors.New("sentinel mode needs a master name (?master= in the URL)")
		}
		opts.Addrs = addrs
		opts.MasterName = master
	default:
		return nil, fmt.Errorf("unknown mode %q (want single, cluster or sentinel)", mode)
	}
	return opts, nil
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
