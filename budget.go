package shardcache

import (
	"math"
	"sync/atomic"
)

// budget is the cache's one pair of bounds, MaxEntries and MaxCost, and
// what its shards hold against them. Every shard reserves here before it
// stores an entry or raises one's cost, and releases when an entry leaves,
// so the bounds hold for the cache as a whole, exactly: a cache of N entries
// holds N distinct keys whatever its shard count, and an entry costing up to
// MaxCost fits in any of them (its shard evicts, from other shards if it
// must: see shard.makeRoom).
//
// Only writers touch it, with one or two atomic operations each; Get never
// does. The bounds are atomics too so that SetMaxEntries and SetMaxCost can
// change them while writers run.
type budget struct {
	maxEntries atomic.Int64 // 0: unbounded
	maxCost    atomic.Int64 // 0: unbounded
	_          [48]byte     // the bounds are read-mostly: keep them off the counters' line
	entries    atomic.Int64
	cost       atomic.Int64
}

// fits reports whether an entry of the given cost may be stored at all:
// a cost that is not negative and not above MaxCost.
func (b *budget) fits(cost int64) bool {
	maxCost := b.maxCost.Load()
	return cost >= 0 && (maxCost == 0 || cost <= maxCost)
}

// reserve takes n entries (0 or 1) and cost (which may be negative, for an
// entry whose cost shrinks) from the budget and reports whether both fit.
// It takes nothing when either does not fit.
func (b *budget) reserve(n, cost int64) bool {
	if n > 0 {
		maxEntries := b.maxEntries.Load()
		for {
			e := b.entries.Load()
			if maxEntries > 0 && e+n > maxEntries {
				return false
			}
			if b.entries.CompareAndSwap(e, e+n) {
				break
			}
		}
	}
	if cost == 0 {
		return true
	}
	maxCost := b.maxCost.Load()
	for {
		c := b.cost.Load()
		next, ok := addCost(c, cost, maxCost)
		if !ok {
			if n > 0 {
				b.entries.Add(-n)
			}
			return false
		}
		if b.cost.CompareAndSwap(c, next) {
			return true
		}
	}
}

// addCost returns used+cost and whether it is within maxCost (0: no bound,
// where the sum saturates at math.MaxInt64 instead of overflowing). used
// and maxCost are never negative; cost is at most math.MaxInt64.
func addCost(used, cost, maxCost int64) (int64, bool) {
	if cost <= 0 {
		return max(used+cost, 0), true
	}
	if maxCost > 0 {
		// used ≤ maxCost, so maxCost-used cannot overflow.
		return used + cost, cost <= maxCost-used
	}
	if used > math.MaxInt64-cost {
		return math.MaxInt64, true
	}
	return used + cost, true
}

// release gives back n entries and cost.
func (b *budget) release(n, cost int64) {
	if n != 0 {
		b.entries.Add(-n)
	}
	if cost != 0 {
		b.reserve(0, -cost)
	}
}

// over reports whether the cache holds more than its bounds allow, as it
// may after SetMaxEntries or SetMaxCost lowered them.
func (b *budget) over() bool {
	maxEntries, maxCost := b.maxEntries.Load(), b.maxCost.Load()
	return (maxEntries > 0 && b.entries.Load() > maxEntries) || (maxCost > 0 && b.cost.Load() > maxCost)
}

// shrinkBatch is how many victims SetMaxEntries and SetMaxCost evict under
// one shard lock before they let readers and writers of that shard in.
const shrinkBatch = 256

// SetMaxEntries changes MaxEntries while the cache runs (0: no bound). A
// lower bound is enforced before SetMaxEntries returns: it evicts the
// policies' victims, a batch of at most 256 per shard lock at a time, so
// Gets and writes proceed meanwhile, and calls OnRemove for each with no
// lock held. The shards' policies are resized to their share of the new
// bound. It returns an error wrapping ErrInvalidConfig if n is negative,
// changing nothing. It is safe to call concurrently with every method;
// concurrent calls to SetMaxEntries leave one of their bounds in place.
func (c *Cache[K, V]) SetMaxEntries(n int) error {
	if n < 0 {
		return invalid("MaxEntries is negative (%d)", n)
	}
	c.tune.Lock()
	defer c.tune.Unlock()
	c.budget.maxEntries.Store(int64(n))
	for i := range c.shards {
		s := &c.shards[i]
		s.lock()
		s.policy.Resize(split(n, len(c.shards), i))
		s.unlock()
	}
	c.shrink()
	return nil
}

// SetMaxCost changes MaxCost while the cache runs (0: no bound), as
// SetMaxEntries changes MaxEntries. An entry already held whose cost is
// above the new bound is evicted like any other; later writes of such
// entries are rejected. It returns an error wrapping ErrInvalidConfig if n
// is negative, changing nothing.
func (c *Cache[K, V]) SetMaxCost(n int64) error {
	if n < 0 {
		return invalid("MaxCost is negative (%d)", n)
	}
	c.budget.maxCost.Store(n)
	c.shrink()
	return nil
}

// shrink evicts, shard after shard and a batch at a time, until the cache
// is within its budget or holds nothing more to evict.
func (c *Cache[K, V]) shrink() {
	var buf removals[K, V]
	rm := c.collector(&buf)
	for c.budget.over() {
		evicted := 0
		for i := range c.shards {
			evicted += c.shards[i].shrink(shrinkBatch, c.clock.Now(), rm)
			rm.run(c.onRemove)
		}
		if evicted == 0 {
			return
		}
	}
}
