package shardcache

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBudgetLargeValueAtEveryShardCount: a byte budget is the cache's, so a
// value up to MaxCost is stored whatever the shard count. With the budget
// split per shard, 64 shards refused a 2 MiB value in 64 MiB and 512 shards
// a 512 KiB one; a 1 MiB cache refused 100 KB.
func TestBudgetLargeValueAtEveryShardCount(t *testing.T) {
	byLen := func(_ string, v []byte) int64 { return int64(len(v)) }
	tests := []struct {
		maxCost int64
		value   int
	}{
		{64 << 20, 2 << 20},
		{64 << 20, 512 << 10},
		{1 << 20, 100_000},
		{1 << 20, 1 << 20}, // exactly MaxCost
	}
	for _, tt := range tests {
		for _, shards := range []int{1, 64, 512} {
			t.Run(fmt.Sprintf("maxCost=%d/value=%d/shards=%d", tt.maxCost, tt.value, shards), func(t *testing.T) {
				c := newManual(t, Config[string, []byte]{Shards: shards, MaxCost: tt.maxCost, Cost: byLen})
				small := make([]byte, 1000)
				for i := range int(tt.maxCost / 1000) {
					c.Set("small"+strconv.Itoa(i), small) // fill the cache first
				}
				require.True(t, c.Set("big", make([]byte, tt.value)))
				v, ok := c.Get("big")
				require.True(t, ok)
				assert.Len(t, v, tt.value)
				st := c.Stats()
				assert.Zero(t, st.Rejected)
				assert.LessOrEqual(t, st.Cost, tt.maxCost)
			})
		}
	}
	t.Run("above MaxCost is rejected", func(t *testing.T) {
		c := newManual(t, Config[string, []byte]{Shards: 64, MaxCost: 1 << 20, Cost: byLen})
		assert.False(t, c.Set("k", make([]byte, 1<<20+1)))
		assert.Equal(t, uint64(1), c.Stats().Rejected)
	})
}

// TestBudgetDistinctKeysFit: a cache of N entries holds N distinct keys at
// every shard count. Split per shard, 65,536 held about 64,700.
func TestBudgetDistinctKeysFit(t *testing.T) {
	for _, shards := range []int{1, 64, 512} {
		t.Run("shards="+strconv.Itoa(shards), func(t *testing.T) {
			const n = 65536
			c := newManual(t, Config[int, int]{Shards: shards, MaxEntries: n})
			for i := range n {
				c.Set(i, i)
			}
			assert.Equal(t, n, c.Len())
			assert.Zero(t, c.Stats().Evictions)
			for i := range n {
				_, ok := c.Get(i)
				require.True(t, ok, "key %d", i)
			}
			c.Set(n, n)
			assert.Equal(t, n, c.Len())
			assert.Equal(t, uint64(1), c.Stats().Evictions)
		})
	}
}

// TestBudgetCostSaturates: costs never overflow. With MaxCost MaxInt64 and
// entries costing MaxInt64, 100 Sets used to store all 100 and report a
// total cost of -100.
func TestBudgetCostSaturates(t *testing.T) {
	huge := func(int, int) int64 { return math.MaxInt64 }
	t.Run("bounded", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4, MaxCost: math.MaxInt64, Cost: huge})
		for i := range 100 {
			require.True(t, c.Set(i, i))
		}
		st := c.Stats()
		assert.Equal(t, 1, c.Len(), "one entry of cost MaxInt64 fills a budget of MaxInt64")
		assert.Equal(t, int64(math.MaxInt64), st.Cost)
		assert.Equal(t, uint64(99), st.Evictions)
	})
	t.Run("unbounded", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4, Cost: huge})
		for i := range 100 {
			require.True(t, c.Set(i, i))
		}
		st := c.Stats()
		assert.Equal(t, 100, c.Len())
		assert.Equal(t, int64(math.MaxInt64), st.Cost, "the total saturates")
		c.Clear()
		assert.Zero(t, c.Stats().Cost)
	})
}

