package adapter

import "github.com/shardcache/shardcache"

// shardcacheCache wraps the engine under test with MaxEntries = capacity and
// every other field at its zero value (default shard count, default hasher,
// no expiry). The Shards: 1 variant makes the whole cache one exact LRU; the
// simulator reports both.
type shardcacheCache[K Key, V any] struct {
	c    *shardcache.Cache[K, V]
	name string
}

func shardcacheFactory[K Key, V any]() Factory[K, V] {
	return Factory[K, V]{Name: "shardcache", New: func(cfg Config) (Cache[K, V], error) {
		return newShardcache[K, V](cfg, 0, "shardcache")
	}}
}

func shardcacheOneShardFactory[K Key, V any]() Factory[K, V] {
	return Factory[K, V]{Name: "shardcache-1", SimOnly: true, New: func(cfg Config) (Cache[K, V], error) {
		return newShardcache[K, V](cfg, 1, "shardcache-1")
	}}
}

func newShardcache[K Key, V any](cfg Config, shards int, name string) (Cache[K, V], error) {
	if err := checkCapacity(cfg); err != nil {
		return nil, err
	}
	c, err := shardcache.New(shardcache.Config[K, V]{Shards: shards, MaxEntries: cfg.Capacity})
	if err != nil {
		return nil, err
	}
	return &shardcacheCache[K, V]{c: c, name: name}, nil
}

func (a *shardcacheCache[K, V]) Name() string        { return a.name }
func (a *shardcacheCache[K, V]) Get(key K) (V, bool) { return a.c.Get(key) }
func (a *shardcacheCache[K, V]) Set(key K, value V)  { a.c.Set(key, value) }
func (a *shardcacheCache[K, V]) Close()              { _ = a.c.Close() }
