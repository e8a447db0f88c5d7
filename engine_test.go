package shardcache

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Unit tests of the engine's exported behaviour. Everything that involves
// time runs either on newManual's clock (deterministic, no goroutine) or, for
// the background goroutine itself, inside a testing/synctest bubble, so no
// test depends on the machine's real speed.

// removeEvent is one OnRemove call.
type removeEvent[K comparable, V any] struct {
	key    K
	value  V
	reason RemoveReason
}

// removeLog records OnRemove calls; its record method is a Config.OnRemove.
type removeLog[K comparable, V any] struct {
	mu     sync.Mutex
	events []removeEvent[K, V]
}

func (l *removeLog[K, V]) record(k K, v V, why RemoveReason) {
	l.mu.Lock()
	l.events = append(l.events, removeEvent[K, V]{k, v, why})
	l.mu.Unlock()
}

// take returns the calls recorded since the last take.
func (l *removeLog[K, V]) take() []removeEvent[K, V] {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.events
	l.events = nil
	return ev
}

// noDeadlock runs f on another goroutine and fails the test if it has not
// returned within a generous bound: a deadlock then fails the one test
// instead of hanging the whole run until go test's timeout.
func noDeadlock(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: the call did not return within 10s")
	}
}

// wheelLen counts the timers scheduled in every shard's wheel.
func wheelLen[K comparable, V any](c *Cache[K, V]) int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		if s.wheel != nil {
			n += s.wheel.Len()
		}
		s.mu.RUnlock()
	}
	return n
}

// keysOf collects the keys All yields.
func keysOf[K comparable, V any](c *Cache[K, V]) []K {
	var ks []K
	for k := range c.All() {
		ks = append(ks, k)
	}
	return ks
}

const day = 24 * time.Hour

func TestNewInvalidConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config[string, int]
		field string
	}{
		{"Shards/negative", Config[string, int]{Shards: -1}, "Shards"},
		{"Shards/min int", Config[string, int]{Shards: math.MinInt}, "Shards"},
		{"Shards/above 1<<16", Config[string, int]{Shards: 1<<16 + 1}, "Shards"},
		{"Shards/max int", Config[string, int]{Shards: math.MaxInt}, "Shards"},
		{"MaxEntries/negative", Config[string, int]{MaxEntries: -1}, "MaxEntries"},
		{"MaxCost/negative", Config[string, int]{MaxCost: -1}, "MaxCost"},
		{"DefaultTTL/negative", Config[string, int]{DefaultTTL: -time.Nanosecond}, "DefaultTTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			assert.True(t, strings.HasPrefix(err.Error(), "shardcache: invalid config: "), err.Error())
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestNewShardCount(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config[string, int]
		want int
	}{
		{"shards=0/default", Config[string, int]{}, DefaultShards()},
		{"shards=1", Config[string, int]{Shards: 1}, 1},
		{"shards=2", Config[string, int]{Shards: 2}, 2},
		{"shards=3/rounded up", Config[string, int]{Shards: 3}, 4},
		{"shards=5/rounded up", Config[string, int]{Shards: 5}, 8},
		{"shards=64", Config[string, int]{Shards: 64}, 64},
		{"shards=65/rounded up", Config[string, int]{Shards: 65}, 128},
		{"shards=1<<15+1/rounded up to max", Config[string, int]{Shards: 1<<15 + 1}, 1 << 16},
		{"shards=1<<16/max accepted", Config[string, int]{Shards: 1 << 16}, 1 << 16},
		{"shards=64/maxEntries=1000", Config[string, int]{Shards: 64, MaxEntries: 1000}, 64},
		{"shards=4/maxEntries=7", Config[string, int]{Shards: 4, MaxEntries: 7}, 4},
		{"shards=64/maxEntries=3/reduced", Config[string, int]{Shards: 64, MaxEntries: 3}, 2},
		{"shards=64/maxEntries=1/reduced", Config[string, int]{Shards: 64, MaxEntries: 1}, 1},
		{"shards=0/maxEntries=10/one shard", Config[string, int]{MaxEntries: 10}, 1},
		{"shards=0/maxEntries=255/one shard", Config[string, int]{MaxEntries: 255}, 1},
		{"shards=0/maxEntries=256/128 each", Config[string, int]{MaxEntries: 256}, 2},
		{"shards=0/maxEntries=1000/at least 128 each", Config[string, int]{MaxEntries: 1000}, 4},
		{"shards=0/maxEntries=8191/at least 128 each", Config[string, int]{MaxEntries: 8191}, min(DefaultShards(), 32)},
		{"shards=0/maxEntries=1<<16", Config[string, int]{MaxEntries: 1 << 16}, min(DefaultShards(), 512)},
		{"shards=0/maxCost=10/reduced", Config[string, int]{MaxCost: 10}, 8},
		{"shards=16/maxCost=5/reduced", Config[string, int]{Shards: 16, MaxCost: 5}, 4},
		{"shards=64/maxEntries=1000/maxCost=3/reduced", Config[string, int]{Shards: 64, MaxEntries: 1000, MaxCost: 3}, 2},
		{"shards=8/maxEntries=8/maxCost=8", Config[string, int]{Shards: 8, MaxEntries: 8, MaxCost: 8}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.validate()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			if tt.want > 1<<12 {
				return // a real cache that size costs ~150 MB of shards
			}
			c, err := New(tt.cfg)
			require.NoError(t, err)
			defer c.Close()
			assert.Len(t, c.shards, tt.want)
			assert.Equal(t, uint64(tt.want-1), c.mask)
		})
	}
}

func TestNewBudgets(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config[string, int]
	}{
		{"maxEntries=1000/shards=64", Config[string, int]{Shards: 64, MaxEntries: 1000}},
		{"maxEntries=7/shards=4", Config[string, int]{Shards: 4, MaxEntries: 7}},
		{"maxEntries=3/shards=64", Config[string, int]{Shards: 64, MaxEntries: 3}},
		{"maxEntries=1/shards=64", Config[string, int]{Shards: 64, MaxEntries: 1}},
		{"maxEntries=65/shards=64", Config[string, int]{Shards: 64, MaxEntries: 65}},
		{"maxEntries=1000003/shards=default", Config[string, int]{MaxEntries: 1000003}},
		{"maxCost=1000003/shards=64", Config[string, int]{Shards: 64, MaxCost: 1000003}},
		{"maxCost=5/shards=16", Config[string, int]{Shards: 16, MaxCost: 5}},
		{"maxCost=1<<40+7/shards=256", Config[string, int]{Shards: 256, MaxCost: 1<<40 + 7}},
		{"maxEntries=100/maxCost=999/shards=32", Config[string, int]{Shards: 32, MaxEntries: 100, MaxCost: 999}},
		{"unbounded", Config[string, int]{Shards: 16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bounds are the cache's: as many distinct keys as the
			// bounds allow all fit, whatever the shard count, and no more.
			c := newManual(t, tt.cfg)
			fit := int64(tt.cfg.MaxEntries)
			if tt.cfg.MaxCost > 0 && (fit == 0 || tt.cfg.MaxCost < fit) {
				fit = tt.cfg.MaxCost
			}
			full := fit > 0 && fit <= 1<<20
			if !full {
				fit = 1 << 12 // unbounded, or too large to fill in a test
			}
			for i := range fit {
				require.True(t, c.Set(strconv.FormatInt(i, 10), 0), "key %d of %d", i, fit)
			}
			assert.Equal(t, int(fit), c.Len(), "every key fits")
			assert.Zero(t, c.Stats().Evictions)
			for i := fit; i < 2*fit; i++ {
				c.Set(strconv.FormatInt(i, 10), 0)
			}
			st := c.Stats()
			if full {
				assert.Equal(t, int(fit), c.Len(), "a full cache stays full")
				assert.Equal(t, uint64(fit), st.Evictions)
			} else {
				assert.Equal(t, int(2*fit), c.Len())
			}
			assert.Equal(t, int64(c.Len()), st.Cost)
		})
	}
}

func TestDefaultShards(t *testing.T) {
	n := DefaultShards()
	assert.GreaterOrEqual(t, n, 64)
	assert.Equal(t, 0, n&(n-1), "DefaultShards() = %d is not a power of two", n)
}

