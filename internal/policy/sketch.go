package policy

import "math/bits"

// sketch estimates how often each key hash was seen recently: the
// count-min sketch of TinyLFU (Einziger, Friedman, Manes, ACM ToS 2017).
//
// Every key maps to four 4-bit counters, one per row; its estimate is the
// smallest of the four, so a collision can only overestimate. Sixteen
// counters share a uint64 word, and the table has one word per entry held,
// rounded up to a power of two and at most one per entry of capacity: 8
// bytes per cached entry. It starts at minSketchWords and doubles as the
// shard fills (rebuild), so that a cache with a
// large bound allocates for what it holds, not for what it may hold. A
// key's four counters lie in one 64-byte block of 8 words, one word pair
// per row. Counters saturate at 15, which is plenty to tell a hot key from
// a cold one.
//
// Aging: once the sketch has counted period increments (ten times the
// capacity, the paper's sample size W = 10·C), every counter is halved, so
// the estimate follows the recent popularity of a key and an old burst fades.
//
// A sketch belongs to one shard, sized from that shard's capacity and fed
// only its keys, so many small sketches estimate as well as one large one
// and the read path never shares a counter between shards. It is not safe
// for concurrent use. increment and estimate never allocate.
type sketch struct {
	table     []uint64
	shift     uint // 64 - log2(len(table)/8): the top bits of a rehash pick a block
	limit     int  // the most words the table grows to: capacity, rounded up to a power of two
	capacity  int  // the entries it is sized for; aging counts 10 of them per word
	additions int
	period    int
}

// sketchWordsPerHeld is how many words per entry held the policies ask
// rebuild for while the sketch grows towards its limit, one word per entry
// of capacity. With two, a rebuild happens when the shard doubles past half
// of the table, and the table is full-sized once the shard is half full,
// well before admission is first consulted (at the first eviction); one
// per entry rebuilt just before that and cost TestWTinyLFUClimbs its
// climb.
const sketchWordsPerHeld = 2

// minSketchWords is the smallest table: 16 words, 256 counters.
const minSketchWords = 16

// size readies the sketch for capacity entries (0: the minimum), keeping
// what it counted. The table is allocated at its minimum, or kept, and
// grows by rebuild. Raising the capacity of a sketch that holds counts keeps
// them.
func (s *sketch) size(capacity int) {
	n := max(capacity, minSketchWords)
	s.capacity = n
	s.limit = 1 << bits.Len(uint(n-1))
	if s.table == nil {
		s.setTable(make([]uint64, minSketchWords))
	}
	s.setPeriod()
}

// resize sizes the sketch for capacity entries and allocates all of it at
// once, forgetting what it counted.
func (s *sketch) resize(capacity int) {
	s.size(capacity)
	s.rebuild(capacity, func(func(uint64)) {})
}

// wants reports whether a table for held entries would be larger than the
// one the sketch has: the policy should rebuild it.
func (s *sketch) wants(held int) bool {
	return len(s.table) < held && len(s.table) < s.limit
}

// rebuild replaces the table by one with a word per entry held (up to the
// limit), in which every hash that each yields is counted once: the entries
// the policy holds start equal, and what the smaller table counted is
// dropped. Doubling the table and copying each block into both halves
// would keep every estimate, but also every collision of the smaller table,
// and cost 0.2 point of average hit ratio on the trace rows; starting again
// from the held keys cost none. Policies call it as entries arrive, with
// held a few times the entries they hold (sketchWordsPerHeld); the work, one
// pass over those entries per doubling, is amortised O(1) per entry.
func (s *sketch) rebuild(held int, each func(yield func(uint64))) {
	n := max(len(s.table), minSketchWords)
	for n < held && n < s.limit {
		n *= 2
	}
	s.setTable(make([]uint64, n))
	s.setPeriod()
	each(func(h uint64) {
		base, r := s.block(h)
		for i := range 4 {
			w, off := slot(base, r, i)
			if (s.table[w]>>off)&0xf < 0xf {
				s.table[w] += 1 << off
			}
		}
	})
	s.additions = 0
}

func (s *sketch) setTable(t []uint64) {
	s.table = t
	s.shift = uint(64 - bits.TrailingZeros(uint(len(t)/8)))
}

// setPeriod sets the aging period: ten increments per entry of capacity,
// however far the table has grown. Admission only consults the sketch once
// the shard is full, when the table has grown to its limit; aging earlier,
// while it fills, would only forget what the filling taught it.
func (s *sketch) setPeriod() {
	s.period = 10 * s.capacity
}

// words returns the table size, 0 before size.
func (s *sketch) words() int { return len(s.table) }

// block returns the first word of the 64-byte block (8 words) that holds
// h's four counters, and a rehash of h whose bits pick them. The engine's
// hash already mixes every key bit into every hash bit, but its low bits
// pick the shard, so within one shard they are all equal: the rehash
// multiplies and folds so that the bits used depend on all 64.
func (s *sketch) block(h uint64) (base, r uint64) {
	r = h * 0x9e3779b97f4a7c15
	r ^= r >> 32
	r *= 0xc2b2ae3d27d4eb4f
	r ^= r >> 29
	return (r >> s.shift) << 3, r
}

// slot returns the word index and bit offset of the counter of row i. Row
// i keeps to words 2i and 2i+1 of the block, so rows never share a counter,
// and one key's four counters share a cache line: an increment or an
// estimate costs one cache miss, not four.
func slot(base, r uint64, i int) (word uint64, off uint) {
	return base + uint64(i<<1) + (r>>i)&1, uint(r>>(8+4*i)&0xf) << 2
}

// increment counts one occurrence of h.
func (s *sketch) increment(h uint64) {
	base, r := s.block(h)
	added := false
	for i := range 4 {
		w, off := slot(base, r, i)
		if (s.table[w]>>off)&0xf < 0xf {
			s.table[w] += 1 << off
			added = true
		}
	}
	if added {
		s.additions++
		if s.additions >= s.period {
			s.age()
		}
	}
}

// estimate returns how often h was seen recently, 0..15.
func (s *sketch) estimate(h uint64) int {
	base, r := s.block(h)
	f := uint64(0xf)
	for i := range 4 {
		w, off := slot(base, r, i)
		f = min(f, (s.table[w]>>off)&0xf)
	}
	return int(f)
}

// age halves every counter. It costs one pass over the table, once per
// period increments: amortised O(1).
func (s *sketch) age() {
	for i := range s.table {
		s.table[i] = (s.table[i] >> 1) & 0x7777777777777777
	}
	s.additions /= 2
}
