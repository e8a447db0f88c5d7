package shardcache

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetOrLoad(t *testing.T) {
	ctx := context.Background()
	t.Run("miss loads and caches with ttl", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		v, err := c.GetOrLoad(ctx, "a", func(_ context.Context, k string) (int, time.Duration, error) {
			return len(k) + 41, time.Minute, nil
		})
		require.NoError(t, err)
		assert.Equal(t, 42, v)
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Equal(t, time.Minute, ttl)
	})
	t.Run("hit does not call load", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		v, err := c.GetOrLoad(ctx, "a", func(context.Context, string) (int, time.Duration, error) {
			t.Fatal("load called on a hit")
			return 0, 0, nil
		})
		require.NoError(t, err)
		assert.Equal(t, 1, v)
	})
	t.Run("expired entry is reloaded", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.advance(10 * time.Millisecond)
		v, err := c.GetOrLoad(ctx, "a", func(context.Context, string) (int, time.Duration, error) { return 2, 0, nil })
		require.NoError(t, err)
		assert.Equal(t, 2, v)
	})
	t.Run("error is returned and not cached", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		boom := errors.New("boom")
		calls := 0
		load := func(context.Context, string) (int, time.Duration, error) { calls++; return 0, 0, boom }
		_, err := c.GetOrLoad(ctx, "a", load)
		assert.ErrorIs(t, err, boom)
		_, err = c.GetOrLoad(ctx, "a", load)
		assert.ErrorIs(t, err, boom)
		assert.Equal(t, 2, calls, "a failed load must not be cached")
		assert.Zero(t, c.Len())
	})
	t.Run("negative ttl returns without caching", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		v, err := c.GetOrLoad(ctx, "a", func(context.Context, string) (int, time.Duration, error) { return 7, -1, nil })
		require.NoError(t, err)
		assert.Equal(t, 7, v)
		assert.Zero(t, c.Len())
	})
	t.Run("panic becomes an error", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		_, err := c.GetOrLoad(ctx, "a", func(context.Context, string) (int, time.Duration, error) { panic("kaput") })
		require.ErrorIs(t, err, ErrLoaderPanic)
		assert.Contains(t, err.Error(), "kaput")
		// The flight is over: the next call loads again.
		v, err := c.GetOrLoad(ctx, "a", func(context.Context, string) (int, time.Duration, error) { return 3, 0, nil })
		require.NoError(t, err)
		assert.Equal(t, 3, v)
	})
	t.Run("closed", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		require.NoError(t, c.Close())
		_, err := c.GetOrLoad(ctx, "a", func(context.Context, string) (int, time.Duration, error) {
			t.Fatal("load called after Close")
			return 0, 0, nil
		})
		assert.ErrorIs(t, err, ErrClosed)
	})
}

// TestGetOrLoadStampede: N goroutines miss the same key at once; exactly
// one load runs and every caller gets its value.
func TestGetOrLoadStampede(t *testing.T) {
	const callers = 64
	c := newManual(t, Config[string, int]{})
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context, string) (int, time.Duration, error) {
		loads.Add(1)
		<-release
		return 99, 0, nil
	}
	var wg sync.WaitGroup
	results := make([]int, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.GetOrLoad(context.Background(), "hot", load)
		}()
	}
	// Wait until every caller is either loading or waiting for the flight.
	require.Eventually(t, func() bool {
		ft := &c.flights[c.hash("hot")&c.mask]
		ft.mu.Lock()
		defer ft.mu.Unlock()
		return loads.Load() == 1 && len(ft.calls) == 1 && c.Stats().Misses == callers
	}, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	assert.EqualValues(t, 1, loads.Load(), "loads for %d concurrent misses", callers)
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, 99, results[i])
	}
}

