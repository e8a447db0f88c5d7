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
		return newShardcache[K, V](cfg, shardcache.Config[K, V]{}, "shardcache")
	}}
}

func shardcacheOneShardFactory[K Key, V any]() Factory[K, V] {
	return Factory[K, V]{Name: "shardcache-1", SimOnly: true, New: func(cfg Config) (Cache[K, V], error) {
		return newShardcache[K, V](cfg, shardcache.Config[K, V]{Shards: 1}, "shardcache-1")
	}}
}

// shardcachePolicyFactories are the engine's other eviction policies, for
// the hit-ratio simulator: ARC and W-TinyLFU (Admission: AdmitTinyLFU),
// each with one shard (exact) and with the default shard count. The peer
// suite skips them; BenchmarkPolicies picks the default-sharded two by name.
func shardcachePolicyFactories[K Key, V any]() []Factory[K, V] {
	variants := []struct {
		name string
		cfg  shardcache.Config[K, V]
	}{
		{"sc-arc", shardcache.Config[K, V]{Policy: shardcache.ARC}},
		{"sc-arc-1", shardcache.Config[K, V]{Policy: shardcache.ARC, Shards: 1}},
		{"sc-tinylfu", shardcache.Config[K, V]{Admission: shardcache.AdmitTinyLFU}},
		{"sc-tinylfu-1", shardcache.Config[K, V]{Admission: shardcache.AdmitTinyLFU, Shards: 1}},
	}
	fs := make([]Factory[K, V], len(variants))
	for i, v := range variants {
		fs[i] = Factory[K, V]{Name: v.name, SimOnly: true, New: func(cfg Config) (Cache[K, V], error) {
			return newShardcache[K, V](cfg, v.cfg, v.name)
		}}
	}
	return fs
}

// newShardcache builds the engine with base's policy settings and shard
// count at the capacity the run asks for.
func newShardcache[K Key, V any](cfg Config, base shardcache.Config[K, V], name string) (Cache[K, V], error) {
	if err := checkCapacity(cfg); err != nil {
		return nil, err
	}
	base.MaxEntries = cfg.Capacity
	c, err := shardcache.New(base)
	if err != nil {
		return nil, err
	}
	return &shardcacheCache[K, V]{c: c, name: name}, nil
}

func (a *shardcacheCache[K, V]) Name() string        { return a.name }
func (a *shardcacheCache[K, V]) Get(key K) (V, bool) { return a.c.Get(key) }
func (a *shardcacheCache[K, V]) Set(key K, value V)  { a.c.Set(key, value) }
func (a *shardcacheCache[K, V]) Close()              { _ = a.c.Close() }
