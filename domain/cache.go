package domain

import (
	"context"
	"time"
)

// Cache is a shared store of generation-stamped entries. A generation is a
// counter named by a key (for example "etalase:gen:products"); an entry is
// valid only for the generations it was computed under, so bumping one
// generation retires every entry that depends on it at once, without
// finding those entries. The caller, not the Cache, decides what an entry
// depends on and compares generations.
type Cache interface {
	// Read returns, in one round trip where the store allows it, the current
	// value of each generation in gens (in order) and the bytes stored at
	// key, nil if none. A generation the store does not hold is created
	// with a value greater than any it could have had before, so an entry
	// stamped before a loss of generations never matches again.
	Read(ctx context.Context, key string, gens []string) ([]int64, []byte, error)
	// Write stores value at key for ttl.
	Write(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Bump advances every generation in gens.
	Bump(ctx context.Context, gens ...string) error
	// Claim takes key for ttl if no one holds it, and reports whether it
	// did: processes that miss the same entry at once let one of them load.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}

// CacheEpoch is the durable cache epoch, kept beside the data (not in the
// cache). Every cache entry is stamped with the identity of the database and
// the epoch it was computed in; a write that could not bump its generations
// bumps the epoch instead, which retires every entry of every process once
// they learn the new value.
type CacheEpoch interface {
	// Identity names the database the data lives in: it differs between
	// two databases, and between a database and one recreated under the same
	// name, so that nothing one of them left in a shared Redis (cache
	// entries, job ids) is taken for the other's.
	Identity(ctx context.Context) (string, error)
	// Current returns the epoch.
	Current(ctx context.Context) (int64, error)
	// Bump advances the epoch to at least the clock in microseconds (so a
	// database restored from a backup never returns to a value it had
	// before), tells every watcher, and returns the new value.
	Bump(ctx context.Context) (int64, error)
	// Watch subscribes to epoch changes, then calls fn with the current
	// epoch and again with every later one, until ctx ends or the
	// subscription breaks; it returns why it stopped. The first call of fn
	// means the subscription is live.
	Watch(ctx context.Context, fn func(epoch int64)) error
}

// Resource names a collection of the catalog, as its paths and its cache
// generations spell it.
type Resource string

// The collections whose views are cached.
const (
	ResourceProducts   Resource = "products"
	ResourceCategories Resource = "categories"
)

// View names one cached rendering of the catalog: an item of a resource
// (ID > 0) or a page of its list (ID 0), in the variant its query selects
// (the normalized query, "" for none). The HTTP adapter names the views
// its routes render; the cache adapter decides which writes retire them.
type View struct {
	Resource Resource
	ID       int64
	Variant  string
}
