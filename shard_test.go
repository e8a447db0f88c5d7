package shardcache

import (
	"testing"
	"unsafe"

	"github.com/shardcache/shardcache/internal/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFreshAcrossWraparound checks that an entry's age in promotions stays
// exact when the shard's count passes 2³², where the 32-bit stamps wrap:
// an entry is fresh for exactly fresh promotions after it was promoted,
// whether it was promoted before the wrap or after it.
func TestFreshAcrossWraparound(t *testing.T) {
	peers := make([]shard[int, int], 1)
	s := &peers[0]
	s.init(new(budget), peers, 0, policy.NewLRU[*entry[int, int]]())
	es := make([]*entry[int, int], 400)
	for i := range es {
		es[i] = s.newEntry(uint64(i)*0x9e3779b97f4a7c15, i, i, 1)
		s.policy.Insert(&es[i].node)
		s.insert(es[i])
	}
	require.Equal(t, uint64(100), s.fresh)

	next := 1
	promote := func(n int) { // n promotions of other entries
		for range n {
			s.touch(es[next])
			next++
		}
	}
	s.promotions.Store(1<<32 - 10)
	before := es[0]
	s.touch(before) // stamped 2³²-9
	promote(18)     // the count passes 2³²
	after := es[next]
	next++
	s.touch(after) // stamped 10
	assert.True(t, s.isFresh(after), "promoted just now, after the wrap")
	assert.True(t, s.isFresh(before), "19 promotions ago, across the wrap")

	promote(80)
	assert.True(t, s.isFresh(before), "99 promotions ago")
	promote(1)
	assert.False(t, s.isFresh(before), "100 promotions ago: no longer fresh")
	assert.True(t, s.isFresh(after), "81 promotions ago")
	promote(18)
	assert.True(t, s.isFresh(after), "99 promotions ago")
	promote(1)
	assert.False(t, s.isFresh(after), "100 promotions ago")
}

// TestShardHeaderLayout keeps what Get reads (lock, table header, stripe
// count) on lines of their own: the first field writers change starts at
// byte 128.
func TestShardHeaderLayout(t *testing.T) {
	var s shard[string, int]
	require.Equal(t, uintptr(128), unsafe.Offsetof(s.pmu))
}
