// Package cache owns etalase's caching.
//
// Layers (what is cached, each a value of LayerRepository or LayerResponse
// in the metrics):
//
//   - the repository layer (Store, store.go and repos.go): the caching
//     decorator of domain.Store, products and categories, items and list
//     pages;
//   - the response layer (Responses, response.go): whole GET responses for
//     the HTTP response cache. While a response is being computed after a
//     miss, the repository reads of the same generations skip their own
//     entry, so Redis holds one shape of an item.
//
// Tiers (where an entry lives):
//
//   - the shared tier: Redis (Redis, redis.go and redis_pubsub.go; any
//     domain.Cache), one key scheme (keys.go: keys start with "etalase:",
//     values are JSON) shared by every process;
//   - the local tier (local.go): this process's memory in front of Redis,
//     bounded in entries and bytes, on by default where Redis can broadcast
//     invalidations in order (single and Sentinel, not Cluster).
//
// The Guard (guard.go) stands between both layers and the tiers. Its parts:
// lookup and fill with leases across processes (lookup.go); the stamped
// envelope every shared entry carries (envelope.go: the database's
// identity, the durable epoch and the generations of its dependencies);
// invalidation, and its broadcast to the local tiers with acknowledgements
// (broadcast.go; the argument of freshness is in local.go); the trust state
// machine, which bypasses the cache after any error until it has bumped
// and re-read the epoch (trust.go). Concurrent writes share their
// retirements and epoch bumps in rounds (rounds.go).
//
// Metrics (metrics.go): etalase_cache_hits_total, _misses_total and
// _bypasses_total by layer; etalase_cache_local_hits_total by layer (hits
// answered by the local tier, counted in the hits too);
// etalase_cache_local_invalidations_total by result, per broadcast (acked:
// every receiver acknowledged; waited: the whole write wait); etalase_cache_errors_total
// by layer and operation; etalase_cache_epoch and etalase_cache_trusted.
//
// It imports domain, go-redis, zap, client_golang and x/sync; never another
// adapter.
package cache
