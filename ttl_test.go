package shardcache

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// removed records OnRemove calls.
type removed[K comparable] struct {
	keys    []K
	reasons []RemoveReason
}

func (r *removed[K]) add(k K, _ int, why RemoveReason) {
	r.keys = append(r.keys, k)
	r.reasons = append(r.reasons, why)
}

func TestExpire(t *testing.T) {
	t.Run("positive/expires after ttl", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		require.True(t, c.Expire("a", 10*time.Millisecond))
		ttl, ok := c.TTL("a")
		require.True(t, ok)
		assert.Equal(t, 10*time.Millisecond, ttl)
		c.advance(9 * time.Millisecond)
		v, ok := c.Get("a")
		assert.True(t, ok)
		assert.Equal(t, 1, v)
		c.advance(time.Millisecond)
		_, ok = c.Get("a")
		assert.False(t, ok)
		c.advance(clockTick) // the wheel fires once the deadline's tick has passed
		assert.Zero(t, c.Len(), "the wheel reclaimed it")
	})
	t.Run("positive/shortens and lengthens", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, time.Hour)
		require.True(t, c.Expire("a", 5*time.Millisecond))
		c.advance(6 * time.Millisecond)
		assert.Zero(t, c.Len())

		c.SetWithTTL("b", 1, 5*time.Millisecond)
		require.True(t, c.Expire("b", time.Hour))
		c.advance(10 * time.Millisecond)
		_, ok := c.Get("b")
		assert.True(t, ok)
	})
	t.Run("zero/persists", func(t *testing.T) {
		var rm removed[string]
		c := newManual(t, Config[string, int]{OnRemove: rm.add})
		c.SetWithTTL("a", 1, 5*time.Millisecond)
		require.True(t, c.Expire("a", 0))
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Zero(t, ttl)
		c.advance(time.Hour)
		_, ok = c.Get("a")
		assert.True(t, ok)
		assert.Empty(t, rm.keys)
		assert.Equal(t, noDue, int(c.shardFor(c.hash("a")).due()), "the cancelled timer leaves no work due")
	})
	t.Run("negative/removes as deleted", func(t *testing.T) {
		var rm removed[string]
		c := newManual(t, Config[string, int]{OnRemove: rm.add})
		c.Set("a", 1)
		assert.True(t, c.Expire("a", -1))
		_, ok := c.Get("a")
		assert.False(t, ok)
		assert.Zero(t, c.Len())
		assert.Equal(t, []RemoveReason{ReasonDeleted}, rm.reasons)
		assert.False(t, c.Expire("a", -1), "absent now")
	})
	t.Run("absent/false, nothing stored", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		assert.False(t, c.Expire("a", time.Hour))
		assert.False(t, c.Expire("a", 0))
		assert.Zero(t, c.Len())
	})
	t.Run("expired/reclaimed, false", func(t *testing.T) {
		var rm removed[string]
		c := newManual(t, Config[string, int]{OnRemove: rm.add})
		c.SetWithTTL("a", 1, time.Millisecond)
		c.clock.now.Add(int64(time.Millisecond)) // past the deadline, wheel not advanced
		assert.False(t, c.Expire("a", time.Hour))
		assert.Equal(t, []RemoveReason{ReasonExpired}, rm.reasons)
		assert.Zero(t, c.Len())
	})
	t.Run("value, cost and order untouched", func(t *testing.T) {
		var rm removed[string]
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 2, OnRemove: rm.add,
			Cost: func(string, int) int64 { return 3 }})
		c.Set("old", 1)
		c.Set("new", 2)
		require.True(t, c.Expire("old", time.Hour)) // not an access: "old" stays the LRU victim
		e, ok := c.GetEntry("old")
		require.True(t, ok)
		assert.Equal(t, 1, e.Value)
		assert.Equal(t, int64(3), e.Cost)
		assert.Equal(t, time.Hour, e.TTL)
		c.Set("third", 3)
		assert.Equal(t, []string{"old"}, rm.keys)
		assert.Equal(t, []RemoveReason{ReasonEvicted}, rm.reasons)
		assert.Equal(t, int64(6), c.Cost())
		st := c.Stats()
		assert.Zero(t, st.Hits+st.Misses, "Expire is not counted")
	})
	t.Run("after Close/false", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		require.NoError(t, c.Close())
		assert.False(t, c.Expire("a", time.Hour))
	})
}