// TestGetOrLoadWaiters covers what waiters see when the load fails,
// panics, exits its goroutine, or when contexts end.
func TestGetOrLoadWaiters(t *testing.T) {
	// start runs a leader whose load blocks until release, then a waiter,
	// and returns the waiter's result channel once it is waiting.
	type result struct {
		v   int
		err error
	}
	start := func(t *testing.T, c *Cache[string, int], leaderCtx, waiterCtx context.Context,
		load LoadFunc[string, int], waiterLoad LoadFunc[string, int]) (leader, waiter chan result) {
		leader, waiter = make(chan result, 1), make(chan result, 1)
		go func() {
			v, err := c.GetOrLoad(leaderCtx, "k", load)
			leader <- result{v, err}
		}()
		require.Eventually(t, func() bool { return c.Stats().Misses == 1 }, 5*time.Second, time.Millisecond)
		go func() {
			v, err := c.GetOrLoad(waiterCtx, "k", waiterLoad)
			waiter <- result{v, err}
		}()
		require.Eventually(t, func() bool { return c.Stats().Misses == 2 }, 5*time.Second, time.Millisecond)
		return leader, waiter
	}
	never := func(context.Context, string) (int, time.Duration, error) {
		panic("the waiter must not run its own load here")
	}

	t.Run("error reaches the waiter", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		release := make(chan struct{})
		boom := errors.New("boom")
		leader, waiter := start(t, c, context.Background(), context.Background(),
			func(context.Context, string) (int, time.Duration, error) { <-release; return 0, 0, boom }, never)
		close(release)
		assert.ErrorIs(t, (<-leader).err, boom)
		assert.ErrorIs(t, (<-waiter).err, boom)
	})
	t.Run("panic reaches the waiter", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		release := make(chan struct{})
		leader, waiter := start(t, c, context.Background(), context.Background(),
			func(context.Context, string) (int, time.Duration, error) { <-release; panic("kaput") }, never)
		close(release)
		assert.ErrorIs(t, (<-leader).err, ErrLoaderPanic)
		assert.ErrorIs(t, (<-waiter).err, ErrLoaderPanic)
	})
	t.Run("Goexit reaches the waiter", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		release := make(chan struct{})
		_, waiter := start(t, c, context.Background(), context.Background(),
			func(context.Context, string) (int, time.Duration, error) {
				<-release
				runtime.Goexit()
				return 0, 0, nil
			}, never)
		close(release)
		assert.ErrorIs(t, (<-waiter).err, ErrLoaderPanic)
	})
	t.Run("waiter ctx ends first", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		release := make(chan struct{})
		wctx, cancel := context.WithCancel(context.Background())
		leader, waiter := start(t, c, context.Background(), wctx,
			func(context.Context, string) (int, time.Duration, error) { <-release; return 5, 0, nil }, never)
		cancel()
		assert.ErrorIs(t, (<-waiter).err, context.Canceled)
		close(release)
		r := <-leader
		require.NoError(t, r.err)
		assert.Equal(t, 5, r.v)
		v, ok := c.Get("k")
		assert.True(t, ok, "the leader's load is cached even though a waiter left")
		assert.Equal(t, 5, v)
	})
	t.Run("leader ctx ends: live waiter loads again", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		lctx, cancel := context.WithCancel(context.Background())
		leader, waiter := start(t, c, lctx, context.Background(),
			func(ctx context.Context, _ string) (int, time.Duration, error) { <-ctx.Done(); return 0, 0, ctx.Err() },
			func(context.Context, string) (int, time.Duration, error) { return 8, 0, nil })
		cancel()
		assert.ErrorIs(t, (<-leader).err, context.Canceled)
		r := <-waiter
		require.NoError(t, r.err)
		assert.Equal(t, 8, r.v)
	})
}

