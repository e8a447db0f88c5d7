package shardcache

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fibonacciInverse is the multiplicative inverse of fibonacci modulo 2^64:
// atPosition(p)'s position is p.
var fibonacciInverse = func() uint64 {
	x := uint64(fibonacci) // Newton's iteration doubles the correct low bits
	for range 6 {
		x *= 2 - fibonacci*x
	}
	return x
}()

// atPosition returns the hash whose position is p.
func atPosition(p uint64) uint64 { return p * fibonacciInverse }

// clusterHash is a Hasher that makes the tables' worst cases common: a
// quarter of the keys sit just below the end of the position order (their
// probe runs wrap to slot 0), a quarter just above its start, a quarter in
// one spot of the middle with equal hashes in pairs, and the rest spread.
func clusterHash(k int) uint64 {
	u := uint64(k)
	switch k % 4 {
	case 0:
		return atPosition(^uint64(0) - (u/4)<<44)
	case 1:
		return atPosition((u / 4) << 44)
	case 2:
		return atPosition(1<<63 + (u/8)<<48) // k and k+4 share a hash
	}
	return atPosition(u * fibonacci)
}

func TestFibonacciInverse(t *testing.T) {
	assert.Equal(t, uint64(1), uint64(fibonacci)*fibonacciInverse)
	assert.Equal(t, uint64(12345), position(atPosition(12345)))
}

// scanAll runs one full iteration with the given count and returns the
// keys in order.
func scanAll[K comparable, V any](c *Cache[K, V], count int) []K {
	var keys []K
	cursor := uint64(0)
	for {
		keys, cursor = c.Scan(cursor, count, keys)
		if cursor == 0 {
			return keys
		}
	}
}

func TestScan(t *testing.T) {
	for _, shards := range []int{1, 4, 64} {
		for _, count := range []int{0, 1, 3, 10, 1000, 5000} {
			for _, hasher := range []struct {
				name string
				fn   func(int) uint64
			}{{"default", nil}, {"clustered", clusterHash}} {
				t.Run(fmt.Sprintf("shards=%d/count=%d/hash=%s", shards, count, hasher.name), func(t *testing.T) {
					c := newManual(t, Config[int, int]{Shards: shards, Hasher: hasher.fn})
					for i := range 2000 {
						c.Set(i, i)
					}
					keys := scanAll(c, count)
					slices.Sort(keys)
					require.Len(t, keys, 2000, "every key once")
					for i, k := range keys {
						require.Equal(t, i, k)
					}
				})
			}
		}
	}
	t.Run("empty/terminates with nothing", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 256})
		assert.Empty(t, scanAll(c, 1))
		keys, next := c.Scan(0, 100000, nil)
		assert.Empty(t, keys)
		assert.Zero(t, next, "one call covers a small empty cache with a large count")
	})
	t.Run("count is about what a call returns", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 1})
		for i := range 100000 {
			c.Set(i, i)
		}
		for _, count := range []int{1, 10, 100, 2000} {
			keys, next := c.Scan(0, count, nil)
			assert.NotZero(t, next)
			assert.GreaterOrEqual(t, len(keys), count, "count=%d", count)
			assert.LessOrEqual(t, len(keys), 3*count+10, "count=%d", count)
		}
	})
	t.Run("expired keys are skipped", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4})
		for i := range 100 {
			c.SetWithTTL(i, i, time.Duration(1+i%2)*time.Millisecond)
		}
		c.clock.now.Add(int64(time.Millisecond)) // odd keys still live; nothing reclaimed
		keys := scanAll(c, 7)
		assert.Len(t, keys, 50)
		for _, k := range keys {
			assert.Equal(t, 1, k%2)
		}
	})
	t.Run("any cursor is accepted", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 16})
		for i := range 100 {
			c.Set(i, i)
		}
		r := rand.New(rand.NewPCG(1, 1))
		for range 1000 {
			c.Scan(r.Uint64(), 5, nil)
		}
	})
	t.Run("no allocation", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4})
		for i := range 1000 {
			c.Set(i, i)
		}
		buf := make([]int, 0, 1000)
		assert.Zero(t, testing.AllocsPerRun(100, func() {
			cursor := uint64(0)
			for {
				buf, cursor = c.Scan(cursor, 10, buf[:0])
				if cursor == 0 {
					break
				}
			}
		}))
	})
}

// TestTableScanWraps builds a table whose last probe run wraps to slot 0,
// with equal hashes in it, and checks that stepping through the positions
// one slot at a time finds every key exactly once: the wrapped ones in the
// last slot's step, not in slot 0's.
func TestTableScanWraps(t *testing.T) {
	var tb table[int, int]
	tb.init(0) // 8 slots, up to 6 entries
	for i := range 6 {
		p := ^uint64(0) - uint64(i/2) // three pairs of equal hashes, all homed in the last slot
		if i == 5 {
			p = 0 // homed in slot 0, pushed behind the wrapped run
		}
		e := &entry[int, int]{key: i}
		e.node.Hash = atPosition(p)
		tb.insert(e)
	}
	require.Len(t, tb.slots, 8)
	require.NotNil(t, tb.slots[0].e)
	require.Equal(t, uint64(7), tb.home(tb.slots[0].h), "slot 0 holds a wrapped entry")

	var got []int
	var steps [][]int
	lo, end := uint64(0), false
	for !end {
		before := len(got)
		var hi uint64
		got, _, hi, end = tb.scan(lo, 1, 0, got)
		steps = append(steps, got[before:])
		lo = hi
	}
	slices.Sort(got)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5}, got)
	require.Len(t, steps, 8)
	assert.Equal(t, []int{5}, steps[0], "slot 0's step skips the wrapped entries")
	assert.Len(t, steps[7], 5, "the last slot's step follows its run past the end")
}

