package adapter

import "github.com/dgraph-io/ristretto/v2"

// ristrettoCache wraps ristretto v2 as its README recommends: NumCounters =
// 10 × capacity, BufferItems = 64, MaxCost = capacity with every Set costing
// 1, and IgnoreInternalCost so that its per-entry overhead estimate does not
// shrink the cache below capacity entries.
type ristrettoCache[K Key, V any] struct {
	c     *ristretto.Cache[K, V]
	exact bool
}

func newRistretto[K Key, V any](cfg Config) (Cache[K, V], error) {
	if err := checkCapacity(cfg); err != nil {
		return nil, err
	}
	c, err := ristretto.NewCache(&ristretto.Config[K, V]{
		NumCounters:        int64(cfg.Capacity) * 10,
		MaxCost:            int64(cfg.Capacity),
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	if err != nil {
		return nil, err
	}
	return &ristrettoCache[K, V]{c: c, exact: cfg.Exact}, nil
}

func (a *ristrettoCache[K, V]) Name() string        { return "ristretto" }
func (a *ristrettoCache[K, V]) Get(key K) (V, bool) { return a.c.Get(key) }

func (a *ristrettoCache[K, V]) Set(key K, value V) {
	a.c.Set(key, value, 1)
	if a.exact {
		a.c.Wait()
	}
}

func (a *ristrettoCache[K, V]) Close() { a.c.Close() }

// Flush applies buffered writes (adapter.Flusher).
func (a *ristrettoCache[K, V]) Flush() { a.c.Wait() }