func TestCompute(t *testing.T) {
	t.Run("counter without external lock", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 1000 {
					c.Compute("n", func(n int, _ bool) (int, ComputeOp) { return n + 1, ComputeSet })
				}
			}()
		}
		wg.Wait()
		v, ok := c.Get("n")
		assert.True(t, ok)
		assert.Equal(t, 8000, v)
	})
	t.Run("keep on absent stores nothing", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		v, ok := c.Compute("a", func(old int, found bool) (int, ComputeOp) {
			assert.False(t, found)
			assert.Zero(t, old)
			return 5, ComputeKeep
		})
		assert.False(t, ok)
		assert.Zero(t, v)
		assert.Zero(t, c.Len())
	})
	t.Run("keep on present returns it", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		v, ok := c.Compute("a", func(old int, found bool) (int, ComputeOp) {
			assert.True(t, found)
			assert.Equal(t, 1, old)
			return 5, ComputeKeep
		})
		assert.True(t, ok)
		assert.Equal(t, 1, v)
	})
	t.Run("unknown op panics and changes nothing", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1})
		c.Set("a", 1)
		assert.PanicsWithValue(t, "shardcache: Compute: unknown ComputeOp 7", func() {
			c.Compute("a", func(int, bool) (int, ComputeOp) { return 5, ComputeOp(7) })
		})
		assert.PanicsWithValue(t, "shardcache: Compute: unknown ComputeOp 7", func() {
			c.Compute("b", func(int, bool) (int, ComputeOp) { return 5, ComputeOp(7) })
		})
		v, ok := c.Get("a")
		assert.True(t, ok, "the key is left as it was")
		assert.Equal(t, 1, v)
		_, ok = c.Get("b")
		assert.False(t, ok, "an absent key stays absent")
		c.Set("c", 3) // would deadlock if the shard lock were still held
		v, ok = c.Compute("a", func(old int, _ bool) (int, ComputeOp) { return old + 1, ComputeSet })
		assert.True(t, ok)
		assert.Equal(t, 2, v)
		assert.Equal(t, 2, c.Len())
	})
	t.Run("set keeps the deadline", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, time.Second)
		c.advance(300 * time.Millisecond)
		v, ok := c.Compute("a", func(old int, _ bool) (int, ComputeOp) { return old + 1, ComputeSet })
		assert.True(t, ok)
		assert.Equal(t, 2, v)
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Equal(t, 700*time.Millisecond, ttl)
	})
	t.Run("set on absent applies DefaultTTL", func(t *testing.T) {
		c := newManual(t, Config[string, int]{DefaultTTL: time.Minute})
		c.Compute("a", func(int, bool) (int, ComputeOp) { return 1, ComputeSet })
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Equal(t, time.Minute, ttl)
		assert.EqualValues(t, 1, c.Stats().Sets)
	})
	t.Run("expired counts as absent", func(t *testing.T) {
		var reasons []RemoveReason
		c := newManual(t, Config[string, int]{OnRemove: func(_ string, _ int, r RemoveReason) { reasons = append(reasons, r) }})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.clock.now.Add(int64(10 * time.Millisecond)) // expired, not yet reclaimed
		c.Compute("a", func(old int, found bool) (int, ComputeOp) {
			assert.False(t, found)
			assert.Zero(t, old)
			return 0, ComputeKeep
		})
		assert.Equal(t, []RemoveReason{ReasonExpired}, reasons)
		assert.Zero(t, c.Len())
	})
	t.Run("delete", func(t *testing.T) {
		var reasons []RemoveReason
		c := newManual(t, Config[string, int]{OnRemove: func(_ string, _ int, r RemoveReason) { reasons = append(reasons, r) }})
		c.Set("a", 1)
		v, ok := c.Compute("a", func(int, bool) (int, ComputeOp) { return 9, ComputeDelete })
		assert.False(t, ok)
		assert.Zero(t, v)
		assert.Zero(t, c.Len())
		assert.Equal(t, []RemoveReason{ReasonDeleted}, reasons)
	})
	t.Run("set too costly is not stored", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1, MaxCost: 10, Cost: func(_ string, v int) int64 { return int64(v) }})
		c.Set("a", 1)
		v, ok := c.Compute("a", func(int, bool) (int, ComputeOp) { return 11, ComputeSet })
		assert.False(t, ok)
		assert.Zero(t, v)
		_, present := c.Get("a")
		assert.False(t, present, "the old value must not survive a rejected set")
	})
	t.Run("set evicts LRU and promotes", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 1, MaxEntries: 2})
		c.Set(1, 1)
		c.Set(2, 2)
		c.Compute(1, func(old int, _ bool) (int, ComputeOp) { return old * 10, ComputeSet }) // 1 is now MRU
		c.Set(3, 3)                                                                          // evicts 2
		_, ok := c.Get(2)
		assert.False(t, ok)
		v, ok := c.Get(1)
		assert.True(t, ok)
		assert.Equal(t, 10, v)
	})
	t.Run("panic in fn releases the shard", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1})
		c.Set("a", 1)
		assert.PanicsWithValue(t, "kaput", func() {
			c.Compute("a", func(int, bool) (int, ComputeOp) { panic("kaput") })
		})
		v, ok := c.Get("a")
		assert.True(t, ok, "the key is left as it was")
		assert.Equal(t, 1, v)
		c.Set("b", 2) // would deadlock if the lock were still held
		assert.Equal(t, 2, c.Len())
	})
	t.Run("closed", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		require.NoError(t, c.Close())
		_, ok := c.Compute("a", func(int, bool) (int, ComputeOp) {
			t.Fatal("fn called after Close")
			return 0, ComputeSet
		})
		assert.False(t, ok)
	})
}

