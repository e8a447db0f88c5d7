package adapter

import (
	arc "github.com/hashicorp/golang-lru/arc/v2"
	lru "github.com/hashicorp/golang-lru/v2"
)

// lruCache wraps hashicorp/golang-lru v2's LRU: one mutex around an exact
// LRU list of capacity entries.
type lruCache[K Key, V any] struct{ c *lru.Cache[K, V] }

func newLRU[K Key, V any](cfg Config) (Cache[K, V], error) {
	if err := checkCapacity(cfg); err != nil {
		return nil, err
	}
	c, err := lru.New[K, V](cfg.Capacity)
	if err != nil {
		return nil, err
	}
	return &lruCache[K, V]{c: c}, nil
}

func (a *lruCache[K, V]) Name() string        { return "lru" }
func (a *lruCache[K, V]) Get(key K) (V, bool) { return a.c.Get(key) }
func (a *lruCache[K, V]) Set(key K, value V)  { a.c.Add(key, value) }
func (a *lruCache[K, V]) Close()              {}

// arcCache wraps golang-lru's ARC. In v2 it is its own module,
// github.com/hashicorp/golang-lru/arc/v2 (it left the main module over the
// ARC patent); one mutex around the four ARC lists.
type arcCache[K Key, V any] struct{ c *arc.ARCCache[K, V] }

func newARC[K Key, V any](cfg Config) (Cache[K, V], error) {
	if err := checkCapacity(cfg); err != nil {
		return nil, err
	}
	c, err := arc.NewARC[K, V](cfg.Capacity)
	if err != nil {
		return nil, err
	}
	return &arcCache[K, V]{c: c}, nil
}

func (a *arcCache[K, V]) Name() string        { return "arc" }
func (a *arcCache[K, V]) Get(key K) (V, bool) { return a.c.Get(key) }
func (a *arcCache[K, V]) Set(key K, value V)  { a.c.Add(key, value) }
func (a *arcCache[K, V]) Close()              {}
