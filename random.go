package shardcache

import "math/rand/v2"

// randomProbes is how many random slots RandomKey reads before it falls
// back to walking the tables. A table that has only grown is 3/8 to 3/4
// full, where 32 probes all miss with a probability below 10⁻⁶; they miss
// more often in tables that emptied (tables never shrink) or whose
// entries have mostly expired.
const randomProbes = 32

// RandomKey returns a live key chosen at random (Redis's RANDOMKEY), and
// false only when the cache holds no live key (while other goroutines
// write: none in each shard when RandomKey looked at it). It is not an
// access.
//
// It reads random slots of random shards, one shard read lock each, and
// returns the first live entry it finds: every key is about equally
// likely (a key of a shard whose table is half the size of the others' is
// twice as likely). When 32 probes find nothing live, as when most
// entries have expired and await reclaiming, it walks the shards from a
// random one and returns the first live key after a random slot, which
// is not uniform but always ends: at worst it reads every slot of every
// table once. It never allocates and is safe for concurrent use.
func (c *Cache[K, V]) RandomKey() (K, bool) {
	var zero K
	if c.budget.entries.Load() == 0 {
		return zero, false
	}
	for range randomProbes {
		r := rand.Uint64()
		if k, ok := c.shards[r&c.mask].randomKey(r>>32, false, c.clock); ok {
			return k, true
		}
	}
	r := rand.Uint64()
	for i := range uint64(len(c.shards)) {
		if k, ok := c.shards[(r+i)&c.mask].randomKey(r>>32, true, c.clock); ok {
			return k, true
		}
	}
	return zero, false
}

// randomKey returns the key in slot r (modulo the table's size) if it is
// live or, with walk, the first live one from there on, cyclically, under
// the read lock.
func (s *shard[K, V]) randomKey(r uint64, walk bool, clk *clock) (key K, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := uint64(len(s.m.slots))
	tries := uint64(1)
	if walk {
		tries = n
	}
	now := clk.Now()
	for i := range tries {
		if e := s.m.slots[(r+i)&(n-1)].e; e != nil && !e.expired(now) {
			return e.key, true
		}
	}
	return key, false
}