func TestGetSet(t *testing.T) {
	t.Run("absent/misses", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		v, ok := c.Get("nope")
		assert.False(t, ok)
		assert.Zero(t, v)
	})
	t.Run("set/then get", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		v, ok := c.Get("a")
		assert.True(t, ok)
		assert.Equal(t, 1, v)
		assert.Equal(t, 1, c.Len())
	})
	t.Run("set/zero value is stored", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("", 0)
		v, ok := c.Get("")
		assert.True(t, ok)
		assert.Zero(t, v)
	})
	t.Run("set/many keys over shards", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 16})
		for i := range 1000 {
			c.Set(strconv.Itoa(i), i)
		}
		assert.Equal(t, 1000, c.Len())
		for i := range 1000 {
			v, ok := c.Get(strconv.Itoa(i))
			require.True(t, ok, i)
			require.Equal(t, i, v)
		}
	})
	t.Run("overwrite/replaces value and reports the old one", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.Set("a", 1)
		c.Set("a", 2)
		v, ok := c.Get("a")
		assert.True(t, ok)
		assert.Equal(t, 2, v)
		assert.Equal(t, 1, c.Len())
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonReplaced}}, log.take())
	})
	t.Run("overwrite/of expired entry reports expired", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.advance(10 * time.Millisecond) // expired, not yet reclaimed
		c.Set("a", 2)
		v, ok := c.Get("a")
		assert.True(t, ok)
		assert.Equal(t, 2, v)
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonExpired}}, log.take())
		assert.Equal(t, uint64(1), c.Stats().Expirations)
	})
	t.Run("expired/not returned", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, time.Millisecond)
		c.advance(time.Millisecond)
		_, ok := c.Get("a")
		assert.False(t, ok)
	})
}

func TestUpdate(t *testing.T) {
	t.Run("absent/returns false and stores nothing", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		assert.False(t, c.Update("a", 1))
		_, ok := c.Get("a")
		assert.False(t, ok)
		assert.Zero(t, c.Len())
		assert.Empty(t, log.take())
	})
	t.Run("live/replaces value", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.Set("a", 1)
		assert.True(t, c.Update("a", 2))
		v, ok := c.Get("a")
		assert.True(t, ok)
		assert.Equal(t, 2, v)
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonReplaced}}, log.take())
		assert.Equal(t, uint64(1), c.Stats().Sets, "Update is not a Set")
	})
	t.Run("expired/returns false and reclaims", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.advance(10 * time.Millisecond) // expired, not yet reclaimed
		assert.False(t, c.Update("a", 2))
		_, ok := c.Get("a")
		assert.False(t, ok)
		assert.Zero(t, c.Len())
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonExpired}}, log.take())
		assert.Equal(t, uint64(1), c.Stats().Expirations)
	})
	t.Run("deadline/kept", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.advance(4 * time.Millisecond)
		before, ok := c.TTL("a")
		require.True(t, ok)
		assert.Equal(t, 6*time.Millisecond, before)
		require.True(t, c.Update("a", 2))
		after, ok := c.TTL("a")
		require.True(t, ok)
		assert.Equal(t, before, after, "Update must keep the deadline")
		c.advance(5 * time.Millisecond)
		v, ok := c.Get("a")
		assert.True(t, ok)
		assert.Equal(t, 2, v)
		c.advance(time.Millisecond)
		_, ok = c.Get("a")
		assert.False(t, ok, "the updated entry must expire at the original deadline")
	})
	t.Run("deadline/none kept", func(t *testing.T) {
		c := newManual(t, Config[string, int]{DefaultTTL: time.Millisecond})
		c.SetWithTTL("a", 1, 0)
		require.True(t, c.Update("a", 2))
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Zero(t, ttl, "Update must not apply DefaultTTL")
		c.advance(time.Hour)
		_, ok = c.Get("a")
		assert.True(t, ok)
	})
	t.Run("too costly/removes key", func(t *testing.T) {
		var log removeLog[string, string]
		c := newManual(t, Config[string, string]{
			Shards: 1, MaxCost: 10, OnRemove: log.record,
			Cost: func(_, v string) int64 { return int64(len(v)) },
		})
		c.Set("a", "old")
		assert.False(t, c.Update("a", strings.Repeat("x", 11)))
		_, ok := c.Get("a")
		assert.False(t, ok)
		assert.Equal(t, []removeEvent[string, string]{{"a", "old", ReasonReplaced}}, log.take())
		st := c.Stats()
		assert.Equal(t, uint64(1), st.Rejected)
		assert.Zero(t, st.Entries)
		assert.Zero(t, st.Cost)
	})
	t.Run("cost/updated and evicts others", func(t *testing.T) {
		var log removeLog[string, string]
		c := newManual(t, Config[string, string]{
			Shards: 1, MaxCost: 10, OnRemove: log.record,
			Cost: func(_, v string) int64 { return int64(len(v)) },
		})
		c.Set("a", "aaaa")
		c.Set("b", "bbbb")
		require.True(t, c.Update("b", "bbbbbbb")) // 4+7 > 10: a goes first
		assert.Equal(t, []removeEvent[string, string]{
			{"a", "aaaa", ReasonEvicted},
			{"b", "bbbb", ReasonReplaced},
		}, log.take())
		assert.Equal(t, int64(7), c.Stats().Cost)
	})
}

func TestDelete(t *testing.T) {
	t.Run("live/true", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.Set("a", 1)
		assert.True(t, c.Delete("a"))
		_, ok := c.Get("a")
		assert.False(t, ok)
		assert.Zero(t, c.Len())
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonDeleted}}, log.take())
	})
	t.Run("absent/false", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.Set("b", 1)
		assert.False(t, c.Delete("a"))
		assert.Equal(t, 1, c.Len())
		assert.Empty(t, log.take())
	})
	t.Run("twice/true then false", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		assert.True(t, c.Delete("a"))
		assert.False(t, c.Delete("a"))
	})
	t.Run("expired unreclaimed/false and reports expired", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.advance(10 * time.Millisecond) // deadline <= now, wheel not yet fired
		require.Equal(t, 1, c.Len())
		assert.False(t, c.Delete("a"))
		assert.Zero(t, c.Len())
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonExpired}}, log.take())
		assert.Equal(t, uint64(1), c.Stats().Expirations)
	})
}

func TestTTL(t *testing.T) {
	t.Run("no expiry/zero and true", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Zero(t, ttl)
	})
	t.Run("remaining/decreases with the clock", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		for want := 10 * time.Millisecond; want > 0; want -= time.Millisecond {
			ttl, ok := c.TTL("a")
			require.True(t, ok)
			require.Equal(t, want, ttl)
			c.advance(time.Millisecond)
		}
	})
	t.Run("expired/false", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.advance(10 * time.Millisecond)
		ttl, ok := c.TTL("a")
		assert.False(t, ok)
		assert.Zero(t, ttl)
	})
	t.Run("absent/false", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		ttl, ok := c.TTL("a")
		assert.False(t, ok)
		assert.Zero(t, ttl)
	})
	t.Run("not an access", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 2, OnRemove: log.record})
		c.Set("a", 1)
		c.Set("b", 2)
		c.TTL("a")
		c.Set("c", 3)
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonEvicted}}, log.take())
		assert.Zero(t, c.Stats().Hits)
	})
}

func TestSetWithTTL(t *testing.T) {
	t.Run("ttl<0/deletes", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.Set("a", 1)
		c.SetWithTTL("a", 2, -time.Second)
		_, ok := c.Get("a")
		assert.False(t, ok)
		assert.Zero(t, c.Len())
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonDeleted}}, log.take())
		assert.Equal(t, uint64(1), c.Stats().Sets, "a negative ttl stores nothing")
	})
	t.Run("ttl<0/absent key is a no-op", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.SetWithTTL("a", 2, -1)
		assert.Zero(t, c.Len())
		assert.Empty(t, log.take())
	})
	t.Run("ttl=0/never expires", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, 0)
		c.advance(100 * 365 * day)
		v, ok := c.Get("a")
		assert.True(t, ok)
		assert.Equal(t, 1, v)
		assert.Zero(t, wheelLen(c))
	})
	t.Run("ttl=0/ignores DefaultTTL", func(t *testing.T) {
		c := newManual(t, Config[string, int]{DefaultTTL: time.Millisecond})
		c.SetWithTTL("a", 1, 0)
		c.advance(100 * 365 * day)
		_, ok := c.Get("a")
		assert.True(t, ok)
	})
	t.Run("DefaultTTL/applied by Set", func(t *testing.T) {
		c := newManual(t, Config[string, int]{DefaultTTL: 5 * time.Millisecond})
		c.Set("a", 1)
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Equal(t, 5*time.Millisecond, ttl)
		c.advance(5 * time.Millisecond)
		_, ok = c.Get("a")
		assert.False(t, ok)
	})
	t.Run("ttl>0/overrides DefaultTTL", func(t *testing.T) {
		c := newManual(t, Config[string, int]{DefaultTTL: 5 * time.Millisecond})
		c.SetWithTTL("a", 1, 20*time.Millisecond)
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Equal(t, 20*time.Millisecond, ttl)
	})
}