// TestGetOrLoadRecursive: a loader that asks its own cache for the key it is
// loading, directly or through another key's loader, gets ErrRecursiveLoad
// at once instead of waiting for itself. The deadline turns the old hang
// into a failure.
func TestGetOrLoadRecursive(t *testing.T) {
	withDeadline := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	t.Run("own key", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		var inner error
		var load LoadFunc[string, int]
		load = func(ctx context.Context, k string) (int, time.Duration, error) {
			_, inner = c.GetOrLoad(ctx, k, load)
			return 1, 0, nil
		}
		v, err := c.GetOrLoad(withDeadline(t), "a", load)
		require.NoError(t, err)
		assert.Equal(t, 1, v)
		require.ErrorIs(t, inner, ErrRecursiveLoad)
		assert.NotErrorIs(t, inner, context.DeadlineExceeded)
	})
	t.Run("through another key", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		var inner error
		var load LoadFunc[string, int]
		load = func(ctx context.Context, k string) (int, time.Duration, error) {
			switch k {
			case "a":
				v, err := c.GetOrLoad(ctx, "b", load) // "b" asks for "a" again
				return v, 0, err
			case "b":
				_, inner = c.GetOrLoad(ctx, "a", load)
				return 2, 0, inner
			}
			return 0, 0, nil
		}
		_, err := c.GetOrLoad(withDeadline(t), "a", load)
		require.ErrorIs(t, err, ErrRecursiveLoad, "b's error reaches a's caller")
		require.ErrorIs(t, inner, ErrRecursiveLoad)
		assert.Zero(t, c.Len())
	})
	t.Run("other keys and caches still load", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		other := newManual(t, Config[string, int]{})
		v, err := c.GetOrLoad(withDeadline(t), "a", func(ctx context.Context, k string) (int, time.Duration, error) {
			// The same key in another cache, and another key in this one.
			x, err := other.GetOrLoad(ctx, k, func(context.Context, string) (int, time.Duration, error) { return 10, 0, nil })
			if err != nil {
				return 0, 0, err
			}
			y, err := c.GetOrLoad(ctx, "b", func(context.Context, string) (int, time.Duration, error) { return 20, 0, nil })
			return x + y, 0, err
		})
		require.NoError(t, err)
		assert.Equal(t, 30, v)
	})
	t.Run("a finished load's ctx does not block a later load", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		var kept context.Context
		_, err := c.GetOrLoad(withDeadline(t), "a", func(ctx context.Context, _ string) (int, time.Duration, error) {
			kept = ctx
			return 1, -1, nil // not cached
		})
		require.NoError(t, err)
		v, err := c.GetOrLoad(kept, "a", func(context.Context, string) (int, time.Duration, error) { return 2, 0, nil })
		require.NoError(t, err, "no load of a is in progress any more")
		assert.Equal(t, 2, v)

		// With another goroutine's load of a in progress, the kept ctx
		// waits for it like any other.
		c.Delete("a")
		release := make(chan struct{})
		started := make(chan struct{})
		go c.GetOrLoad(withDeadline(t), "a", func(context.Context, string) (int, time.Duration, error) {
			close(started)
			<-release
			return 3, 0, nil
		})
		<-started
		time.AfterFunc(10*time.Millisecond, func() { close(release) })
		v, err = c.GetOrLoad(kept, "a", func(context.Context, string) (int, time.Duration, error) {
			return 4, 0, nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3, v, "the waiter gets the other load's value")
	})
}

