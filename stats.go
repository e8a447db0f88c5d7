package shardcache

import "sync/atomic"

// Stats is a point-in-time summary of a cache's activity since New. Each
// counter is exact, but the fields are gathered shard by shard, so under
// concurrent use they are not one atomic snapshot.
type Stats struct {
	Hits   uint64 // Get calls that returned a value
	Misses uint64 // Get calls that found no live entry
	// Sets counts the values stored: by Set, SetWithTTL, SetIfAbsent and
	// SetIfAbsentWithTTL (not with a negative ttl, which deletes or stores
	// nothing), by Compute returning ComputeSet, by GetOrLoad after a load
	// (not with a negative ttl), and one per entry LoadFrom or LoadFile
	// stores. Update is not counted.
	Sets uint64
	// Rejected counts the values not stored, by any of the calls Sets
	// counts and by Update: a cost that is negative or above MaxCost, or
	// a newcomer the policy's admission refused (ARC with TinyLFU).
	Rejected    uint64
	Evictions   uint64 // entries removed to respect MaxEntries or MaxCost
	Expirations uint64 // entries removed because their deadline passed
	// Expiring counts the held entries that have a deadline (those past it
	// but not yet reclaimed included), as Redis's INFO keyspace "expires".
	Expiring int
	Entries  int   // entries held now, as Len reports
	Cost     int64 // sum of the held entries' costs, saturating at math.MaxInt64
}

// HitRatio returns Hits / (Hits + Misses), or 0 before the first Get.
func (s Stats) HitRatio() float64 {
	total := s.Hits + s.Misses
	if total == 0 {
		return 0
	}
	return float64(s.Hits) / float64(total)
}

// counterStripes is the number of stripes of a counter; a power of two.
const counterStripes = 16

// counter is a statistic that many goroutines increment at once: one
// padded cell per stripe, picked by goroutineProbe, so that goroutines on
// different cores rarely write the same cache line. Its zero value is 0.
type counter struct {
	cells [counterStripes]struct {
		n atomic.Uint64
		_ [56]byte
	}
}

// add counts one event. It never blocks or allocates.
func (c *counter) add() {
	c.cells[goroutineProbe()&(counterStripes-1)].n.Add(1)
}

// load returns the events counted so far.
func (c *counter) load() uint64 {
	var n uint64
	for i := range c.cells {
		n += c.cells[i].n.Load()
	}
	return n
}
