package shardcache

import "math/bits"

// Scan is a resumable iteration over the live keys, with Redis's SCAN
// guarantee: a full iteration, from cursor 0 until Scan returns cursor 0,
// returns every key that was live throughout the iteration, whatever
// other goroutines set, delete or evict meanwhile and however the shards'
// tables grow. It returns each key at most once per full iteration (Redis
// may repeat keys; this Scan does not). A key set, deleted or expiring
// during the iteration may or may not be returned; an expired key never
// is. The order follows the keys' hashes, not their insertion.
//
// Each call appends about count keys to dst (count is a hint, like Redis's
// COUNT; 0 or less means 10) and returns it with the cursor to pass next;
// it may return fewer keys, even none, with a cursor that is not 0. Any
// cursor is accepted: one Scan did not return starts at some point of the
// order. Cursors stay valid across calls for the life of the cache and
// hold no resources, so an iteration may be abandoned at any time.
//
// Scan is safe for concurrent use and is not an access (like Peek). It
// holds one shard's read lock at a time, each time for at most min(count,
// 1024) table slots plus the rest of the probe run they end in, so Gets
// never wait for it and writers of one shard wait only that long; a call
// visits at most about 10×count slots. It allocates nothing beyond dst's
// growth.
//
// Why the guarantee holds (docs/design.md, "Scan", has the whole
// argument): the cursor names a shard and a position in an order of the
// hashes that every table size shares (a key's home slot is the top bits
// of its position), and each step returns the keys whose positions lie in
// one range of it, found by reading the range's slots and then the probe
// run that continues past them. Consecutive steps' ranges are adjacent, so
// a full iteration visits every position of every shard exactly once.
func (c *Cache[K, V]) Scan(cursor uint64, count int, dst []K) (keys []K, next uint64) {
	if count <= 0 {
		count = 10
	}
	// The cursor holds the shard index in its top sb bits and the top
	// 64-sb bits of a position below them: a table of up to 2^(64-sb)
	// slots has its slot boundaries there, far beyond any memory.
	sb := uint(bits.Len64(c.mask))
	found, work := 0, 0
	for {
		i := cursor >> (64 - sb) // 0 when sb is 0
		lo := cursor << sb
		var (
			hi          uint64
			end         bool
			got, looked int
		)
		dst, got, looked, hi, end = c.shards[i].scan(lo, min(count, maxScanStep), c.clock, dst)
		found += got
		work += looked
		switch {
		case !end:
			cursor = i<<(64-sb) | hi>>sb
		case int(i)+1 < len(c.shards):
			cursor = (i + 1) << (64 - sb)
		default:
			return dst, 0
		}
		if found >= count || work >= 10*count {
			return dst, cursor
		}
	}
}

// maxScanStep bounds the table slots one step of Scan reads under one read
// lock, so that a large count does not make the shard's writers wait long.
const maxScanStep = 1024

// scan is one step of Scan in the shard, under its read lock: see
// table.scan.
func (s *shard[K, V]) scan(lo uint64, width int, clk *clock, dst []K) (out []K, found, looked int, hi uint64, end bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(dst)
	dst, looked, hi, end = s.m.scan(lo, width, clk.Now(), dst)
	return dst, len(dst) - n, looked, hi, end
}

// scan appends to dst the keys of the live entries whose position (see
// position) lies in [lo, hi), and returns hi: the end of the width slots
// (at least one) starting at lo's home slot, or the end of the table, in
// which case end is true and the range runs to the last position. It also
// returns how many slots it read.
//
// A key whose home slot is k lives in slots k, k+1, ... up to the first
// empty slot after k, cyclically: insertion puts it in the first empty slot
// from k, and deletion's backward shift never moves an entry to before its
// home nor leaves a hole between it and its home. The keys with positions
// in [lo, hi) have their homes among the range's slots, so they are all in
// those slots or in the run of occupied slots that continues past the
// last one (wrapping past the table's end to slot 0): scan reads both and
// keeps the keys whose positions are in range, dropping those of earlier
// homes displaced into the range and those of later homes in the run.
// Because positions, not slots, delimit the range, the step that follows
// (from hi) continues exactly where this one ended however the table has
// grown, shrunk or shifted in between.
func (t *table[K, V]) scan(lo uint64, width int, now int64, dst []K) (out []K, looked int, hi uint64, end bool) {
	n := uint64(len(t.slots))
	mask := n - 1
	a := lo >> t.shift // lo's home slot
	w := min(uint64(max(width, 1)), n-a)
	end = a+w == n
	if !end {
		hi = (a + w) << t.shift
	}
	j := a
	for k := uint64(0); k < n; k++ {
		s := &t.slots[j]
		looked++
		if s.e == nil {
			// An empty slot at or after the range's last one ends the
			// run that the range's keys may have spilled into.
			if k+1 >= w {
				break
			}
		} else if p := position(s.h); p >= lo && (end || p < hi) && !s.e.expired(now) {
			dst = append(dst, s.e.key)
		}
		j = (j + 1) & mask
	}
	return dst, looked, hi, end
}