// valuePanics is a context whose Value must not be called.
type valuePanics struct{ context.Context }

func (valuePanics) Value(any) any { panic("ctx.Value called") }

// TestGetOrLoadHitPath: a hit neither allocates nor looks in ctx (the
// recursion check is on the waiting path only).
func TestGetOrLoadHitPath(t *testing.T) {
	c := newManual(t, Config[string, int]{})
	c.Set("a", 1)
	var ctx context.Context = valuePanics{context.Background()}
	load := func(context.Context, string) (int, time.Duration, error) { return 0, 0, nil }
	allocs := testing.AllocsPerRun(100, func() {
		if v, err := c.GetOrLoad(ctx, "a", load); err != nil || v != 1 {
			t.Fatalf("GetOrLoad = %v, %v", v, err)
		}
	})
	assert.Zero(t, allocs)
}

func TestComputeEntry(t *testing.T) {
	c := newManual(t, Config[string, int]{Cost: func(_ string, v int) int64 { return int64(v) }, MaxCost: 1000})
	c.SetWithTTL("a", 7, time.Second)
	c.advance(300 * time.Millisecond)
	want, _ := c.GetEntry("a")
	v, ok := c.ComputeEntry("a", func(old Entry[int], found bool) (int, ComputeOp) {
		assert.True(t, found)
		assert.Equal(t, want.Value, old.Value)
		assert.WithinDuration(t, want.Deadline, old.Deadline, time.Millisecond) // as GetEntry reads it
		assert.Equal(t, 700*time.Millisecond, old.TTL)
		assert.Equal(t, int64(7), old.Cost)
		return old.Value + 1, ComputeSet
	})
	assert.True(t, ok)
	assert.Equal(t, 8, v)
	e, ok := c.GetEntry("a")
	assert.True(t, ok)
	assert.Equal(t, 700*time.Millisecond, e.TTL, "a ComputeSet keeps the deadline")
	assert.Equal(t, int64(8), e.Cost)

	c.Set("forever", 1)
	c.ComputeEntry("forever", func(old Entry[int], found bool) (int, ComputeOp) {
		assert.True(t, found)
		assert.Zero(t, old.TTL)
		assert.True(t, old.Deadline.IsZero())
		return 0, ComputeKeep
	})
	c.advance(time.Second) // "a" expires
	c.ComputeEntry("a", func(old Entry[int], found bool) (int, ComputeOp) {
		assert.False(t, found, "an expired entry is not found")
		assert.Equal(t, Entry[int]{}, old)
		return 0, ComputeDelete
	})
	_, ok = c.Get("a")
	assert.False(t, ok)
}

// TestComputeSetKeepsLiveKey pins what ComputeSet's doc promises: a present
// entry keeps the key it was stored with, so a caller may pass a key that
// aliases a buffer it reuses afterwards when the key is found (shardcached's
// INCR does), and only a new entry stores the key given.
func TestComputeSetKeepsLiveKey(t *testing.T) {
	c := newManual(t, Config[string, int]{})
	c.Set("counter", 1)
	buf := []byte("counter")
	alias := unsafe.String(&buf[0], len(buf))
	for range 2 {
		c.ComputeEntry(alias, func(old Entry[int], found bool) (int, ComputeOp) {
			require.True(t, found)
			return old.Value + 1, ComputeSet
		})
	}
	c.Compute(alias, func(old int, found bool) (int, ComputeOp) { return old + 1, ComputeSet })
	copy(buf, "XXXXXXX") // the caller reuses its buffer
	v, ok := c.Get("counter")
	assert.True(t, ok)
	assert.Equal(t, 4, v)
	for k := range c.Keys() {
		assert.Equal(t, "counter", k)
	}
}