// TestBudgetNewAllocatesLittle: New allocates for what the cache holds, not
// for its bounds. A TinyLFU cache of 1<<40 entries used to die of "out of
// memory" in New, one of 1<<28 allocated 2.1 GiB, and LRU at 1<<20 35 MiB.
func TestBudgetNewAllocatesLittle(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config[int, int]
	}{
		{"LRU/1<<20", Config[int, int]{MaxEntries: 1 << 20}},
		{"TinyLFU/1<<28", Config[int, int]{MaxEntries: 1 << 28, Admission: AdmitTinyLFU}},
		{"TinyLFU/1<<40", Config[int, int]{MaxEntries: 1 << 40, Admission: AdmitTinyLFU}},
		{"ARC+TinyLFU/1<<40", Config[int, int]{MaxEntries: 1 << 40, Policy: ARC, Admission: AdmitTinyLFU}},
		{"MaxCost/1<<60", Config[int, int]{MaxCost: 1 << 60}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			c, err := New(tt.cfg)
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			defer c.Close()
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("New allocated %d bytes for %d shards", allocated, len(c.shards))
			assert.Less(t, allocated, uint64(1<<20), "New must allocate under 1 MiB")
			for i := range 10000 {
				c.Set(i, i)
			}
			assert.Equal(t, 10000, c.Len())
		})
	}
}

// TestBudgetRefusedNewcomer: a newcomer that admission refuses counts as
// Rejected, not Sets, fires no OnRemove (it was never stored) and makes Set
// return false. With ARC + TinyLFU it used to count in Sets and fire
// OnRemove(key, ReasonEvicted). (W-TinyLFU never refuses a newcomer: its
// window takes every one, and what loses the duel later is an entry that
// was stored, so it leaves as an eviction.)
func TestBudgetRefusedNewcomer(t *testing.T) {
	for _, p := range []Policy{ARC} {
		t.Run(p.String(), func(t *testing.T) {
			var mu sync.Mutex
			removed := map[string]RemoveReason{}
			c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 64, Policy: p, Admission: AdmitTinyLFU,
				OnRemove: func(k string, _ int, r RemoveReason) {
					mu.Lock()
					removed[k] = r
					mu.Unlock()
				}})
			for i := range 64 {
				c.Set("hot"+strconv.Itoa(i), i)
			}
			for range 20 {
				for i := range 64 {
					c.Get("hot" + strconv.Itoa(i))
				}
			}
			before := c.Stats()
			stored, refused := 0, 0
			for i := range 200 {
				k := "cold" + strconv.Itoa(i)
				if c.Set(k, i) {
					stored++
					continue
				}
				refused++
				_, ok := c.Get(k)
				assert.False(t, ok, "a refused key must not be stored")
				mu.Lock()
				_, fired := removed[k]
				mu.Unlock()
				assert.False(t, fired, "OnRemove fired for %q, which was never stored", k)
			}
			require.Positive(t, refused, "admission refused nothing: the test proves nothing")
			st := c.Stats()
			assert.Equal(t, uint64(refused), st.Rejected-before.Rejected)
			assert.Equal(t, uint64(stored), st.Sets-before.Sets)
			assert.Equal(t, 64, c.Len())
		})
	}
}

// TestBudgetConcurrent: under concurrent writers to every shard, Len never
// exceeds MaxEntries nor total cost MaxCost, and once the writers stop the
// counters agree with what the shards hold.
func TestBudgetConcurrent(t *testing.T) {
	const maxEntries, maxCost = 500, 20_000
	c := newManual(t, Config[int, string]{Shards: 16, MaxEntries: maxEntries, MaxCost: maxCost,
		Cost: func(_ int, v string) int64 { return int64(len(v)) }})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := range 20_000 {
				k := w*1_000_000 + i
				switch i % 10 {
				case 7:
					c.Delete(k - 5)
				case 8:
					c.Update(k-1, strings.Repeat("u", i%300))
				default:
					c.Set(k, strings.Repeat("v", i%200))
				}
			}
		})
	}
	violations := 0
	var checker sync.WaitGroup
	checker.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			st := c.Stats()
			if st.Entries > maxEntries || st.Cost > maxCost {
				violations++
			}
			runtime.Gosched()
		}
	})
	wg.Wait()
	close(stop)
	checker.Wait()
	assert.Zero(t, violations, "the bounds were exceeded")
	n, cost := 0, int64(0)
	for _, v := range c.All() {
		n++
		cost += int64(len(v))
	}
	st := c.Stats()
	assert.Equal(t, n, st.Entries)
	assert.Equal(t, cost, st.Cost)
	assert.LessOrEqual(t, n, maxEntries)
}