func TestExpiry(t *testing.T) {
	t.Run("boundary/returned before deadline, not at it", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.advance(9 * time.Millisecond)
		_, ok := c.Get("a")
		assert.True(t, ok, "at +9ms")
		c.advance(time.Millisecond)
		_, ok = c.Get("a")
		assert.False(t, ok, "at +10ms: deadline <= now is expired")
	})

	// reclaimed: stepping the clock one tick at a time as the janitor does,
	// the entry is reclaimed no earlier than its deadline and no later than
	// two ticks after it, from tick-aligned and unaligned starts, at every
	// wheel level.
	starts := []time.Duration{0, time.Microsecond, 500 * time.Microsecond, 999 * time.Microsecond, 7 * day}
	ttls := []time.Duration{
		1, time.Millisecond, 1500 * time.Microsecond, 10 * time.Millisecond,
		63 * time.Millisecond, 64 * time.Millisecond, 65 * time.Millisecond, // level 0/1 edge
		4097 * time.Millisecond, // level 2
	}
	for _, start := range starts {
		for _, ttl := range ttls {
			t.Run(fmt.Sprintf("reclaimed within two ticks/start=%v/ttl=%v", start, ttl), func(t *testing.T) {
				var log removeLog[string, int]
				c := newManual(t, Config[string, int]{Shards: 4, OnRemove: log.record})
				c.clock.now.Store(int64(start))
				c.SetWithTTL("a", 1, ttl)
				deadline := start + ttl
				now := start
				for now < deadline+2*clockTick {
					c.advance(clockTick)
					now += clockTick
					ev := log.take()
					if now < deadline {
						require.Empty(t, ev, "reclaimed at %v, before its deadline %v", now, deadline)
						require.Equal(t, 1, c.Len())
						continue
					}
					if len(ev) > 0 {
						require.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonExpired}}, ev)
						break
					}
				}
				require.LessOrEqual(t, now, deadline+2*clockTick, "not reclaimed within two ticks of its deadline")
				assert.Zero(t, c.Len())
				assert.Equal(t, uint64(1), c.Stats().Expirations)
				assert.Zero(t, wheelLen(c))
			})
		}
	}

	t.Run("many/all reclaimed in one pass", func(t *testing.T) {
		var log removeLog[int, int]
		c := newManual(t, Config[int, int]{Shards: 8, OnRemove: log.record})
		for i := range 1000 {
			c.SetWithTTL(i, i, 10*time.Millisecond)
		}
		c.SetWithTTL(-1, -1, 0)
		c.advance(11 * time.Millisecond)
		assert.Equal(t, 1, c.Len())
		assert.Len(t, log.take(), 1000)
		assert.Equal(t, uint64(1000), c.Stats().Expirations)
	})
	t.Run("overwrite/reschedules", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.advance(5 * time.Millisecond)
		c.SetWithTTL("a", 2, 20*time.Millisecond) // new deadline: 25ms
		require.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonReplaced}}, log.take())
		for range 19 { // up to 24ms: the old 10ms deadline must not fire
			c.advance(time.Millisecond)
			_, ok := c.Get("a")
			require.True(t, ok)
		}
		assert.Empty(t, log.take())
		c.advance(time.Millisecond)
		_, ok := c.Get("a")
		assert.False(t, ok)
		c.advance(2 * time.Millisecond)
		assert.Equal(t, []removeEvent[string, int]{{"a", 2, ReasonExpired}}, log.take())
	})
	t.Run("overwrite/shorter ttl", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.SetWithTTL("a", 1, 20*time.Millisecond)
		c.SetWithTTL("a", 2, 5*time.Millisecond)
		log.take()
		c.advance(4 * time.Millisecond)
		assert.Equal(t, 1, c.Len())
		c.advance(3 * time.Millisecond)
		assert.Equal(t, []removeEvent[string, int]{{"a", 2, ReasonExpired}}, log.take())
	})
	t.Run("overwrite/ttl=0 cancels expiry", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		require.Equal(t, 1, wheelLen(c))
		c.Set("a", 2)
		assert.Zero(t, wheelLen(c))
		c.advance(time.Hour)
		v, ok := c.Get("a")
		assert.True(t, ok)
		assert.Equal(t, 2, v)
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Zero(t, ttl)
	})
	t.Run("delete/cancels timer", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{Shards: 1, OnRemove: log.record})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.SetWithTTL("b", 2, 10*time.Millisecond)
		c.SetWithTTL("c", 3, 10*time.Millisecond)
		require.Equal(t, 3, c.shards[0].wheel.Len())
		require.True(t, c.Delete("b"))
		assert.Equal(t, 2, c.shards[0].wheel.Len())
		log.take()
		c.advance(12 * time.Millisecond)
		ev := log.take()
		assert.ElementsMatch(t, []removeEvent[string, int]{{"a", 1, ReasonExpired}, {"c", 3, ReasonExpired}}, ev)
	})
	t.Run("evict/cancels timer", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 1})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.SetWithTTL("b", 2, 10*time.Millisecond)
		assert.Equal(t, 1, c.shards[0].wheel.Len())
	})
	for _, start := range []time.Duration{0, time.Millisecond, 365 * day} {
		t.Run(fmt.Sprintf("huge ttl/does not overflow/start=%v", start), func(t *testing.T) {
			c := newManual(t, Config[string, int]{})
			c.clock.now.Store(int64(start))
			c.SetWithTTL("a", 1, math.MaxInt64)
			// MaxInt64 ns is about 292 years: two centuries later the
			// entry still has decades to live.
			for range 2 {
				ttl, ok := c.TTL("a")
				require.True(t, ok)
				require.Greater(t, ttl, 50*365*day, "TTL must stay huge and positive")
				c.advance(100 * 365 * day)
				v, ok := c.Get("a")
				require.True(t, ok)
				require.Equal(t, 1, v)
			}
			assert.Zero(t, c.Stats().Expirations)
		})
	}
}

// TestExpiryPassGoesQuiet checks, on the manual clock, what the janitor
// decides each tick: once no entry has a deadline, an expiry pass must
// report that nothing is scheduled, so that the janitor can sleep.
func TestExpiryPassGoesQuiet(t *testing.T) {
	removers := []struct {
		name   string
		remove func(c *Cache[string, int])
	}{
		{"Delete", func(c *Cache[string, int]) { c.Delete("k") }},
		{"SetWithTTL negative", func(c *Cache[string, int]) { c.SetWithTTL("k", 2, -1) }},
		{"Set without ttl", func(c *Cache[string, int]) { c.Set("k", 2) }},
		{"eviction", func(c *Cache[string, int]) { c.Set("other", 2) }},
		{"Clear", func(c *Cache[string, int]) { c.Clear() }},
		{"expiry", func(c *Cache[string, int]) { c.advance(time.Hour + clockTick) }},
	}
	for _, tt := range removers {
		t.Run("after last timer removed by "+tt.name, func(t *testing.T) {
			c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 1})
			c.SetWithTTL("k", 1, time.Hour)
			c.advance(clockTick)
			tt.remove(c)
			require.Zero(t, wheelLen(c))
			c.advance(clockTick) // one pass to notice
			assert.False(t, c.expire(c.clock.Now(), nil),
				"no timer left, yet the pass reports work scheduled (nextDue=%v): the janitor keeps ticking until the removed entry's old deadline",
				time.Duration(c.shards[0].nextDue.Load()))
		})
	}
}

func TestEvictionLRU(t *testing.T) {
	tests := []struct {
		name string
		ops  func(c *Cache[string, int])
		want []string // evicted keys, in order
	}{
		{"oldest first", func(c *Cache[string, int]) {
			c.Set("a", 1)
			c.Set("b", 2)
			c.Set("c", 3)
			c.Set("d", 4)
			c.Set("e", 5)
		}, []string{"a", "b"}},
		{"Get promotes", func(c *Cache[string, int]) {
			c.Set("a", 1)
			c.Set("b", 2)
			c.Set("c", 3)
			c.Get("a")
			c.Set("d", 4)
			c.Set("e", 5)
		}, []string{"b", "c"}},
		{"Get promotes/more than one read buffer", func(c *Cache[string, int]) {
			c.Set("a", 1)
			c.Set("b", 2)
			c.Set("c", 3)
			for range 100 { // several times stripeSlots: the buffer drains itself
				c.Get("a")
				c.Get("b")
			}
			c.Get("a")
			c.Set("d", 4)
			c.Set("e", 5)
			c.Set("f", 6)
		}, []string{"c", "b", "a"}},
		{"Get miss does not promote", func(c *Cache[string, int]) {
			c.Set("a", 1)
			c.Set("b", 2)
			c.Set("c", 3)
			c.Get("z")
			c.Set("d", 4)
		}, []string{"a"}},
		{"Set of existing promotes", func(c *Cache[string, int]) {
			c.Set("a", 1)
			c.Set("b", 2)
			c.Set("c", 3)
			c.Set("a", 10)
			c.Set("d", 4)
		}, []string{"b"}},
		{"Update promotes", func(c *Cache[string, int]) {
			c.Set("a", 1)
			c.Set("b", 2)
			c.Set("c", 3)
			c.Update("a", 10)
			c.Set("d", 4)
			c.Set("e", 5)
		}, []string{"b", "c"}},
		{"All and TTL do not promote", func(c *Cache[string, int]) {
			c.Set("a", 1)
			c.Set("b", 2)
			c.Set("c", 3)
			c.TTL("a")
			for range c.All() {
			}
			c.Set("d", 4)
		}, []string{"a"}},
		{"Delete frees room", func(c *Cache[string, int]) {
			c.Set("a", 1)
			c.Set("b", 2)
			c.Set("c", 3)
			c.Delete("b")
			c.Set("d", 4)
			c.Set("e", 5)
		}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log removeLog[string, int]
			c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 3, OnRemove: log.record})
			tt.ops(c)
			var got []string
			for _, ev := range log.take() {
				if ev.reason == ReasonEvicted {
					got = append(got, ev.key)
				}
			}
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, c.Len(), 3)
			assert.Equal(t, uint64(len(tt.want)), c.Stats().Evictions)
		})
	}

	t.Run("callback gets key and value", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 1, OnRemove: log.record})
		c.Set("a", 1)
		c.Set("a", 2)
		c.Set("b", 3)
		assert.Equal(t, []removeEvent[string, int]{
			{"a", 1, ReasonReplaced},
			{"a", 2, ReasonEvicted},
		}, log.take())
	})
	t.Run("expired victim reported as expired", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 1, OnRemove: log.record})
		c.SetWithTTL("a", 1, time.Millisecond)
		c.advance(time.Millisecond) // expired, not reclaimed
		c.Set("b", 2)
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonExpired}}, log.take())
		st := c.Stats()
		assert.Zero(t, st.Evictions)
		assert.Equal(t, uint64(1), st.Expirations)
	})
	t.Run("Len never exceeds MaxEntries", func(t *testing.T) {
		for _, shards := range []int{1, 4, 16} {
			c := newManual(t, Config[int, int]{Shards: shards, MaxEntries: 37})
			for i := range 5000 {
				c.Set(i, i)
				require.LessOrEqual(t, c.Len(), 37, "shards=%d after %d sets", shards, i+1)
			}
			st := c.Stats()
			assert.Equal(t, uint64(5000), st.Sets)
			assert.Equal(t, uint64(5000-c.Len()), st.Evictions)
		}
	})
}

