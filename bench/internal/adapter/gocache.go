package adapter

import gocache "github.com/patrickmn/go-cache"

// goCache wraps patrickmn/go-cache with no expiry and no janitor goroutine.
// go-cache has no size bound: it holds every key ever set, so in write-heavy
// runs it grows to the whole key space while the others stay at capacity.
// Its keys are strings only and its values are interface{}, so a Set boxes
// the value (an allocation for most V). Both are its design, kept as is.
type goCache[V any] struct{ c *gocache.Cache }

func goCacheFactory[K Key, V any]() Factory[K, V] {
	f := Factory[K, V]{Name: "go-cache", New: func(Config) (Cache[K, V], error) { return nil, ErrUnsupported }}
	// Only K == string gets a working constructor.
	if sf, ok := any(Factory[string, V]{Name: "go-cache", New: newGoCache[V]}).(Factory[K, V]); ok {
		f = sf
	}
	return f
}

func newGoCache[V any](cfg Config) (Cache[string, V], error) {
	if err := checkCapacity(cfg); err != nil {
		return nil, err
	}
	return &goCache[V]{c: gocache.New(gocache.NoExpiration, 0)}, nil
}

func (a *goCache[V]) Name() string { return "go-cache" }

func (a *goCache[V]) Get(key string) (V, bool) {
	v, ok := a.c.Get(key)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (a *goCache[V]) Set(key string, value V) { a.c.Set(key, value, gocache.NoExpiration) }
func (a *goCache[V]) Close()                  {}
