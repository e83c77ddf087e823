// Package cache owns etalase's caching: the one key scheme (keys start with
// "etalase:", values are JSON), the Redis implementation of domain.Cache,
// the Guard that keeps the cache fail-open and trustworthy (generations and
// the durable epoch folded into every entry's stamp), the caching decorator
// of domain.Store, and the store behind the HTTP response cache.
//
// It imports domain, go-redis, zap, client_golang and x/sync; never another
// adapter.
package cache