func TestCost(t *testing.T) {
	byLen := func(_ string, v string) int64 { return int64(len(v)) }
	newBytes := func(t *testing.T, shards int, maxCost int64, log *removeLog[string, string]) *Cache[string, string] {
		return newManual(t, Config[string, string]{Shards: shards, MaxCost: maxCost, Cost: byLen, OnRemove: log.record})
	}

	t.Run("byte budget/evicts by cost", func(t *testing.T) {
		var log removeLog[string, string]
		c := newBytes(t, 1, 10, &log)
		c.Set("a", "aaaa")
		c.Set("b", "bbbb")
		c.Set("c", "cc")
		assert.Empty(t, log.take(), "4+4+2 fits 10")
		assert.Equal(t, int64(10), c.Stats().Cost)
		c.Set("d", "d")
		assert.Equal(t, []removeEvent[string, string]{{"a", "aaaa", ReasonEvicted}}, log.take())
		assert.Equal(t, int64(7), c.Stats().Cost)
		c.Set("b", "bbbbbbbb") // 7-4+8 = 11: LRU is c, evicted to make room first
		assert.Equal(t, []removeEvent[string, string]{
			{"c", "cc", ReasonEvicted},
			{"b", "bbbb", ReasonReplaced},
		}, log.take())
		st := c.Stats()
		assert.Equal(t, int64(9), st.Cost)
		assert.Equal(t, 2, st.Entries)
	})
	t.Run("byte budget/one entry at the budget evicts all others", func(t *testing.T) {
		var log removeLog[string, string]
		c := newBytes(t, 1, 10, &log)
		c.Set("a", "a")
		c.Set("b", "b")
		c.Set("c", strings.Repeat("c", 10))
		assert.Len(t, log.take(), 2)
		assert.Equal(t, []string{"c"}, keysOf(c))
	})
	t.Run("too costly/not stored", func(t *testing.T) {
		var log removeLog[string, string]
		c := newBytes(t, 1, 10, &log)
		c.Set("a", "a")
		c.Set("k", strings.Repeat("x", 11))
		_, ok := c.Get("k")
		assert.False(t, ok)
		assert.Empty(t, log.take(), "a rejected entry evicts nothing")
		st := c.Stats()
		assert.Equal(t, uint64(1), st.Rejected)
		assert.Equal(t, uint64(1), st.Sets)
		assert.Equal(t, 1, st.Entries)
		assert.Equal(t, int64(1), st.Cost)
	})
	t.Run("too costly/removes older value", func(t *testing.T) {
		var log removeLog[string, string]
		c := newBytes(t, 1, 10, &log)
		c.Set("k", "old")
		c.Set("k", strings.Repeat("x", 11))
		_, ok := c.Get("k")
		assert.False(t, ok, "Get must never return the older value")
		assert.Equal(t, []removeEvent[string, string]{{"k", "old", ReasonReplaced}}, log.take())
		st := c.Stats()
		assert.Equal(t, uint64(1), st.Rejected)
		assert.Zero(t, st.Entries)
		assert.Zero(t, st.Cost)
	})
	t.Run("budget is the cache's/not split by shard", func(t *testing.T) {
		// With the budget split per shard, two shards held 5 each and
		// every 6-byte value was refused.
		var log removeLog[string, string]
		c := newBytes(t, 2, 10, &log)
		for i := range 20 {
			require.True(t, c.Set(strconv.Itoa(i), "123456"), "Set %d", i)
			v, ok := c.Get(strconv.Itoa(i))
			require.True(t, ok)
			require.Equal(t, "123456", v)
			require.Equal(t, 1, c.Len(), "one 6-byte value fits 10, two do not")
		}
		st := c.Stats()
		assert.Zero(t, st.Rejected)
		assert.Equal(t, uint64(19), st.Evictions)
		assert.Equal(t, int64(6), st.Cost)
	})
	t.Run("negative cost/not stored", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{
			Cost:     func(_ string, v int) int64 { return int64(v) },
			OnRemove: log.record,
		})
		c.Set("k", 1)
		c.Set("k", -1)
		_, ok := c.Get("k")
		assert.False(t, ok)
		assert.Equal(t, []removeEvent[string, int]{{"k", 1, ReasonReplaced}}, log.take())
		c.Set("n", -5)
		_, ok = c.Get("n")
		assert.False(t, ok)
		st := c.Stats()
		assert.Equal(t, uint64(2), st.Rejected)
		assert.Zero(t, st.Entries)
		assert.Zero(t, st.Cost)
	})
	t.Run("MaxEntries and MaxCost together", func(t *testing.T) {
		var log removeLog[string, string]
		c := newManual(t, Config[string, string]{Shards: 1, MaxEntries: 2, MaxCost: 100, Cost: byLen, OnRemove: log.record})
		c.Set("a", "a")
		c.Set("b", "b")
		c.Set("c", "c")
		assert.Equal(t, []removeEvent[string, string]{{"a", "a", ReasonEvicted}}, log.take())
		c.Set("d", strings.Repeat("d", 100))
		assert.Equal(t, []removeEvent[string, string]{
			{"b", "b", ReasonEvicted},
			{"c", "c", ReasonEvicted},
		}, log.take())
	})
	t.Run("Cost sees key and value", func(t *testing.T) {
		c := newManual(t, Config[string, string]{
			Shards: 1, MaxCost: 10,
			Cost: func(k, v string) int64 { return int64(len(k) + len(v)) },
		})
		c.Set("key", "value")
		assert.Equal(t, int64(8), c.Stats().Cost)
		c.Set("key", "value!!!") // 11 > 10
		assert.Zero(t, c.Len())
	})
	// An entry keeps its cost in 32 bits and the rare larger one in a
	// side map of its shard (shard.costOf): totals must stay exact across
	// the boundary, and entries that leave must not stay in the map.
	t.Run("costs beyond 32 bits", func(t *testing.T) {
		var log removeLog[string, int64]
		c := newManual(t, Config[string, int64]{
			Shards: 1, MaxCost: 1 << 36,
			Cost:     func(_ string, v int64) int64 { return v },
			OnRemove: log.record,
		})
		s := &c.shards[0]
		c.Set("big", 1<<33)
		c.Set("edge", 1<<32-1) // the field's marker value itself
		c.Set("small", 1<<32-2)
		c.Set("one", 1)
		assert.Equal(t, int64(1<<33+1<<32-1+1<<32-2+1), c.Stats().Cost)
		assert.Len(t, s.bigCosts, 2)

		assert.True(t, c.Update("big", 7))       // big to small
		c.Set("small", 1<<34)                    // small to big
		require.True(t, c.Update("edge", 1<<35)) // big to big
		assert.Equal(t, int64(7+1<<34+1<<35+1), c.Stats().Cost)
		assert.Len(t, s.bigCosts, 2)

		require.True(t, c.Update("edge", 1<<35)) // big, unchanged: the fast path
		assert.Equal(t, int64(7+1<<34+1<<35+1), c.Stats().Cost)
		assert.Len(t, s.bigCosts, 2)

		assert.True(t, c.Delete("small"))
		assert.Equal(t, int64(7+1<<35+1), c.Stats().Cost)
		assert.Len(t, s.bigCosts, 1)
		log.take()

		// Over budget: the least recently used go, the big one among them.
		c.Set("huge", 1<<36-1<<34)
		assert.Equal(t, []removeEvent[string, int64]{
			{"one", 1, ReasonEvicted},
			{"big", 7, ReasonEvicted},
			{"edge", 1 << 35, ReasonEvicted},
		}, log.take())
		assert.Equal(t, int64(1<<36-1<<34), c.Stats().Cost)
		assert.Len(t, s.bigCosts, 1, "only the live entry's cost is kept")
		v, ok := c.Get("huge")
		assert.True(t, ok)
		assert.Equal(t, int64(1<<36-1<<34), v)

		c.Clear()
		assert.Zero(t, c.Stats().Cost)
		assert.Empty(t, s.bigCosts)
	})
}

