// Package cache tests etalase's cache from the outside: the caching
// decorator against the storage contract (over memory and over PostgreSQL
// with Redis or a Redis Cluster), its freshness and fail-open rules in
// process, a burst of misses reaching PostgreSQL once, and real `etalase
// api` processes under concurrent writes, a frozen Redis (or cluster node)
// and a cache Redis that evicts. It is test support only.
package cache
