package adapter

import theine "github.com/Yiling-J/theine-go"

// theineCache wraps theine with its builder defaults and maxsize = capacity
// (doorkeeper off and entry pool off, as the README ships them).
type theineCache[K Key, V any] struct {
	c     *theine.Cache[K, V]
	exact bool
}

func newTheine[K Key, V any](cfg Config) (Cache[K, V], error) {
	if err := checkCapacity(cfg); err != nil {
		return nil, err
	}
	c, err := theine.NewBuilder[K, V](int64(cfg.Capacity)).Build()
	if err != nil {
		return nil, err
	}
	return &theineCache[K, V]{c: c, exact: cfg.Exact}, nil
}

func (a *theineCache[K, V]) Name() string        { return "theine" }
func (a *theineCache[K, V]) Get(key K) (V, bool) { return a.c.Get(key) }

func (a *theineCache[K, V]) Set(key K, value V) {
	a.c.Set(key, value, 1)
	if a.exact {
		a.c.Wait()
	}
}

func (a *theineCache[K, V]) Close() { a.c.Close() }

// Flush applies buffered writes (adapter.Flusher).
func (a *theineCache[K, V]) Flush() { a.c.Wait() }