func TestRemoveReasons(t *testing.T) {
	var log removeLog[string, int]
	c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 2, OnRemove: log.record})
	steps := []struct {
		name string
		op   func()
		want []removeEvent[string, int]
	}{
		{"replaced/old value", func() { c.Set("a", 1); c.Set("a", 2) },
			[]removeEvent[string, int]{{"a", 1, ReasonReplaced}}},
		{"evicted", func() { c.Set("b", 3); c.Set("c", 4) },
			[]removeEvent[string, int]{{"a", 2, ReasonEvicted}}},
		{"deleted", func() { c.Delete("b") },
			[]removeEvent[string, int]{{"b", 3, ReasonDeleted}}},
		{"deleted/by negative ttl", func() { c.Set("d", 5); c.SetWithTTL("d", 6, -1) },
			[]removeEvent[string, int]{{"d", 5, ReasonDeleted}}},
		{"expired", func() { c.SetWithTTL("e", 7, time.Millisecond); c.advance(2 * time.Millisecond) },
			[]removeEvent[string, int]{{"e", 7, ReasonExpired}}},
		{"cleared", func() { c.Clear() },
			[]removeEvent[string, int]{{"c", 4, ReasonCleared}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.op()
			assert.Equal(t, st.want, log.take())
		})
	}
}

func TestRemoveReasonString(t *testing.T) {
	tests := []struct {
		r    RemoveReason
		want string
	}{
		{ReasonEvicted, "evicted"},
		{ReasonExpired, "expired"},
		{ReasonDeleted, "deleted"},
		{ReasonReplaced, "replaced"},
		{ReasonCleared, "cleared"},
		{0, "RemoveReason(0)"},
		{6, "RemoveReason(6)"},
		{255, "RemoveReason(255)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.r.String())
			assert.Equal(t, tt.want, fmt.Sprint(tt.r))
		})
	}
}

// TestOnRemoveReentrant calls the cache from inside OnRemove, for every
// reason: reads, writes of the same and of other keys, Clear and All. It
// must not deadlock (the callback runs with no lock held).
func TestOnRemoveReentrant(t *testing.T) {
	tests := []struct {
		reason  RemoveReason
		trigger func(c *Cache[string, int])
	}{
		{ReasonEvicted, func(c *Cache[string, int]) { c.Set("x", 1); c.Set("y", 2); c.Set("z", 3) }},
		{ReasonExpired, func(c *Cache[string, int]) { c.SetWithTTL("x", 1, time.Millisecond); c.advance(2 * time.Millisecond) }},
		{ReasonDeleted, func(c *Cache[string, int]) { c.Set("x", 1); c.Delete("x") }},
		{ReasonReplaced, func(c *Cache[string, int]) { c.Set("x", 1); c.Set("x", 2) }},
		{ReasonCleared, func(c *Cache[string, int]) { c.Set("x", 1); c.Set("y", 2); c.Clear() }},
	}
	for _, tt := range tests {
		t.Run("reason="+tt.reason.String(), func(t *testing.T) {
			var (
				c     *Cache[string, int]
				depth int // guards against unbounded recursion through our own writes
				calls int
				seen  []RemoveReason
			)
			c = newManual(t, Config[string, int]{
				Shards: 1, MaxEntries: 2,
				OnRemove: func(k string, v int, why RemoveReason) {
					calls++
					seen = append(seen, why)
					if depth > 0 {
						return
					}
					depth++
					defer func() { depth-- }()
					c.Get(k)
					c.TTL(k)
					c.Len()
					c.Stats()
					for range c.All() {
					}
					c.Set(k, v+100) // put the key back
					c.Update(k, v+200)
					c.SetWithTTL("cb:"+k, v, time.Millisecond)
					c.Delete("cb:" + k)
					if why == ReasonCleared {
						c.Clear()
					}
				},
			})
			noDeadlock(t, func() { tt.trigger(c) })
			assert.Contains(t, seen, tt.reason)
			assert.Positive(t, calls)
		})
	}
}

func TestClear(t *testing.T) {
	t.Run("empties and reports every entry", func(t *testing.T) {
		var log removeLog[int, int]
		c := newManual(t, Config[int, int]{Shards: 8, OnRemove: log.record})
		want := make([]removeEvent[int, int], 0, 100)
		for i := range 100 {
			if i%3 == 0 {
				c.SetWithTTL(i, i*10, time.Hour)
			} else {
				c.Set(i, i*10)
			}
			want = append(want, removeEvent[int, int]{i, i * 10, ReasonCleared})
		}
		c.Clear()
		assert.ElementsMatch(t, want, log.take())
		assert.Zero(t, c.Len())
		assert.Empty(t, keysOf(c))
		assert.Zero(t, wheelLen(c))
		for i := range 100 {
			_, ok := c.Get(i)
			require.False(t, ok)
		}
		st := c.Stats()
		assert.Zero(t, st.Entries)
		assert.Zero(t, st.Cost)
	})
	t.Run("keeps stats", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 1})
		c.Set("a", 1)
		c.Set("b", 2)
		c.Get("b")
		c.Get("a")
		before := c.Stats()
		c.Clear()
		after := c.Stats()
		before.Entries, before.Cost = 0, 0
		assert.Equal(t, before, after)
		assert.Equal(t, Stats{Hits: 1, Misses: 1, Sets: 2, Evictions: 1}, after)
	})
	t.Run("empty cache/no callbacks", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{OnRemove: log.record})
		c.Clear()
		assert.Empty(t, log.take())
	})
	t.Run("usable afterwards/with TTL", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{Shards: 2, OnRemove: log.record})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.SetWithTTL("b", 2, 10*time.Millisecond)
		c.advance(3 * time.Millisecond)
		c.Clear()
		log.take()
		c.advance(20 * time.Millisecond)
		assert.Empty(t, log.take(), "a cleared timer must not fire")
		c.SetWithTTL("a", 3, 10*time.Millisecond) // deadline at 33ms
		c.Set("c", 4)
		for range 9 {
			c.advance(time.Millisecond)
			v, ok := c.Get("a")
			require.True(t, ok)
			require.Equal(t, 3, v)
		}
		assert.Empty(t, log.take())
		c.advance(time.Millisecond)
		_, ok := c.Get("a")
		assert.False(t, ok)
		c.advance(2 * time.Millisecond)
		assert.Equal(t, []removeEvent[string, int]{{"a", 3, ReasonExpired}}, log.take())
		assert.Equal(t, 1, c.Len())
	})
}

func TestAll(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		assert.Empty(t, keysOf(c))
	})
	t.Run("every live entry exactly once", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 16})
		for i := range 1000 {
			c.Set(i, -i)
		}
		seen := map[int]int{}
		for k, v := range c.All() {
			require.Equal(t, -k, v)
			seen[k]++
		}
		require.Len(t, seen, 1000)
		for k, n := range seen {
			require.Equal(t, 1, n, "key %d yielded %d times", k, n)
		}
	})
	t.Run("skips expired entries", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4})
		for i := range 100 {
			if i%10 == 0 {
				c.SetWithTTL(i, i, 5*time.Millisecond)
			} else {
				c.Set(i, i)
			}
		}
		c.advance(5 * time.Millisecond) // deadline == now: expired, not reclaimed
		require.Equal(t, 100, c.Len())
		ks := keysOf(c)
		assert.Len(t, ks, 90)
		for _, k := range ks {
			assert.NotZero(t, k%10, "expired key %d yielded", k)
		}
	})
	t.Run("early break stops", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4})
		for i := range 100 {
			c.Set(i, i)
		}
		n := 0
		for range c.All() {
			n++
			if n == 3 {
				break
			}
		}
		assert.Equal(t, 3, n)
	})
	t.Run("body may write/one shard", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1})
		for i := range 10 {
			c.Set(strconv.Itoa(i), i)
		}
		var yielded []string
		noDeadlock(t, func() {
			for k, v := range c.All() {
				yielded = append(yielded, k)
				c.Delete(k)
				c.Set(k+"'", v)
				c.Get(k + "'")
			}
		})
		assert.Len(t, yielded, 10, "the shard was copied before the body ran")
		assert.Equal(t, 10, c.Len())
		for i := range 10 {
			_, ok := c.Get(strconv.Itoa(i) + "'")
			assert.True(t, ok)
		}
	})
	t.Run("body may write/many shards", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 16})
		for i := range 500 {
			c.Set(i, i)
		}
		seen := map[int]bool{}
		noDeadlock(t, func() {
			for k := range c.All() {
				assert.False(t, seen[k], "key %d yielded twice", k)
				seen[k] = true
				assert.True(t, c.Delete(k))
			}
		})
		assert.Len(t, seen, 500)
		assert.Zero(t, c.Len())
	})
	t.Run("not an access", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 2, OnRemove: log.record})
		c.Set("a", 1)
		c.Set("b", 2)
		for range c.All() {
		}
		c.Set("c", 3)
		assert.Equal(t, []removeEvent[string, int]{{"a", 1, ReasonEvicted}}, log.take())
		st := c.Stats()
		assert.Zero(t, st.Hits)
		assert.Zero(t, st.Misses)
	})
}

