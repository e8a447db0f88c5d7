// Package flight collapses concurrent calls for one key into one: the
// duplicate-call suppression of Typed.GetOrLoad and of the tiered store's
// read-through.
package flight

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/shardcache/shardcache"
)

// Group runs at most one fn per key at a time. It is safe for concurrent
// use; the zero Group is ready.
type Group[V any] struct {
	mu    sync.Mutex
	calls map[string]*call[V]
}

type call[V any] struct {
	done chan struct{}
	v    V
	err  error
	// canceled: fn failed with its caller's ctx done, so a waiter whose
	// own ctx is alive runs fn again instead of inheriting that.
	canceled bool
}

// Do runs fn for key, unless a call for key is in flight, in which case it
// waits for that call's result or for ctx, whichever comes first. fn gets
// the ctx of the caller that runs it. A panic or runtime.Goexit in fn
// becomes an error wrapping shardcache.ErrLoaderPanic for every caller, so
// that no waiter hangs.
func (g *Group[V]) Do(ctx context.Context, key string, fn func(ctx context.Context) (V, error)) (V, error) {
	for {
		g.mu.Lock()
		if g.calls == nil {
			g.calls = make(map[string]*call[V])
		}
		c, busy := g.calls[key]
		if !busy {
			c = &call[V]{done: make(chan struct{})}
			g.calls[key] = c
		}
		g.mu.Unlock()
		if !busy {
			g.run(ctx, key, c, fn)
			return c.v, c.err
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
		if !c.canceled || ctx.Err() != nil {
			return c.v, c.err
		}
	}
}

func (g *Group[V]) run(ctx context.Context, key string, c *call[V], fn func(ctx context.Context) (V, error)) {
	normal := false
	defer func() {
		if !normal {
			c.err = fmt.Errorf("%w: %v\n%s", shardcache.ErrLoaderPanic, recover(), debug.Stack())
		}
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.v, c.err = fn(ctx)
	normal = true
	c.canceled = c.err != nil && ctx.Err() != nil
}
