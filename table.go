package shardcache

import (
	"math/bits"

	"github.com/shardcache/shardcache/internal/policy"
)

// table is a shard's index from key hash to entries: an open-addressing
// hash table with linear probing, written for Get.
//
// A Go map[uint64]*entry hashes the already computed 64-bit hash a second
// time and walks a directory before it reaches a group; this table indexes
// its slot array with the hash's own bits and keeps the hash beside the
// entry pointer, so a lookup usually reads one 16-byte slot and then the
// entry. BenchmarkTable compares the two.
//
// Entries whose keys have the same 64-bit hash (a collision, or many keys
// that a custom Hasher maps together) take a slot each in the same probe run,
// so an entry needs no link of its own for them: a lookup compares the key
// of every slot whose hash matches. Deletion shifts the following slots back
// instead of leaving tombstones, so lookups never slow down with churn. The
// table grows (doubles) at 3/4 occupancy and never shrinks.
//
// table is not safe for concurrent use: lookups run under the shard's read
// lock, changes under its write lock.
type table[K comparable, V any] struct {
	slots []slot[K, V] // length a power of two
	shift uint8        // 64 - log2(len(slots))
	n     int          // entries, one per occupied slot
}

type slot[K comparable, V any] struct {
	h uint64
	e *entry[K, V] // nil: empty
}

const minTableSlots = 8

// init sizes an empty table for about hint entries.
func (t *table[K, V]) init(hint int) {
	size := minTableSlots
	for size*3/4 < hint {
		size *= 2
	}
	t.slots = make([]slot[K, V], size)
	t.shift = uint8(64 - bits.TrailingZeros(uint(size)))
	t.n = 0
}

// home returns the slot a hash would occupy with no collision: the top bits
// of the hash times 2^64/φ (Fibonacci hashing), which spreads even hashes
// that differ only in their low bits, the bits that picked the shard.
func (t *table[K, V]) home(h uint64) uint64 {
	return position(h) >> t.shift
}

// fibonacci is 2^64/φ, rounded to an odd number: multiplying by it is a
// bijection of the 64-bit hashes.
const fibonacci = 0x9e3779b97f4a7c15

// position returns h's place in the order every table of every size
// shares: its home slot is the top bits of position(h), whatever the
// table's size, which is what lets Scan resume across growth (scan.go).
func position(h uint64) uint64 { return h * fibonacci }

// lookup returns the entry for key, or nil. It reads only: safe under the
// read lock, and it must never allocate or write (Get calls it).
func (t *table[K, V]) lookup(h uint64, key K) *entry[K, V] {
	mask := uint64(len(t.slots) - 1)
	for i := t.home(h); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.e == nil {
			return nil
		}
		if s.h == h && s.e.key == key {
			return s.e
		}
	}
}

// owner returns the entry whose policy node is n, which must be in the
// table. The policy names its victim by node, and a node holds no pointer
// back to its entry (8 bytes saved per entry): the entry is found in n's
// probe run by address, which reads the same slots that removing it reads
// next, so it costs no extra cache miss.
func (t *table[K, V]) owner(n *policy.Node[*entry[K, V]]) *entry[K, V] {
	mask := uint64(len(t.slots) - 1)
	for i := t.home(n.Hash); ; i = (i + 1) & mask {
		if e := t.slots[i].e; &e.node == n {
			return e
		}
	}
}

// insert adds e, whose key is not in the table yet.
func (t *table[K, V]) insert(e *entry[K, V]) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.n++
	h := e.node.Hash
	mask := uint64(len(t.slots) - 1)
	i := t.home(h)
	for t.slots[i].e != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = slot[K, V]{h: h, e: e}
}

// remove takes e, which is in the table, out of it.
func (t *table[K, V]) remove(e *entry[K, V]) {
	mask := uint64(len(t.slots) - 1)
	i := t.home(e.node.Hash)
	for t.slots[i].e != e {
		i = (i + 1) & mask
	}
	t.n--
	// Shift back every following slot of the probe run whose home is not
	// cyclically in (i, j], so no lookup crosses a hole.
	for j := (i + 1) & mask; t.slots[j].e != nil; j = (j + 1) & mask {
		k := t.home(t.slots[j].h)
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot[K, V]{}
}

// grow doubles the slot array and re-places every slot.
func (t *table[K, V]) grow() {
	old := t.slots
	t.slots = make([]slot[K, V], 2*len(old))
	t.shift--
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.e == nil {
			continue
		}
		i := t.home(s.h)
		for t.slots[i].e != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// each calls fn for every entry until fn returns false. fn must not change
// the table.
func (t *table[K, V]) each(fn func(*entry[K, V]) bool) {
	for _, s := range t.slots {
		if s.e != nil && !fn(s.e) {
			return
		}
	}
}

// reset empties the table, keeping its size.
func (t *table[K, V]) reset() {
	clear(t.slots)
	t.n = 0
}