func TestStats(t *testing.T) {
	t.Run("sequential scenario", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 3})
		steps := []struct {
			name string
			op   func()
			want Stats
		}{
			{"new", func() {}, Stats{}},
			{"three sets", func() { c.Set("a", 1); c.Set("b", 2); c.Set("c", 3) },
				Stats{Sets: 3, Entries: 3, Cost: 3}},
			{"two hits one miss", func() { c.Get("a"); c.Get("a"); c.Get("z") },
				Stats{Hits: 2, Misses: 1, Sets: 3, Entries: 3, Cost: 3}},
			{"set evicts b", func() { c.Set("d", 4) },
				Stats{Hits: 2, Misses: 1, Sets: 4, Evictions: 1, Entries: 3, Cost: 3}},
			{"set with ttl evicts c", func() { c.SetWithTTL("e", 5, time.Millisecond) },
				Stats{Hits: 2, Misses: 1, Sets: 5, Evictions: 2, Expiring: 1, Entries: 3, Cost: 3}},
			{"e expires", func() { c.advance(2 * time.Millisecond) },
				Stats{Hits: 2, Misses: 1, Sets: 5, Evictions: 2, Expirations: 1, Entries: 2, Cost: 2}},
			{"miss on expired", func() { c.Get("e") },
				Stats{Hits: 2, Misses: 2, Sets: 5, Evictions: 2, Expirations: 1, Entries: 2, Cost: 2}},
			{"update is not a set", func() { c.Update("a", 10) },
				Stats{Hits: 2, Misses: 2, Sets: 5, Evictions: 2, Expirations: 1, Entries: 2, Cost: 2}},
			{"delete", func() { c.Delete("d") },
				Stats{Hits: 2, Misses: 2, Sets: 5, Evictions: 2, Expirations: 1, Entries: 1, Cost: 1}},
			{"many hits", func() {
				for range 100 {
					c.Get("a")
				}
			}, Stats{Hits: 102, Misses: 2, Sets: 5, Evictions: 2, Expirations: 1, Entries: 1, Cost: 1}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				st.op()
				assert.Equal(t, st.want, c.Stats())
			})
		}
	})
	t.Run("hits and misses exact under concurrency", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4})
		for i := range 64 {
			c.Set(i, i)
		}
		const goroutines, each = 8, 2048 // each: a multiple of 128
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					c.Get((i + g) % 128) // half the keys are absent
				}
			})
		}
		wg.Wait()
		st := c.Stats()
		assert.Equal(t, uint64(goroutines*each/2), st.Hits)
		assert.Equal(t, uint64(goroutines*each/2), st.Misses)
	})
	t.Run("HitRatio", func(t *testing.T) {
		tests := []struct {
			hits, misses uint64
			want         float64
		}{
			{0, 0, 0},
			{1, 0, 1},
			{0, 1, 0},
			{1, 3, 0.25},
			{2, 1, 2.0 / 3},
		}
		for _, tt := range tests {
			assert.InDelta(t, tt.want, Stats{Hits: tt.hits, Misses: tt.misses}.HitRatio(), 1e-12,
				"hits=%d misses=%d", tt.hits, tt.misses)
		}
	})
}

func TestClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log removeLog[string, int]
		c, err := New(Config[string, int]{OnRemove: log.record})
		require.NoError(t, err)
		c.Set("a", 1)
		c.SetWithTTL("b", 2, time.Hour)
		require.NoError(t, c.Close())
		require.NoError(t, c.Close(), "Close is idempotent")
		assert.Empty(t, log.take(), "Close does not call OnRemove")

		_, ok := c.Get("a")
		assert.False(t, ok, "Get after Close")
		assert.Zero(t, c.Len())
		c.Set("c", 3)
		c.SetWithTTL("d", 4, time.Millisecond)
		c.SetWithTTL("a", 4, -1)
		assert.False(t, c.Update("a", 5))
		assert.False(t, c.Delete("a"))
		c.Clear()
		_, ok = c.Get("c")
		assert.False(t, ok, "Set after Close")
		assert.Zero(t, c.Len())
		assert.Empty(t, keysOf(c))
		assert.Zero(t, c.Stats().Entries)
		assert.Empty(t, log.take())
	})
}

// TestJanitor runs real caches, background goroutine included, inside a
// synctest bubble: time is fake and exact, and synctest.Test itself fails if
// any goroutine the cache started is still around when the test returns.
func TestJanitor(t *testing.T) {
	closeCases := []struct {
		name  string
		setup func(c *Cache[string, int])
	}{
		{"right after New", func(c *Cache[string, int]) {}},
		{"while idle", func(c *Cache[string, int]) { c.Set("a", 1); time.Sleep(10 * time.Millisecond) }},
		{"with timers pending", func(c *Cache[string, int]) {
			c.SetWithTTL("a", 1, time.Hour)
			time.Sleep(10 * time.Millisecond)
		}},
		{"after expiry", func(c *Cache[string, int]) {
			c.SetWithTTL("a", 1, time.Millisecond)
			time.Sleep(10 * time.Millisecond)
		}},
		{"twice concurrently", func(c *Cache[string, int]) {
			c.SetWithTTL("a", 1, time.Hour)
			go c.Close()
		}},
	}
	for _, tt := range closeCases {
		t.Run("no goroutine left after Close/"+tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, err := New(Config[string, int]{Shards: 4})
				require.NoError(t, err)
				tt.setup(c)
				require.NoError(t, c.Close())
			})
		})
	}

	t.Run("expires on time", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			type fired struct {
				at     time.Time
				key    string
				reason RemoveReason
			}
			var (
				mu  sync.Mutex
				got []fired
			)
			c, err := New(Config[string, int]{OnRemove: func(k string, _ int, why RemoveReason) {
				mu.Lock()
				got = append(got, fired{time.Now(), k, why})
				mu.Unlock()
			}})
			require.NoError(t, err)
			defer c.Close()

			start := time.Now()
			deadline := start.Add(50 * time.Millisecond)
			c.SetWithTTL("k", 1, 50*time.Millisecond)
			time.Sleep(49 * time.Millisecond)
			synctest.Wait()
			_, ok := c.Get("k")
			assert.True(t, ok, "1ms before the deadline")
			time.Sleep(time.Millisecond)
			synctest.Wait()
			_, ok = c.Get("k")
			assert.False(t, ok, "at the deadline")
			time.Sleep(2 * clockTick)
			synctest.Wait()
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, got, 1, "OnRemove must have fired by deadline + 2 ticks")
			assert.Equal(t, "k", got[0].key)
			assert.Equal(t, ReasonExpired, got[0].reason)
			assert.False(t, got[0].at.Before(deadline), "fired at +%v, before the deadline", got[0].at.Sub(start))
			assert.False(t, got[0].at.After(deadline.Add(2*clockTick)), "fired at +%v", got[0].at.Sub(start))
			assert.Zero(t, c.Len())
		})
	})

	t.Run("expires many on time", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var (
				mu    sync.Mutex
				fired = map[int]time.Time{}
			)
			c, err := New(Config[int, int]{Shards: 8, OnRemove: func(k, _ int, why RemoveReason) {
				mu.Lock()
				fired[k] = time.Now()
				mu.Unlock()
			}})
			require.NoError(t, err)
			defer c.Close()
			start := time.Now()
			deadlines := map[int]time.Time{}
			for i := range 1000 {
				ttl := time.Duration(1+i*7919%5000) * 37 * time.Microsecond // up to ~185ms, unaligned
				c.SetWithTTL(i, i, ttl)
				deadlines[i] = start.Add(ttl)
			}
			time.Sleep(200 * time.Millisecond)
			synctest.Wait()
			assert.Zero(t, c.Len())
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, fired, 1000)
			for k, at := range fired {
				d := deadlines[k]
				require.False(t, at.Before(d), "key %d fired %v before its deadline", k, d.Sub(at))
				require.False(t, at.After(d.Add(2*clockTick)), "key %d fired %v after its deadline", k, at.Sub(d))
			}
		})
	})

	t.Run("idles and wakes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var log removeLog[string, int]
			c, err := New(Config[string, int]{OnRemove: log.record})
			require.NoError(t, err)
			defer c.Close()

			c.Set("plain", 1)
			time.Sleep(2 * clockTick)
			synctest.Wait()
			require.True(t, c.idle.Load(), "no TTL entry: the janitor must sleep")

			time.Sleep(10 * time.Second) // a long idle period
			synctest.Wait()
			require.True(t, c.idle.Load())

			start := time.Now()
			c.SetWithTTL("k", 1, 50*time.Millisecond)
			synctest.Wait()
			require.False(t, c.idle.Load(), "a TTL entry must wake the janitor")
			ttl, ok := c.TTL("k")
			require.True(t, ok)
			require.Equal(t, 50*time.Millisecond, ttl, "the deadline must not be computed on a stale clock")

			time.Sleep(49 * time.Millisecond)
			synctest.Wait()
			_, ok = c.Get("k")
			assert.True(t, ok, "1ms before the deadline, after an idle period")
			assert.Empty(t, log.take())
			time.Sleep(time.Millisecond)
			synctest.Wait()
			_, ok = c.Get("k")
			assert.False(t, ok, "at the deadline, after an idle period")
			time.Sleep(2 * clockTick)
			synctest.Wait()
			assert.Equal(t, []removeEvent[string, int]{{"k", 1, ReasonExpired}}, log.take(),
				"expired by +%v", time.Since(start))

			time.Sleep(2 * clockTick)
			synctest.Wait()
			assert.True(t, c.idle.Load(), "the last timer fired: the janitor must sleep again")
			_, ok = c.Get("plain")
			assert.True(t, ok)
		})
	})

	// idles when the last timer goes: however the last entry with a
	// deadline leaves the cache, the janitor must stop ticking within a
	// few ticks ("When no entry has a deadline the goroutine sleeps"), not
	// keep waking every tick until that entry's old deadline.
	removers := []struct {
		name   string
		remove func(c *Cache[string, int])
	}{
		{"Delete", func(c *Cache[string, int]) { c.Delete("k") }},
		{"SetWithTTL negative", func(c *Cache[string, int]) { c.SetWithTTL("k", 2, -1) }},
		{"Set without ttl", func(c *Cache[string, int]) { c.Set("k", 2) }},
		{"eviction", func(c *Cache[string, int]) { c.Set("other", 2) }},
		{"Clear", func(c *Cache[string, int]) { c.Clear() }},
	}
	for _, tt := range removers {
		t.Run("idles when the last timer goes/"+tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, err := New(Config[string, int]{Shards: 1, MaxEntries: 1})
				require.NoError(t, err)
				defer c.Close()
				c.SetWithTTL("k", 1, time.Hour)
				time.Sleep(5 * clockTick)
				synctest.Wait()
				require.False(t, c.idle.Load())
				tt.remove(c)
				require.Zero(t, wheelLen(c))
				time.Sleep(5 * clockTick)
				synctest.Wait()
				assert.True(t, c.idle.Load(), "no entry has a deadline, yet the janitor still ticks")
			})
		})
	}
}

