package shardcache

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoEvictionRefusesWhenFull: a NoEviction cache stores up to its
// bound, cache-wide at every shard count, then refuses new keys (false,
// Rejected) without evicting or reporting a removal, and takes new keys
// again once entries leave.
func TestNoEvictionRefusesWhenFull(t *testing.T) {
	for _, shards := range []int{1, 4, 64} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			var removed []RemoveReason
			c := newManual(t, Config[string, int]{
				Shards: shards, MaxEntries: 100, Policy: NoEviction,
				OnRemove: func(_ string, _ int, r RemoveReason) { removed = append(removed, r) },
			})
			for i := range 100 {
				require.True(t, c.Set(fmt.Sprint("k", i), i), "key %d of 100", i)
			}
			for i := range 100 {
				_, ok := c.Get(fmt.Sprint("k", i))
				require.True(t, ok)
			}
			assert.False(t, c.Set("one-too-many", 1))
			assert.False(t, c.SetIfAbsent("another", 1))
			_, ok := c.Get("one-too-many")
			assert.False(t, ok)
			assert.Equal(t, 100, c.Len())
			assert.True(t, c.Set("k7", 700), "a replacement of the same cost fits")
			st := c.Stats()
			assert.Equal(t, uint64(2), st.Rejected)
			assert.Zero(t, st.Evictions)
			assert.Equal(t, uint64(100), st.Hits)
			assert.Equal(t, []RemoveReason{ReasonReplaced}, removed, "nothing evicted")

			require.True(t, c.Delete("k0"))
			assert.True(t, c.Set("one-too-many", 1), "room again after a delete")
			assert.False(t, c.Set("and-another", 1))
		})
	}
}

// TestNoEvictionCost: with a cost budget, a new entry that does not fit is
// refused, and a replacement that grows past the budget is refused and
// removes the old value, as with every policy.
func TestNoEvictionCost(t *testing.T) {
	c := newManual(t, Config[string, []byte]{
		Shards: 8, MaxCost: 1000, Policy: NoEviction,
		Cost: func(_ string, v []byte) int64 { return int64(len(v)) },
	})
	require.True(t, c.Set("a", make([]byte, 600)))
	require.True(t, c.Set("b", make([]byte, 300)))
	assert.False(t, c.Set("c", make([]byte, 200)), "200 more is over 1000")
	assert.True(t, c.Set("c", make([]byte, 100)))
	assert.False(t, c.Set("b", make([]byte, 400)), "b grows past the budget")
	_, ok := c.Get("b")
	assert.False(t, ok, "the refused replacement removed the old value")
	_, ok = c.Get("a")
	assert.True(t, ok, "nothing else was evicted to make room")
	assert.Equal(t, int64(700), c.Stats().Cost)
}

// TestNoEvictionShrink: lowering the bound keeps every entry and refuses
// new ones until the cache is back within it.
func TestNoEvictionShrink(t *testing.T) {
	c := newManual(t, Config[int, int]{Shards: 4, MaxEntries: 100, Policy: NoEviction})
	for i := range 100 {
		require.True(t, c.Set(i, i))
	}
	require.NoError(t, c.SetMaxEntries(50))
	assert.Equal(t, 100, c.Len(), "nothing evicted")
	assert.False(t, c.Set(1000, 1))
	for i := range 51 {
		c.Delete(i)
	}
	assert.Equal(t, 49, c.Len())
	assert.True(t, c.Set(1000, 1))
	assert.False(t, c.Set(1001, 1))
	require.NoError(t, c.SetMaxEntries(0))
	for i := range 1000 {
		require.True(t, c.Set(2000+i, i), "unbounded again")
	}
	assert.Zero(t, c.Stats().Evictions)
}

// TestNoEvictionKeepsNoOrder: Gets and writes of a NoEviction cache do not
// promote (a shard's promotion count moves only with inserts) and Get
// still counts its hits and misses; expiry works as with any policy.
func TestNoEvictionKeepsNoOrder(t *testing.T) {
	c := newManual(t, Config[int, int]{Shards: 2, Policy: NoEviction})
	for i := range 1000 {
		c.Set(i, i)
	}
	before := make([]uint64, len(c.shards))
	for i := range c.shards {
		before[i] = c.shards[i].promotions.Load()
	}
	for round := range 3 {
		for i := range 1000 {
			v, ok := c.Get(i)
			require.True(t, ok)
			require.Equal(t, i+round, v)
			c.Set(i, v+1) // a replacement promotes nothing either
		}
	}
	for i := range c.shards {
		assert.Equal(t, before[i], c.shards[i].promotions.Load(), "shard %d", i)
		assert.Zero(t, c.shards[i].buf.stripes[0].tail.Load(), "shard %d recorded a Get", i)
	}
	c.Get(-1)
	st := c.Stats()
	assert.Equal(t, uint64(3000), st.Hits)
	assert.Equal(t, uint64(1), st.Misses)

	c.SetWithTTL(5000, 1, time.Second)
	c.advance(2 * time.Second)
	_, ok := c.Get(5000)
	assert.False(t, ok)
	for range 10 {
		c.advance(time.Second) // the wheel reclaims it within its resolution
	}
	assert.Equal(t, uint64(1), c.Stats().Expirations)
	assert.Equal(t, 1000, c.Len())
}

