package shardcache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRandomKey(t *testing.T) {
	t.Run("empty/false", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4})
		_, ok := c.RandomKey()
		assert.False(t, ok)
		for i := range 1000 {
			c.Set(i, i)
		}
		c.Clear()
		_, ok = c.RandomKey()
		assert.False(t, ok, "emptied: the tables are large and empty")
	})
	t.Run("one key/that key", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 64})
		c.Set(7, 7)
		for range 100 {
			k, ok := c.RandomKey()
			require.True(t, ok)
			require.Equal(t, 7, k)
		}
	})
	t.Run("mostly expired/finds the live one", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4})
		for i := range 10000 {
			c.SetWithTTL(i, i, time.Millisecond)
		}
		c.Set(-1, 0)
		c.clock.now.Add(int64(time.Millisecond)) // expired, not reclaimed
		for range 100 {
			k, ok := c.RandomKey()
			require.True(t, ok)
			require.Equal(t, -1, k)
		}
		c.Delete(-1)
		_, ok := c.RandomKey()
		assert.False(t, ok, "only expired entries left")
	})
	t.Run("spread", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 4})
		const keys, draws = 100, 40000
		for i := range keys {
			c.Set(i, i)
		}
		seen := make([]int, keys)
		for range draws {
			k, ok := c.RandomKey()
			require.True(t, ok)
			seen[k]++
		}
		mean := draws / keys
		for k, n := range seen {
			assert.Greater(t, n, mean/4, "key %d drawn %d times of a mean %d", k, n, mean)
			assert.Less(t, n, mean*4, "key %d drawn %d times of a mean %d", k, n, mean)
		}
	})
	t.Run("no allocation", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 4})
		c.Set("a", 1)
		c.Set("b", 1)
		assert.Zero(t, testing.AllocsPerRun(1000, func() { c.RandomKey() }))
	})
}
