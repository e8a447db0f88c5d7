package shardcache

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// LoadFunc computes the value of a key missing from the cache. It returns the
// value, its time to live and an error. The ttl is read as SetWithTTL reads
// it: 0 never expires, and a negative ttl returns the value to the callers
// without caching it (and deletes whatever another goroutine stored for the
// key meanwhile).
type LoadFunc[K comparable, V any] func(ctx context.Context, key K) (V, time.Duration, error)

// flight is one load in progress for one key.
type flight[V any] struct {
	done chan struct{} // closed when val and err are final
	val  V
	err  error
	// ctxErr: the loader failed because the context of the caller that ran
	// it ended; waiters whose own context is alive try again instead.
	ctxErr bool
}

// flights is the table of loads in progress for the keys of one shard. It
// has its own mutex so that loads never hold a shard lock.
type flights[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*flight[V]
}

// GetOrLoad returns the value of key, calling load to compute and store it if
// the key is absent or expired. However many goroutines ask for the same
// missing key at once, only one of them runs load (stampede protection); the
// others wait for its result or until their own ctx is done, whichever comes
// first. The loaded value is stored with the ttl load returns.
//
// load receives a ctx derived from that of the caller that runs it (see
// below). A load error is returned
// to that caller and to every waiter, and nothing is cached; but if load
// failed only because that caller's ctx ended, waiters whose own ctx is still
// alive start a new load instead of inheriting the cancellation. A panic in
// load (or runtime.Goexit) becomes an error wrapping ErrLoaderPanic for the
// caller that ran it and for every waiter; no waiter is ever left hanging.
//
// The ctx load receives is derived from the caller's and marks the load in
// progress (this cache and key), on top of the loads ctx already marked.
// Given such a ctx, a GetOrLoad that would wait for one of the loads it
// marks, which is waiting for it, returns at once an error wrapping
// ErrRecursiveLoad instead: a loader asking for its own key, or nested
// loads coming back to a key (the loader of a asks for b, whose loader asks
// for a). The error reaches the outer loader, which decides what to return.
// A ctx kept after its load ended only waits, like any other, for a later
// load of the key. A loader that drops the ctx it was given, calling
// GetOrLoad with context.Background or another ctx not derived from its own,
// cannot be detected: asking for its own key then deadlocks (until that ctx
// is done).
//
// A hit costs what Get costs: it neither allocates nor reads ctx. GetOrLoad
// after Close returns ErrClosed.
func (c *Cache[K, V]) GetOrLoad(ctx context.Context, key K, load LoadFunc[K, V]) (V, error) {
	if v, ok := c.Get(key); ok {
		return v, nil
	}
	var zero V
	if c.closed.Load() {
		return zero, ErrClosed
	}
	ft := &c.flights[c.hash(key)&c.mask]
	for {
		ft.mu.Lock()
		// The key may have been loaded between the miss and the lock.
		if v, ok := c.Peek(key); ok {
			ft.mu.Unlock()
			return v, nil
		}
		f, waiting := ft.calls[key]
		if !waiting {
			if ft.calls == nil {
				ft.calls = make(map[K]*flight[V])
			}
			f = &flight[V]{done: make(chan struct{})}
			ft.calls[key] = f
		}
		ft.mu.Unlock()

		if !waiting {
			c.runLoad(ctx, ft, f, key, load)
			return f.val, f.err
		}
		if within(ctx, f) {
			return zero, fmt.Errorf("%w (key %v)", ErrRecursiveLoad, key)
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
		if f.ctxErr && ctx.Err() == nil {
			continue // the loader's caller gave up, we did not: load again
		}
		return f.val, f.err
	}
}

// runLoad runs load for f's key, stores a successful result, then publishes
// it to the waiters. The deferred publication runs even if load panics or
// calls runtime.Goexit.
func (c *Cache[K, V]) runLoad(ctx context.Context, ft *flights[K, V], f *flight[V], key K, load LoadFunc[K, V]) {
	normal := false
	defer func() {
		if !normal {
			r := recover()
			if r == nil {
				f.err = fmt.Errorf("%w: runtime.Goexit in loader", ErrLoaderPanic)
			} else {
				f.err = fmt.Errorf("%w: %v\n%s", ErrLoaderPanic, r, debug.Stack())
			}
			var zero V
			f.val = zero
		}
		ft.mu.Lock()
		delete(ft.calls, key)
		ft.mu.Unlock()
		close(f.done)
	}()
	lctx := context.WithValue(ctx, loadMarkKey{}, &loadMark[V]{f: f, outer: markOf(ctx)})
	v, ttl, err := load(lctx, key)
	normal = true
	if err != nil {
		f.err = err
		f.ctxErr = ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
		return
	}
	f.val = v
	c.SetWithTTL(key, v, ttl) // before the flight ends, so no caller misses again
}

// loadMarkKey is the context key under which a loader's ctx carries the
// innermost load in progress on its chain of calls, a marker.
type loadMarkKey struct{}

// marker is one load in progress, of any cache; next is the load whose
// loader started it, if any.
type marker interface{ next() marker }

// loadMark marks one load by its flight, which is unique to one cache, one
// key and one load: a ctx kept after its load ended never matches a later
// load of the same key, which it may wait for.
type loadMark[V any] struct {
	f     *flight[V]
	outer marker
}

func (m *loadMark[V]) next() marker { return m.outer }

// markOf returns the innermost load ctx marks, or nil.
func markOf(ctx context.Context) marker {
	m, _ := ctx.Value(loadMarkKey{}).(marker)
	return m
}

// within reports whether ctx comes from the loader of flight f, directly or
// through nested loads: waiting for f would then wait for ourselves.
func within[V any](ctx context.Context, f *flight[V]) bool {
	for m := markOf(ctx); m != nil; m = m.next() {
		if lm, ok := m.(*loadMark[V]); ok && lm.f == f {
			return true
		}
	}
	return false
}
