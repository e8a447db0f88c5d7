package shardcache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newManual returns a cache whose clock moves only when the test calls
// advance, and whose expiry runs only inside advance: no goroutine, no
// wall-clock time, fully deterministic.
func newManual[K comparable, V any](t testing.TB, cfg Config[K, V]) *Cache[K, V] {
	t.Helper()
	c, err := newCache(cfg, &clock{manual: true})
	require.NoError(t, err)
	return c
}

// advance moves the manual clock forward by d and runs one expiry pass, as
// the janitor does on each tick.
func (c *Cache[K, V]) advance(d time.Duration) {
	now := c.clock.now.Add(int64(d))
	var buf removals[K, V]
	c.expire(now, c.collector(&buf))
}