// TestSetMaxEntries: lowering the bound evicts down to it before the call
// returns, with OnRemove for each; raising it lets the cache grow again.
func TestSetMaxEntries(t *testing.T) {
	var mu sync.Mutex
	evicted := 0
	c := newManual(t, Config[int, int]{Shards: 8, MaxEntries: 10_000, Admission: AdmitTinyLFU,
		OnRemove: func(_, _ int, r RemoveReason) {
			if r == ReasonEvicted {
				mu.Lock()
				evicted++
				mu.Unlock()
			}
		}})
	for i := range 10_000 {
		c.Set(i, i)
	}
	require.NoError(t, c.SetMaxEntries(1000))
	assert.Equal(t, 1000, c.Len())
	assert.Equal(t, 9000, evicted)
	for i := range 5000 {
		c.Set(100_000+i, i)
	}
	assert.Equal(t, 1000, c.Len())
	require.NoError(t, c.SetMaxEntries(0))
	for i := range 5000 {
		c.Set(200_000+i, i)
	}
	assert.Equal(t, 6000, c.Len(), "no bound: nothing is evicted")
	assert.ErrorIs(t, c.SetMaxEntries(-1), ErrInvalidConfig)
	assert.Equal(t, 6000, c.Len(), "a bad bound changes nothing")
}

// TestSetMaxCost: lowering the cost bound evicts to it; an entry costlier
// than the new bound is evicted and later ones are rejected.
func TestSetMaxCost(t *testing.T) {
	c := newManual(t, Config[int, string]{Shards: 4, MaxCost: 1 << 20,
		Cost: func(_ int, v string) int64 { return int64(len(v)) }})
	c.Set(-1, strings.Repeat("x", 5000))
	for i := range 1000 {
		c.Set(i, strings.Repeat("y", 100))
	}
	require.NoError(t, c.SetMaxCost(4000))
	st := c.Stats()
	assert.LessOrEqual(t, st.Cost, int64(4000))
	assert.Positive(t, st.Entries)
	_, ok := c.Get(-1)
	assert.False(t, ok, "an entry above the new bound cannot stay")
	assert.False(t, c.Set(-2, strings.Repeat("z", 4001)))
	assert.ErrorIs(t, c.SetMaxCost(-5), ErrInvalidConfig)
}

// TestSetIfAbsent: only one of many concurrent SetIfAbsent calls for a key
// stores, a live key is never overwritten, an expired one is.
func TestSetIfAbsent(t *testing.T) {
	c := newManual(t, Config[string, int]{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 8 {
		wg.Go(func() {
			if c.SetIfAbsent("k", i) {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, winners)
	v, _ := c.Get("k")
	assert.False(t, c.SetIfAbsent("k", v+100))
	got, _ := c.Get("k")
	assert.Equal(t, v, got, "a live value is kept")

	require.True(t, c.SetIfAbsentWithTTL("t", 1, time.Second))
	c.advance(2 * time.Second)
	assert.True(t, c.SetIfAbsent("t", 2), "an expired entry is absent")
	got, _ = c.Get("t")
	assert.Equal(t, 2, got)
	assert.False(t, c.SetIfAbsentWithTTL("n", 1, -time.Second))
}

// TestPeekAndGetEntry: neither is an access (no stats, no promotion), and
// GetEntry reads value, TTL and cost together.
func TestPeekAndGetEntry(t *testing.T) {
	c := newManual(t, Config[string, string]{Shards: 1, MaxEntries: 2,
		Cost: func(_, v string) int64 { return int64(len(v)) }})
	c.SetWithTTL("a", "aaa", time.Minute)
	c.Set("b", "bb")
	v, ok := c.Peek("a")
	require.True(t, ok)
	assert.Equal(t, "aaa", v)
	e, ok := c.GetEntry("a")
	require.True(t, ok)
	assert.Equal(t, "aaa", e.Value)
	assert.Equal(t, int64(3), e.Cost)
	assert.Equal(t, time.Minute, e.TTL)
	assert.WithinDuration(t, time.Now().Add(time.Minute), e.Deadline, 5*time.Second)
	e, _ = c.GetEntry("b")
	assert.Zero(t, e.TTL)
	assert.True(t, e.Deadline.IsZero())
	st := c.Stats()
	assert.Zero(t, st.Hits+st.Misses, "Peek and GetEntry are not counted")
	c.Set("c", "c") // LRU victim: a, which Peek and GetEntry did not promote
	_, ok = c.Peek("a")
	assert.False(t, ok)
	_, ok = c.GetEntry("a")
	assert.False(t, ok)
	c.SetWithTTL("d", "d", time.Second)
	c.advance(2 * time.Second)
	_, ok = c.Peek("d")
	assert.False(t, ok, "an expired entry is not returned")

	var keys []string
	for k := range c.Keys() {
		keys = append(keys, k)
	}
	var values []string
	for v := range c.Values() {
		values = append(values, v)
	}
	assert.ElementsMatch(t, []string{"c"}, keys, "b was evicted for d, and d expired")
	assert.ElementsMatch(t, []string{"c"}, values)
}
