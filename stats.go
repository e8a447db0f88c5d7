package shardcache

// Stats is a point-in-time summary of a cache's activity since New. Each
// counter is exact, but the fields are gathered shard by shard, so under
// concurrent use they are not one atomic snapshot.
type Stats struct {
	Hits        uint64 // Get calls that returned a value
	Misses      uint64 // Get calls that found no live entry
	Sets        uint64 // Set and SetWithTTL calls that stored their value
	Rejected    uint64 // Set calls whose entry could not be stored (cost beyond its shard's budget, or negative)
	Evictions   uint64 // entries removed to respect MaxEntries or MaxCost
	Expirations uint64 // entries removed because their deadline passed
	Entries     int    // entries held now, as Len reports
	Cost        int64  // sum of the held entries' costs
}

// HitRatio returns Hits / (Hits + Misses), or 0 before the first Get.
func (s Stats) HitRatio() float64 {
	total := s.Hits + s.Misses
	if total == 0 {
		return 0
	}
	return float64(s.Hits) / float64(total)
}