func TestExpireAt(t *testing.T) {
	t.Run("future/expires then", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		require.True(t, c.ExpireAt("a", time.Now().Add(time.Hour)))
		ttl, ok := c.TTL("a")
		require.True(t, ok)
		assert.InDelta(t, float64(time.Hour), float64(ttl), float64(time.Second))
		c.advance(time.Hour)
		_, ok = c.Get("a")
		assert.False(t, ok)
	})
	t.Run("wall-clock time without monotonic reading", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		require.True(t, c.ExpireAt("a", time.Unix(time.Now().Unix()+3600, 0)))
		ttl, _ := c.TTL("a")
		assert.InDelta(t, float64(time.Hour), float64(ttl), float64(2*time.Second))
	})
	t.Run("zero/never", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("a", 1, time.Millisecond)
		require.True(t, c.ExpireAt("a", time.Time{}))
		c.advance(time.Hour)
		_, ok := c.Get("a")
		assert.True(t, ok)
	})
	t.Run("past/removes as deleted", func(t *testing.T) {
		var rm removed[string]
		c := newManual(t, Config[string, int]{OnRemove: rm.add})
		c.Set("a", 1)
		assert.True(t, c.ExpireAt("a", time.Unix(1, 0)))
		assert.Zero(t, c.Len())
		assert.Equal(t, []RemoveReason{ReasonDeleted}, rm.reasons)
		assert.False(t, c.ExpireAt("a", time.Unix(1, 0)))
	})
}

// TestExpireWakesJanitor: a deadline given by Expire to a cache whose
// janitor sleeps (no deadline anywhere) is kept: the janitor wakes and
// reclaims the entry.
func TestExpireWakesJanitor(t *testing.T) {
	expired := make(chan string, 1)
	c, err := New(Config[string, int]{OnRemove: func(k string, _ int, why RemoveReason) {
		if why == ReasonExpired {
			expired <- k
		}
	}})
	require.NoError(t, err)
	defer c.Close()
	c.Set("a", 1)
	require.Eventually(t, c.idle.Load, time.Second, time.Millisecond, "the janitor goes idle")
	require.True(t, c.Expire("a", 5*time.Millisecond))
	select {
	case k := <-expired:
		assert.Equal(t, "a", k)
	case <-time.After(5 * time.Second):
		t.Fatal("the entry never expired")
	}
}

func TestExpireAllocs(t *testing.T) {
	c := newManual(t, Config[string, int]{Shards: 1})
	c.SetWithTTL("a", 1, time.Hour)
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		c.Expire("a", time.Hour)
		c.Expire("a", 0)
	}))
}

// TestExpireAtReadsBack checks that a deadline given to ExpireAt reads back
// as the same Time from GetEntry and Tx.Get, to the millisecond Redis's
// EXPIREAT and PEXPIRETIME use, whatever the coarse clock's lag.
func TestExpireAtReadsBack(t *testing.T) {
	c, err := New(Config[string, int]{})
	require.NoError(t, err)
	defer c.Close()
	for i := range 50 {
		k := fmt.Sprint("k", i)
		c.Set(k, i)
		want := time.UnixMilli(time.Now().Add(time.Hour).UnixMilli() + int64(i))
		require.True(t, c.ExpireAt(k, want))
		e, ok := c.GetEntry(k)
		require.True(t, ok)
		assert.Equal(t, want.UnixMilli(), e.Deadline.UnixMilli())
		c.Atomic([]string{k}, func(tx *Tx[string, int]) {
			e, _ := tx.Peek(k)
			assert.Equal(t, want.UnixMilli(), e.Deadline.UnixMilli())
		})
		time.Sleep(100 * time.Microsecond)
	}
}