// TestNoEvictionConcurrentBound: writers racing for the last places of a
// NoEviction cache never take it past its bound.
func TestNoEvictionConcurrentBound(t *testing.T) {
	c, err := New(Config[int, int]{MaxEntries: 500, Policy: NoEviction})
	require.NoError(t, err)
	defer c.Close()
	var wg sync.WaitGroup
	var stored [4]int
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				if c.Set(g*1000+i, i) {
					stored[g]++
				}
				c.Get(g*1000 + i/2)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 500, stored[0]+stored[1]+stored[2]+stored[3])
	assert.Equal(t, 500, c.Len())
	assert.Equal(t, uint64(3500), c.Stats().Rejected)
}

// TestSetPolicy: switching a running cache between NoEviction and the
// evicting policies keeps every entry, enforces the bounds as soon as the
// new policy evicts, and the new policy learns from the accesses after the
// switch (recently used entries survive the next evictions).
func TestSetPolicy(t *testing.T) {
	c := newManual(t, Config[int, int]{Shards: 4, Policy: NoEviction})
	for i := range 1000 {
		require.True(t, c.Set(i, i))
	}
	require.NoError(t, c.SetMaxEntries(500))
	assert.Equal(t, 1000, c.Len(), "NoEviction keeps what it holds")

	require.NoError(t, c.SetPolicy(LRU, AdmitAll))
	assert.Equal(t, 500, c.Len(), "an evicting policy enforces the bound at once")
	var kept []int
	for i := range 1000 {
		if _, ok := c.Get(i); ok {
			kept = append(kept, i)
		}
	}
	require.Len(t, kept, 500)
	hot := kept[:100]
	for range 2 {
		for _, k := range hot {
			c.Get(k)
		}
	}
	for i := range 300 {
		require.True(t, c.Set(10000+i, i))
	}
	assert.Equal(t, 500, c.Len())
	for _, k := range hot {
		_, ok := c.Get(k)
		assert.True(t, ok, "key %d, used since the switch, was evicted", k)
	}

	for _, p := range []struct {
		p Policy
		a Admission
	}{{ARC, AdmitAll}, {LRU, AdmitTinyLFU}, {ARC, AdmitTinyLFU}, {LRU, AdmitAll}} {
		require.NoError(t, c.SetPolicy(p.p, p.a))
		assert.Equal(t, 500, c.Len(), "%v+%v", p.p, p.a)
		for i := range 600 {
			c.Set(20000+i, i)
			c.Get(20000 + i/2)
		}
		assert.LessOrEqual(t, c.Len(), 500, "%v+%v", p.p, p.a)
	}

	require.NoError(t, c.SetPolicy(NoEviction, AdmitAll))
	n := c.Len()
	assert.False(t, c.Set(-1, 1), "full, and NoEviction again")
	assert.Equal(t, n, c.Len())

	err := c.SetPolicy(NoEviction, AdmitTinyLFU)
	require.ErrorIs(t, err, ErrInvalidConfig)
	err = c.SetPolicy(NoEviction+1, AdmitAll)
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.False(t, c.Set(-1, 1), "a refused SetPolicy changes nothing")
}

// TestSetPolicyConcurrent switches policies while readers and writers run
// (for the race detector and the bound).
func TestSetPolicyConcurrent(t *testing.T) {
	c, err := New(Config[int, int]{MaxEntries: 2000})
	require.NoError(t, err)
	defer c.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := g*100000 + i%5000
				c.Set(k, i)
				c.Get(k - 7)
			}
		})
	}
	policies := []Policy{NoEviction, LRU, ARC, NoEviction, LRU}
	for i := range 20 {
		require.NoError(t, c.SetPolicy(policies[i%len(policies)], AdmitAll))
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, c.SetPolicy(LRU, AdmitTinyLFU))
	close(stop)
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 2000)
}

// TestNoEvictionLoad: a snapshot larger than a NoEviction cache's bound
// loads the entries that fit and refuses the rest (counted, none evicted),
// where an LRU cache keeps the last ones it stored.
func TestNoEvictionLoad(t *testing.T) {
	src := newManual(t, Config[int, int]{})
	for i := range 1000 {
		src.Set(i, i)
	}
	path := filepath.Join(t.TempDir(), "cache.snap")
	require.NoError(t, src.SaveFile(path))

	c := newManual(t, Config[int, int]{MaxEntries: 100, Policy: NoEviction})
	require.NoError(t, c.LoadFile(path))
	assert.Equal(t, 100, c.Len())
	st := c.Stats()
	assert.Equal(t, uint64(900), st.Rejected)
	assert.Zero(t, st.Evictions)
	for k, v := range c.All() {
		assert.Equal(t, k, v)
	}

	lru := newManual(t, Config[int, int]{MaxEntries: 100})
	require.NoError(t, lru.LoadFile(path))
	assert.Equal(t, 100, lru.Len())
	assert.Equal(t, uint64(900), lru.Stats().Evictions)
}
