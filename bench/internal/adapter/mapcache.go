package adapter

import "sync"

// mapCache is the baseline: a Go map behind one sync.RWMutex. Reads share the
// lock; a Set takes it exclusively. To hold capacity entries like the others
// it evicts an arbitrary entry (the first one map iteration yields, which
// starts at a random position) when a new key arrives at a full map: about
// the cheapest bound possible, and close to random eviction.
type mapCache[K Key, V any] struct {
	mu  sync.RWMutex
	m   map[K]V
	cap int
}

func newMap[K Key, V any](cfg Config) (Cache[K, V], error) {
	if err := checkCapacity(cfg); err != nil {
		return nil, err
	}
	return &mapCache[K, V]{m: make(map[K]V, cfg.Capacity), cap: cfg.Capacity}, nil
}

func (a *mapCache[K, V]) Name() string { return "map" }

func (a *mapCache[K, V]) Get(key K) (V, bool) {
	a.mu.RLock()
	v, ok := a.m[key]
	a.mu.RUnlock()
	return v, ok
}

func (a *mapCache[K, V]) Set(key K, value V) {
	a.mu.Lock()
	if _, ok := a.m[key]; !ok && len(a.m) >= a.cap {
		for k := range a.m {
			delete(a.m, k)
			break
		}
	}
	a.m[key] = value
	a.mu.Unlock()
}

func (a *mapCache[K, V]) Close() {}
