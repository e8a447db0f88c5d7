package adapter

import "github.com/maypok86/otter/v2"

// otterCache wraps otter v2 with MaximumSize = capacity and its defaults
// otherwise (no stats, no expiry, W-TinyLFU with adaptive window).
type otterCache[K Key, V any] struct {
	c     *otter.Cache[K, V]
	exact bool
}

func newOtter[K Key, V any](cfg Config) (Cache[K, V], error) {
	if err := checkCapacity(cfg); err != nil {
		return nil, err
	}
	o := &otter.Options[K, V]{MaximumSize: cfg.Capacity}
	if cfg.Exact {
		// Maintenance (buffer drains, eviction) runs on the calling
		// goroutine instead of a background task.
		o.Executor = func(fn func()) { fn() }
	}
	c, err := otter.New(o)
	if err != nil {
		return nil, err
	}
	return &otterCache[K, V]{c: c, exact: cfg.Exact}, nil
}

func (a *otterCache[K, V]) Name() string        { return "otter" }
func (a *otterCache[K, V]) Get(key K) (V, bool) { return a.c.GetIfPresent(key) }

func (a *otterCache[K, V]) Set(key K, value V) {
	a.c.Set(key, value)
	if a.exact {
		a.c.CleanUp()
	}
}

func (a *otterCache[K, V]) Close() { a.c.StopAllGoroutines() }

// Flush applies buffered writes (adapter.Flusher).
func (a *otterCache[K, V]) Flush() { a.c.CleanUp() }