// scanModel drives a cache and an exact model of it with ops read from
// data, iterating with Scan meanwhile, and checks each full iteration:
// every key live throughout it was returned, no key twice, and every key
// returned was live when it was returned.
func scanModel(t *testing.T, data []byte) {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	shards := 1 << (next() % 3)
	maxEntries := 0
	if next()%2 == 1 {
		maxEntries = 40
	}
	live := map[int]int64{} // key → deadline (0: none), as the model holds it
	var throughout map[int]bool
	c := newManual(t, Config[int, int]{Shards: shards, MaxEntries: maxEntries, Hasher: clusterHash,
		OnRemove: func(k int, _ int, why RemoveReason) {
			if why != ReasonReplaced {
				delete(live, k)
				delete(throughout, k)
			}
		}})
	now := func() int64 { return c.clock.Now() }
	expireModel := func() {
		for k, d := range live {
			if d != 0 && d <= now() {
				delete(live, k)
				delete(throughout, k)
			}
		}
	}
	start := func() map[int]bool {
		m := map[int]bool{}
		for k := range live {
			m[k] = true
		}
		return m
	}
	throughout = start()
	returned := map[int]bool{}
	cursor := uint64(0)
	for len(data) > 0 {
		op, k := next()%8, next()
		switch op {
		case 0, 1:
			c.Set(k, k)
			live[k] = 0
		case 2:
			ttl := time.Duration(1+k%3) * time.Millisecond
			c.SetWithTTL(k, k, ttl)
			live[k] = now() + int64(ttl)
			delete(throughout, k) // it will expire: not live throughout
		case 3:
			c.Delete(k)
			delete(live, k)
			delete(throughout, k)
		case 4:
			for i := range 20 { // a burst: the table grows
				c.Set(k*20+i, 0)
				live[k*20+i] = 0
			}
		case 5:
			c.advance(time.Millisecond)
			expireModel()
		default:
			var keys []int
			keys, cursor = c.Scan(cursor, 1+k%5, nil)
			for _, key := range keys {
				_, ok := live[key]
				require.True(t, ok, "Scan returned %d, which is not live", key)
				require.False(t, returned[key], "Scan returned %d twice", key)
				returned[key] = true
			}
			if cursor == 0 {
				for key := range throughout {
					require.True(t, returned[key], "key %d was live throughout but not returned", key)
				}
				throughout, returned = start(), map[int]bool{}
			}
		}
	}
}

func TestScanModel(t *testing.T) {
	seeds := 100
	if testing.Short() {
		seeds = 30
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		data := make([]byte, 4000)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		scanModel(t, data)
	}
}

func FuzzScan(f *testing.F) {
	f.Add([]byte{0, 0, 4, 1, 6, 0, 4, 2, 6, 1, 3, 1, 6, 1, 6, 3})
	f.Add([]byte{1, 1, 2, 5, 4, 9, 6, 0, 5, 0, 6, 2, 4, 3, 6, 4, 6, 4, 6, 4})
	f.Fuzz(scanModel)
}

// TestScanConcurrent iterates with small counts while other goroutines add
// and delete other keys (the tables grow, runs shift back and wrap, with
// clustered hashes and equal ones) and, in some rounds, evictions remove
// keys: every stable key that was not evicted is returned, and no key is
// returned twice in one iteration.
func TestScanConcurrent(t *testing.T) {
	rounds := 15
	if testing.Short() {
		rounds = 5
	}
	const stable = 400
	grewDuring := 0
	for round := range rounds {
		var mu sync.Mutex
		evicted := map[int]bool{}
		maxEntries := 0
		if round%3 == 2 {
			maxEntries = 3000
		}
		c := newManual(t, Config[int, int]{Shards: 1 << (round % 3), MaxEntries: maxEntries, Hasher: clusterHash,
			OnRemove: func(k int, _ int, why RemoveReason) {
				if k < stable && why == ReasonEvicted {
					mu.Lock()
					evicted[k] = true
					mu.Unlock()
				}
			}})
		for k := range stable {
			c.Set(k, k)
		}
		var stop atomic.Bool
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(round), uint64(g)))
				next := stable + g
				for i := 0; !stop.Load(); i++ {
					// Two sets for each delete: the tables keep growing,
					// up to about 10,000 churned keys.
					if next < stable+30000 {
						c.Set(next, 0)
						next += 3
					}
					c.Set(next, 0)
					next += 3
					c.Delete(stable + g + 3*r.IntN((next-stable)/3))
					if i%64 == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		r := rand.New(rand.NewPCG(uint64(round), 99))
		for range 4 {
			slots := tableSlots(c)
			seen := map[int]bool{}
			cursor := uint64(0)
			var keys []int
			for {
				keys, cursor = c.Scan(cursor, 1+r.IntN(4), keys[:0])
				for _, k := range keys {
					require.False(t, seen[k], "key %d returned twice", k)
					seen[k] = true
				}
				if cursor == 0 {
					break
				}
				if r.IntN(4) == 0 {
					runtime.Gosched()
				}
			}
			mu.Lock()
			for k := range stable {
				if !evicted[k] {
					require.True(t, seen[k], "round %d: stable key %d not returned", round, k)
				}
			}
			mu.Unlock()
			if tableSlots(c) != slots {
				grewDuring++
			}
		}
		stop.Store(true)
		wg.Wait()
	}
	t.Logf("%d iterations spanned a table growth", grewDuring)
	assert.Positive(t, grewDuring, "no iteration saw a table grow: the test proves little")
}

// tableSlots returns the slot count of every shard's table, summed.
func tableSlots[K comparable, V any](c *Cache[K, V]) int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m.slots)
		s.mu.RUnlock()
	}
	return n
}
