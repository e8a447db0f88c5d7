// Package adapter puts every cache the benchmarks compare behind one small
// interface, so that a benchmark or the hit-ratio simulator is written once
// and run against each library alike.
//
// Each adapter is configured the way its authors recommend for a cache of
// Config.Capacity entries, every entry costing 1; docs/benchmarks.md lists
// the exact settings. An adapter adds no locking, allocation or copying of its
// own beyond what the library's API forces (go-cache boxes values in an
// interface; it is documented, not hidden).
package adapter

import (
	"errors"
	"fmt"
)

// Key is the set of key types the suite uses; every library accepts both
// (go-cache only string, see GoCache).
type Key interface{ string | uint64 }

// Cache is the least common API of the libraries compared. Get and Set may be
// called from any number of goroutines at once unless Config.Exact is set, in
// which case the caller uses one goroutine. Close releases background
// goroutines; the cache must not be used after it.
type Cache[K Key, V any] interface {
	Name() string
	Get(key K) (V, bool)
	Set(key K, value V)
	Close()
}

// Flusher is implemented by caches that buffer writes or policy updates.
// Flush returns once everything buffered so far has been applied; the
// benchmarks call it after prefilling, before timing starts.
type Flusher interface {
	Flush()
}

// Config is what every adapter is built from. The zero value is not valid:
// Capacity must be positive.
type Config struct {
	// Capacity is the maximum number of entries (each costs 1).
	Capacity int
	// Exact asks the cache to apply every policy update before Set returns
	// (ristretto and theine: Wait after each Set; otter: run maintenance on
	// the caller's goroutine). The hit-ratio simulator sets it so that
	// results do not depend on goroutine scheduling; throughput runs do not.
	Exact bool
}

// ErrUnsupported is returned by a Factory whose library cannot take the
// requested key type.
var ErrUnsupported = errors.New("adapter: key type not supported by this cache")

// Factory builds one library's adapter.
type Factory[K Key, V any] struct {
	// Name is the short, benchstat-safe name (no '/', '=' or spaces).
	Name string
	// SimOnly marks a variant that the hit-ratio simulator reports but the
	// throughput suite skips (shardcache with a single shard).
	SimOnly bool
	// New builds a cache; it returns ErrUnsupported for a key type the
	// library cannot take.
	New func(cfg Config) (Cache[K, V], error)
}

// All lists every adapter for key type K, the engine under test first.
func All[K Key, V any]() []Factory[K, V] {
	fs := []Factory[K, V]{
		shardcacheFactory[K, V](),
		shardcacheOneShardFactory[K, V](),
	}
	fs = append(fs, shardcachePolicyFactories[K, V]()...)
	return append(fs, []Factory[K, V]{
		{Name: "otter", New: newOtter[K, V]},
		{Name: "ristretto", New: newRistretto[K, V]},
		{Name: "theine", New: newTheine[K, V]},
		goCacheFactory[K, V](),
		{Name: "lru", New: newLRU[K, V]},
		{Name: "arc", New: newARC[K, V]},
		{Name: "map", New: newMap[K, V]},
	}...)
}

// Lookup returns the factory called name.
func Lookup[K Key, V any](name string) (Factory[K, V], error) {
	for _, f := range All[K, V]() {
		if f.Name == name {
			return f, nil
		}
	}
	return Factory[K, V]{}, fmt.Errorf("adapter: no cache named %q", name)
}

func checkCapacity(cfg Config) error {
	if cfg.Capacity <= 0 {
		return fmt.Errorf("adapter: capacity %d must be positive", cfg.Capacity)
	}
	return nil
}