// TestOnRemoveCloses calls Close from inside OnRemove for an expiry that
// the background goroutine reports. OnRemove "may call the cache", so this
// must return rather than deadlock.
func TestOnRemoveCloses(t *testing.T) {
	closed := make(chan error, 1)
	var c *Cache[string, int]
	c, err := New(Config[string, int]{OnRemove: func(_ string, _ int, why RemoveReason) {
		if why == ReasonExpired {
			closed <- c.Close()
		}
	}})
	require.NoError(t, err)
	c.SetWithTTL("k", 1, time.Millisecond)
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close called from OnRemove on the expiry goroutine did not return within 5s: " +
			"Close waits for that goroutine to exit, and it is the one running the callback")
	}
}

type userID string

type pointKey struct {
	X, Y int
	Name string
}

// roundTrip stores every key with its index, reads each back, then deletes
// them one by one and checks the others stay.
func roundTrip[K comparable](t *testing.T, cfg Config[K, int], keys []K) {
	t.Helper()
	c := newManual(t, cfg)
	for i, k := range keys {
		c.Set(k, i)
	}
	require.Equal(t, len(keys), c.Len())
	for i, k := range keys {
		v, ok := c.Get(k)
		require.True(t, ok, "key %v", k)
		require.Equal(t, i, v, "key %v", k)
	}
	for i, k := range keys {
		require.True(t, c.Delete(k), "key %v", k)
		_, ok := c.Get(k)
		require.False(t, ok, "key %v after Delete", k)
		if i+1 < len(keys) {
			v, ok := c.Get(keys[i+1])
			require.True(t, ok)
			require.Equal(t, i+1, v)
		}
	}
	require.Zero(t, c.Len())
}

func TestKeyTypes(t *testing.T) {
	const n = 300
	t.Run("string", func(t *testing.T) {
		keys := []string{""}
		for i := range n {
			keys = append(keys, "k"+strconv.Itoa(i))
		}
		roundTrip(t, Config[string, int]{Shards: 8}, keys)
	})
	t.Run("int", func(t *testing.T) {
		keys := []int{math.MinInt, math.MaxInt, -1}
		for i := range n {
			keys = append(keys, i)
		}
		roundTrip(t, Config[int, int]{Shards: 8}, keys)
	})
	t.Run("uint64", func(t *testing.T) {
		keys := []uint64{math.MaxUint64}
		for i := range uint64(n) {
			keys = append(keys, (i+1)<<32, i)
		}
		roundTrip(t, Config[uint64, int]{Shards: 8}, keys)
	})
	t.Run("int32", func(t *testing.T) {
		keys := []int32{math.MinInt32, math.MaxInt32, -1}
		for i := range int32(n) {
			keys = append(keys, i)
		}
		roundTrip(t, Config[int32, int]{Shards: 8}, keys)
	})
	t.Run("named string", func(t *testing.T) {
		keys := []userID{""}
		for i := range n {
			keys = append(keys, userID("user-"+strconv.Itoa(i)))
		}
		roundTrip(t, Config[userID, int]{Shards: 8}, keys)
	})
	t.Run("struct", func(t *testing.T) {
		var keys []pointKey
		for i := range n {
			keys = append(keys, pointKey{i, -i, "p"}, pointKey{i, i, ""})
		}
		roundTrip(t, Config[pointKey, int]{Shards: 8}, keys)
	})
}

// TestCollidingHasher gives every key the same hash: the shard must still
// keep them apart through the collision chain.
func TestCollidingHasher(t *testing.T) {
	zero := func(string) uint64 { return 0 }
	t.Run("get set delete", func(t *testing.T) {
		keys := make([]string, 50)
		for i := range keys {
			keys[i] = "k" + strconv.Itoa(i)
		}
		roundTrip(t, Config[string, int]{Shards: 4, Hasher: zero}, keys)
	})
	t.Run("all in one shard", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 4, Hasher: zero})
		for i := range 10 {
			c.Set(strconv.Itoa(i), i)
		}
		assert.Equal(t, 10, c.shards[0].len)
		assert.Len(t, keysOf(c), 10)
	})
	t.Run("delete from head middle and tail of chain", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1, Hasher: zero})
		for i := range 5 {
			c.Set(strconv.Itoa(i), i)
		}
		for _, k := range []string{"2", "4", "0"} {
			require.True(t, c.Delete(k))
		}
		assert.ElementsMatch(t, []string{"1", "3"}, keysOf(c))
		c.Set("1", 10)
		require.True(t, c.Update("3", 30))
		v, _ := c.Get("1")
		assert.Equal(t, 10, v)
		v, _ = c.Get("3")
		assert.Equal(t, 30, v)
		assert.Equal(t, 2, c.Len())
	})
	t.Run("eviction", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 3, Hasher: zero, OnRemove: log.record})
		c.Set("a", 1)
		c.Set("b", 2)
		c.Set("c", 3)
		c.Get("a")
		c.Set("d", 4)
		c.Set("e", 5)
		assert.Equal(t, []removeEvent[string, int]{{"b", 2, ReasonEvicted}, {"c", 3, ReasonEvicted}}, log.take())
		assert.ElementsMatch(t, []string{"a", "d", "e"}, keysOf(c))
	})
	t.Run("expiry", func(t *testing.T) {
		var log removeLog[string, int]
		c := newManual(t, Config[string, int]{Shards: 1, Hasher: zero, OnRemove: log.record})
		c.SetWithTTL("a", 1, 10*time.Millisecond)
		c.Set("b", 2)
		c.SetWithTTL("c", 3, 5*time.Millisecond)
		c.SetWithTTL("d", 4, 10*time.Millisecond)
		c.advance(5 * time.Millisecond)
		_, ok := c.Get("c")
		assert.False(t, ok)
		c.advance(2 * time.Millisecond)
		assert.Equal(t, []removeEvent[string, int]{{"c", 3, ReasonExpired}}, log.take())
		assert.ElementsMatch(t, []string{"a", "b", "d"}, keysOf(c))
		c.advance(5 * time.Millisecond)
		assert.ElementsMatch(t, []removeEvent[string, int]{{"a", 1, ReasonExpired}, {"d", 4, ReasonExpired}}, log.take())
		assert.Equal(t, []string{"b"}, keysOf(c))
	})
}

