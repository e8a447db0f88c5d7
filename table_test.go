package shardcache

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// hashedEntry returns an entry for key k whose key hash is h.
func hashedEntry(k int, h uint64) *entry[int, int] {
	e := &entry[int, int]{key: k}
	e.node.Hash = h
	return e
}

// TestTableAgainstMap drives random inserts and removes, with hashes drawn
// from a small range so that probe runs wrap around and keys share hashes,
// and checks every lookup, owner, the counts and the iteration against a
// map.
func TestTableAgainstMap(t *testing.T) {
	for _, hashes := range []uint64{4, 64, 1 << 62} {
		t.Run("hashes="+strconv.FormatUint(hashes, 10), func(t *testing.T) {
			r := rand.New(rand.NewPCG(hashes, 1))
			var tb table[int, int]
			tb.init(0)
			model := map[int]*entry[int, int]{}
			hashOf := func(k int) uint64 { return mix64(uint64(k)) % hashes }
			for step := range 20000 {
				k := r.IntN(300)
				if e, ok := model[k]; ok && r.IntN(2) == 0 {
					tb.remove(e)
					delete(model, k)
				} else if !ok {
					e := hashedEntry(k, hashOf(k))
					tb.insert(e)
					model[k] = e
				}
				probe := r.IntN(300)
				require.Same(t, model[probe], tb.lookup(hashOf(probe), probe), "step %d key %d", step, probe)
				for _, e := range model { // one held entry, found from its node
					require.Same(t, e, tb.owner(&e.node), "step %d owner of key %d", step, e.key)
					break
				}
				require.Equal(t, len(model), tb.n)
				require.LessOrEqual(t, tb.n*4, len(tb.slots)*3)
			}
			seen := map[int]bool{}
			tb.each(func(e *entry[int, int]) bool {
				require.False(t, seen[e.key], "key %d twice", e.key)
				seen[e.key] = true
				require.Same(t, model[e.key], e)
				return true
			})
			require.Len(t, seen, len(model))
			tb.reset()
			require.Nil(t, tb.lookup(hashOf(1), 1))
			require.Zero(t, tb.n)
		})
	}
}

func TestTableInitSizes(t *testing.T) {
	for _, hint := range []int{0, 1, 6, 7, 1000, 1 << 16} {
		var tb table[int, int]
		tb.init(hint)
		require.GreaterOrEqual(t, len(tb.slots)*3/4, hint)
		require.Equal(t, len(tb.slots)&(len(tb.slots)-1), 0, "power of two")
		for i := range hint {
			tb.insert(hashedEntry(i, mix64(uint64(i))))
		}
		require.Equal(t, hint, tb.n)
	}
}

// BenchmarkTable compares a lookup in the shard table with the Go map the
// shard used before it: 64 shards of 1024 entries, Zipf-distributed keys.
func BenchmarkTable(b *testing.B) {
	const shards = 64
	keys := make([]uint64, benchKeys)
	for i := range keys {
		keys[i] = mix64(uint64(i))
	}
	b.Run("index=table", func(b *testing.B) {
		ts := make([]table[int, int], shards)
		for i := range ts {
			ts[i].init(benchKeys / shards)
		}
		for i, h := range keys {
			ts[h%shards].insert(hashedEntry(i, h))
		}
		b.ResetTimer()
		for i := range b.N {
			k := benchRing[i%ringSize]
			h := keys[k]
			if ts[h%shards].lookup(h, int(k)) == nil {
				b.Fatal("missing key")
			}
		}
	})
	b.Run("index=gomap", func(b *testing.B) {
		ms := make([]map[uint64]*entry[int, int], shards)
		for i := range ms {
			ms[i] = make(map[uint64]*entry[int, int], benchKeys/shards)
		}
		for i, h := range keys {
			ms[h%shards][h] = hashedEntry(i, h)
		}
		b.ResetTimer()
		for i := range b.N {
			k := benchRing[i%ringSize]
			h := keys[k]
			e := ms[h%shards][h]
			if e == nil || e.key != int(k) {
				b.Fatal("missing key")
			}
		}
	})
}
