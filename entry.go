package shardcache

import (
	"sync/atomic"

	"github.com/shardcache/shardcache/internal/expiry"
	"github.com/shardcache/shardcache/internal/policy"
)

// entry is one cached key. A shard allocates it when the key is first
// stored and, when the policy evicts it, may reuse it for the next key it
// inserts (newEntry, recycle); a record of it left in a read buffer is
// recognised by its node being unlinked, or by its key (recordFull).
//
// Its fields are ordered for Get, which reads the key, the value, the stamp
// and the deadline: the first 40 bytes with string keys. An int/int entry
// is 72 bytes and a string/int one 80, both in the 80-byte size class, as
// TestEntrySize checks. The stamp and the cost share one word to get there:
// with both 8 bytes wide, a string-keyed entry took 88 bytes and the
// 96-byte class. The timer that schedules a deadline is a separate object,
// attached only to entries that have one, and the policy node has no
// pointer back to the entry: table.owner finds the entry.
type entry[K comparable, V any] struct {
	key   K
	value V
	// stamp is the low 32 bits of the shard's promotion count just after
	// the policy last promoted e (0: never); see shard.isFresh.
	stamp atomic.Uint32
	// cost is e's cost, or bigCost when it does not fit in 32 bits and is
	// kept in shard.bigCosts instead; see shard.costOf.
	cost uint32
	// deadline is the clock time at which e expires; 0: never.
	deadline int64
	// timer schedules the deadline in the shard's wheel: nil while e has
	// never had a deadline, and given back to the shard when e leaves
	// (shard.releaseTimer).
	timer *expiry.Timer[*entry[K, V]]
	node  policy.Node[*entry[K, V]]
}

// expired reports whether e's deadline has passed at clock time now.
func (e *entry[K, V]) expired(now int64) bool { return expiredAt(e.deadline, now) }

// expiredAt reports whether deadline (0: none) has passed at clock time now.
func expiredAt(deadline, now int64) bool { return deadline != 0 && deadline <= now }

// bigCost in entry.cost marks a cost of 2³²-1 or more, kept in
// shard.bigCosts. Costs that large are rare (a byte budget with values of
// 4 GiB), so they pay a map lookup on writes and every other entry saves
// four bytes.
const bigCost = 1<<32 - 1

// costOf returns e's cost. Callers hold the write lock.
func (s *shard[K, V]) costOf(e *entry[K, V]) int64 {
	if e.cost != bigCost {
		return int64(e.cost)
	}
	return s.bigCosts[e]
}

// storeCost gives e the cost c (which fits has accepted) without touching
// the shard's total. Callers hold the write lock.
func (s *shard[K, V]) storeCost(e *entry[K, V], c int64) {
	if e.cost == bigCost {
		delete(s.bigCosts, e)
	}
	if c < bigCost {
		e.cost = uint32(c)
		return
	}
	if s.bigCosts == nil {
		s.bigCosts = make(map[*entry[K, V]]int64)
	}
	s.bigCosts[e] = c
	e.cost = bigCost
}

// recost changes the cost of e, which the shard holds, to c, keeping the
// shard's total in step. Callers hold the write lock.
func (s *shard[K, V]) recost(e *entry[K, V], c int64) {
	s.cost += c - s.costOf(e)
	s.storeCost(e, c)
}

// newEntry returns an entry for a key about to be inserted: the spare one
// if the shard has it, else a new one.
//
// Reusing evicted entries spares a Set that evicts the allocation and its
// share of garbage collection, and hands it memory the eviction has just
// brought into the processor's cache (BenchmarkEvictingSet). Callers hold the
// write lock.
func (s *shard[K, V]) newEntry(h uint64, key K, value V, cost int64) *entry[K, V] {
	e := s.spare
	if e == nil {
		e = new(entry[K, V])
	}
	s.spare = nil
	e.key, e.value = key, value
	s.storeCost(e, cost)
	e.node.Hash = h
	return e
}

// recycle keeps e, just evicted, as the shard's spare entry, cleared so
// that it holds on to none of the caller's memory. Only evict calls it,
// and every caller of evict has drained the read buffer while holding the
// write lock, so no access record can name e any more; the one pointer that
// may survive, a Get's record waiting in recordFull, is checked against
// the key there.
func (s *shard[K, V]) recycle(e *entry[K, V]) {
	var (
		zk K
		zv V
	)
	e.key, e.value = zk, zv
	e.deadline = 0
	e.stamp.Store(0)
	s.spare = e
}