func TestAllocs(t *testing.T) {
	const runs = 1000
	t.Run("Get hit", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1})
		c.Set("present", 1)
		assert.Zero(t, testing.AllocsPerRun(runs, func() { c.Get("present") }))
	})
	t.Run("Get hit with ttl", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1})
		c.SetWithTTL("present", 1, time.Hour)
		assert.Zero(t, testing.AllocsPerRun(runs, func() { c.Get("present") }))
	})
	t.Run("Get miss", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1})
		c.Set("present", 1)
		assert.Zero(t, testing.AllocsPerRun(runs, func() { c.Get("absent") }))
	})
	t.Run("Get hit int key", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 1})
		c.Set(42, 1)
		assert.Zero(t, testing.AllocsPerRun(runs, func() { c.Get(42) }))
	})
	t.Run("Set existing key", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1})
		c.Set("present", 1)
		i := 0
		assert.Zero(t, testing.AllocsPerRun(runs, func() { i++; c.Set("present", i) }))
	})
	t.Run("Set existing key with ttl", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1})
		c.SetWithTTL("present", 1, time.Hour)
		i := 0
		assert.Zero(t, testing.AllocsPerRun(runs, func() { i++; c.SetWithTTL("present", i, time.Hour) }))
	})
	t.Run("Update", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1})
		c.Set("present", 1)
		i := 0
		assert.Zero(t, testing.AllocsPerRun(runs, func() { i++; c.Update("present", i) }))
	})
	t.Run("Set new key", func(t *testing.T) {
		// MaxEntries pre-sizes the shard's map, so only the entry allocates.
		c := newManual(t, Config[int, int]{Shards: 1, MaxEntries: 1 << 16})
		next := 0
		allocs := testing.AllocsPerRun(10*runs, func() { next++; c.Set(next, next) })
		assert.LessOrEqual(t, allocs, 1.0)
	})
	t.Run("Set new key that evicts", func(t *testing.T) {
		// The evicted entry is reused for the next new key.
		c := newManual(t, Config[int, int]{Shards: 1, MaxEntries: 100})
		next := 0
		assert.Zero(t, testing.AllocsPerRun(10*runs, func() { next++; c.Set(next, next) }))
	})
	t.Run("Set new key with ttl that evicts", func(t *testing.T) {
		// The evicted entry and its timer are both reused.
		c := newManual(t, Config[int, int]{Shards: 1, MaxEntries: 100})
		next := 0
		assert.Zero(t, testing.AllocsPerRun(10*runs, func() { next++; c.SetWithTTL(next, next, time.Hour) }))
	})
	t.Run("Set new key with ttl as others expire", func(t *testing.T) {
		// Only the entry allocates: the timer of the key that just expired
		// is reused.
		c := newManual(t, Config[int, int]{Shards: 1, MaxEntries: 1 << 16})
		next := 0
		allocs := testing.AllocsPerRun(runs, func() {
			next++
			c.SetWithTTL(next, next, time.Millisecond)
			c.advance(2 * time.Millisecond)
		})
		assert.LessOrEqual(t, allocs, 1.0)
		assert.Zero(t, c.Len(), "every key expired")
	})
}

// TestRecycledEntries: an evicted entry is reused for a later key. What was
// stored in it must still be reported to OnRemove, must not be readable
// under its old key, and a hit recorded on it before the reuse must not
// promote the key that now lives in it.
func TestRecycledEntries(t *testing.T) {
	type removed struct {
		key   string
		value int
	}
	var got []removed
	c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 3, OnRemove: func(k string, v int, why RemoveReason) {
		if why == ReasonEvicted {
			got = append(got, removed{k, v})
		}
	}})
	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3)
	s := c.shardFor(c.hash("a"))
	s.mu.RLock()
	entryA := s.m.lookup(c.hash("a"), "a")
	s.mu.RUnlock()

	c.Set("d", 4) // evicts a: its entry becomes the spare
	c.Set("e", 5) // reuses a's entry for e, evicts b
	require.Equal(t, []removed{{"a", 1}, {"b", 2}}, got)
	s.mu.RLock()
	require.Same(t, entryA, s.m.lookup(c.hash("e"), "e"), "e should live in a's old entry")
	s.mu.RUnlock()
	_, ok := c.Get("a")
	require.False(t, ok)
	v, ok := c.Get("e")
	require.True(t, ok)
	require.Equal(t, 5, v)

	// Make e the least recently used: c, d, then e at the back.
	require.True(t, c.Update("c", 3))
	require.True(t, c.Update("d", 4))
	// A Get of a, whose stripe was full, still holding a's entry when it
	// gets the policy lock: it must not promote e.
	s.recordFull(entryA, "a")
	c.Set("f", 6)
	require.Equal(t, removed{"e", 5}, got[len(got)-1], "a stale record promoted the entry's new key")

	// The same call with the key the entry holds does promote it.
	s.mu.RLock()
	entryF := s.m.lookup(c.hash("f"), "f")
	s.mu.RUnlock()
	require.True(t, c.Update("c", 3))
	require.True(t, c.Update("d", 4)) // f is now at the back
	s.recordFull(entryF, "f")
	c.Set("g", 7)
	require.Equal(t, removed{"c", 3}, got[len(got)-1])
}

// TestStatsSets pins what Stats.Sets and Stats.Rejected count, call by call.
func TestStatsSets(t *testing.T) {
	ctx := context.Background()
	loadInt := func(v int, ttl time.Duration) LoadFunc[string, int] {
		return func(context.Context, string) (int, time.Duration, error) { return v, ttl, nil }
	}
	var snap bytes.Buffer
	{
		src := newManual(t, Config[string, int]{})
		src.Set("x", 1)
		src.Set("y", 2)
		src.SetWithTTL("z", 3, time.Hour)
		require.NoError(t, src.SaveTo(&snap))
	}
	tests := []struct {
		name          string
		op            func(c *Cache[string, int])
		sets, rejects uint64
	}{
		{"Set", func(c *Cache[string, int]) { c.Set("a", 1) }, 1, 0},
		{"Set replacing", func(c *Cache[string, int]) { c.Set("p", 1) }, 1, 0},
		{"Set too costly", func(c *Cache[string, int]) { c.Set("a", 100) }, 0, 1},
		{"SetWithTTL", func(c *Cache[string, int]) { c.SetWithTTL("a", 1, time.Minute) }, 1, 0},
		{"SetWithTTL negative deletes", func(c *Cache[string, int]) { c.SetWithTTL("p", 1, -1) }, 0, 0},
		{"Update", func(c *Cache[string, int]) { c.Update("p", 2) }, 0, 0},
		{"Update too costly", func(c *Cache[string, int]) { c.Update("p", 100) }, 0, 1},
		{"Compute set", func(c *Cache[string, int]) {
			c.Compute("a", func(int, bool) (int, ComputeOp) { return 1, ComputeSet })
		}, 1, 0},
		{"Compute set too costly", func(c *Cache[string, int]) {
			c.Compute("a", func(int, bool) (int, ComputeOp) { return 100, ComputeSet })
		}, 0, 1},
		{"Compute keep", func(c *Cache[string, int]) {
			c.Compute("p", func(int, bool) (int, ComputeOp) { return 1, ComputeKeep })
		}, 0, 0},
		{"Compute delete", func(c *Cache[string, int]) {
			c.Compute("p", func(int, bool) (int, ComputeOp) { return 1, ComputeDelete })
		}, 0, 0},
		{"GetOrLoad load", func(c *Cache[string, int]) { c.GetOrLoad(ctx, "a", loadInt(1, 0)) }, 1, 0},
		{"GetOrLoad hit", func(c *Cache[string, int]) { c.GetOrLoad(ctx, "p", loadInt(1, 0)) }, 0, 0},
		{"GetOrLoad negative ttl", func(c *Cache[string, int]) { c.GetOrLoad(ctx, "a", loadInt(1, -1)) }, 0, 0},
		{"LoadFrom", func(c *Cache[string, int]) {
			require.NoError(t, c.LoadFrom(bytes.NewReader(snap.Bytes())))
		}, 3, 0},
		{"Delete", func(c *Cache[string, int]) { c.Delete("p") }, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newManual(t, Config[string, int]{Shards: 1, MaxCost: 10, Cost: func(_ string, v int) int64 { return int64(v) }})
			c.Set("p", 1) // present before the call
			before := c.Stats()
			tt.op(c)
			after := c.Stats()
			assert.Equal(t, tt.sets, after.Sets-before.Sets, "Sets")
			assert.Equal(t, tt.rejects, after.Rejected-before.Rejected, "Rejected")
		})
	}
}
