package policy

// ghosts holds ARC's two history lists, B1 and B2: the hashes of recently
// evicted keys, without their entries. Both lists live in one pool of
// nodes linked by index, and an open-addressing index finds a hash's node,
// so a ghost costs a 16-byte node, one byte naming its list and two or
// four index slots of 8 bytes, and adding, finding or dropping one is O(1).
//
// The index is a table of linear probing at most half full, written here
// rather than taken from Go's map because every eviction of an ARC shard
// adds a ghost and drops one: with a map those four map operations were a
// third of an evicting Set's time. A slot holds 0 when empty, otherwise
// the top 32 bits of the mixed hash (the tag) above the node's index plus
// one. The tag also gives the slot's home, so a deletion can close the gap
// it leaves (backward shift, no tombstones) without reading any node, and a
// probe reads a node only when the tags match, to compare the full hash.
//
// The pool holds at most as many ghosts as the shard's capacity in
// entries (limit), so B1 and B2 together never hold more than that; when
// it is full, push drops an old ghost to make room, from the list its
// caller names. Its nodes and index are allocated as ghosts arrive,
// doubling up to limit, so a cache that never fills never pays for a
// history, and a large MaxEntries is not allocated up front. It is not safe
// for concurrent use.
type ghosts struct {
	slots []uint64 // the index: tag<<32 | node+1, or 0; a power of two, at least twice the nodes
	shift uint     // 64 - log2(len(slots)): a mixed hash's top bits pick its home slot
	nodes []ghost  // allocated so far, at most limit
	in    []uint8  // in[i]: the list node i is in, b1 or b2, or 0 when free (beside the nodes, which it would pad to 24 bytes)
	free  int32    // first unused node, chained through next; -1 when none
	limit int      // the most ghosts the pool may hold
	lists [3]ghostList
}

// Ghost list names, indexes into ghosts.lists.
const (
	b1 = 1
	b2 = 2
)

type ghost struct {
	hash       uint64
	prev, next int32 // towards the front (newer) and the back (older); -1 at the ends
}

type ghostList struct {
	front, back int32 // -1 when empty
	len         int
}

// ghostMix spreads a key hash for the index. Within one shard the engine's
// hashes agree in their low bits (those picked the shard); a multiply by an
// odd constant makes the top bits, which pick the slot, depend on all 64.
func ghostMix(h uint64) uint64 { return h * 0x9e3779b97f4a7c15 }

// maxGhosts bounds the pool: nodes are linked by int32 indexes. A shard
// that large would need 32 GiB for its ghosts alone.
const maxGhosts = 1<<31 - 1

// minGhostNodes is the pool's first allocation.
const minGhostNodes = 4

// resize lets the pool hold n ghosts (at most maxGhosts), keeping those it
// holds. It allocates nothing: ARC calls it at construction and when a
// cost-bounded shard learns a larger capacity, and the pool grows as
// ghosts arrive (see grow).
func (g *ghosts) resize(n int) {
	n = min(n, maxGhosts)
	if n <= g.limit {
		return
	}
	if g.limit == 0 {
		g.free = -1
		for l := range g.lists {
			g.lists[l] = ghostList{front: -1, back: -1}
		}
	}
	g.limit = n
}

// grow adds nodes to an exhausted pool that is below its limit, doubling
// the allocation (at most to limit), and rebuilds the index at twice the
// new size. It allocates; amortised over the ghosts it makes room for, it
// is O(1) per push.
func (g *ghosts) grow() {
	old := len(g.nodes)
	n := min(max(2*old, minGhostNodes), g.limit)
	g.nodes = append(g.nodes, make([]ghost, n-old)...)
	g.in = append(g.in, make([]uint8, n-old)...)
	for i := n - 1; i >= old; i-- {
		g.nodes[i] = ghost{prev: -1, next: g.free}
		g.free = int32(i)
	}
	bits := uint(1)
	for 1<<bits < 2*n {
		bits++
	}
	g.slots = make([]uint64, 1<<bits)
	g.shift = 64 - bits
	for i := range old {
		if g.in[i] != 0 {
			g.place(g.nodes[i].hash, int32(i))
		}
	}
}

// cap returns how many ghosts the pool holds at most.
func (g *ghosts) cap() int { return g.limit }

// len returns the length of list l.
func (g *ghosts) len(l uint8) int { return g.lists[l].len }

// find returns the list holding h, or 0.
func (g *ghosts) find(h uint64) uint8 {
	if _, i := g.lookup(h); i >= 0 {
		return g.in[i]
	}
	return 0
}

// forget removes h from whichever list holds it.
func (g *ghosts) forget(h uint64) {
	if pos, i := g.lookup(h); i >= 0 {
		g.unlinkAt(i, pos)
	}
}

// push adds h at the front of list l. If the pool is full it first drops
// the oldest ghost of B1 when dropB1 is true (or B2 is empty), of B2
// otherwise (or when B1 is empty). It does nothing in a pool of size 0.
func (g *ghosts) push(l uint8, h uint64, dropB1 bool) {
	if g.limit == 0 {
		return
	}
	g.forget(h) // a hash is in one list at most
	if g.free < 0 && len(g.nodes) < g.limit {
		g.grow()
	}
	if g.free < 0 {
		if g.lists[b1].len > 0 && (dropB1 || g.lists[b2].len == 0) {
			g.dropOldest(b1)
		} else {
			g.dropOldest(b2)
		}
	}
	i := g.free
	n := &g.nodes[i]
	g.free = n.next
	gl := &g.lists[l]
	*n = ghost{hash: h, prev: -1, next: gl.front}
	g.in[i] = l
	if gl.front >= 0 {
		g.nodes[gl.front].prev = i
	} else {
		gl.back = i
	}
	gl.front = i
	gl.len++
	g.place(h, i)
}

// dropOldest removes the oldest ghost of list l, if any.
func (g *ghosts) dropOldest(l uint8) {
	if i := g.lists[l].back; i >= 0 {
		g.unlinkAt(i, g.slotOf(i))
	}
}

// unlinkAt removes node i, whose index slot is pos, from its list and the
// index, and frees it.
func (g *ghosts) unlinkAt(i int32, pos uint64) {
	n := &g.nodes[i]
	gl := &g.lists[g.in[i]]
	if n.prev >= 0 {
		g.nodes[n.prev].next = n.next
	} else {
		gl.front = n.next
	}
	if n.next >= 0 {
		g.nodes[n.next].prev = n.prev
	} else {
		gl.back = n.prev
	}
	gl.len--
	g.vacate(pos)
	*n = ghost{prev: -1, next: g.free}
	g.in[i] = 0
	g.free = i
}

// lookup returns the index slot and the node of hash h, or node -1 and
// the empty slot where the probe for h ended.
func (g *ghosts) lookup(h uint64) (pos uint64, i int32) {
	if len(g.slots) == 0 {
		return 0, -1
	}
	m := ghostMix(h)
	tag, mask := m>>32, uint64(len(g.slots)-1)
	for pos = m >> g.shift; ; pos = (pos + 1) & mask {
		s := g.slots[pos]
		if s == 0 {
			return pos, -1
		}
		if s>>32 == tag {
			if i = int32(uint32(s)) - 1; g.nodes[i].hash == h {
				return pos, i
			}
		}
	}
}

// slotOf returns the index slot of node i, which is in a list.
func (g *ghosts) slotOf(i int32) uint64 {
	m := ghostMix(g.nodes[i].hash)
	want, mask := m>>32<<32|uint64(i+1), uint64(len(g.slots)-1)
	pos := m >> g.shift
	for g.slots[pos] != want {
		pos = (pos + 1) & mask
	}
	return pos
}

// place indexes node i under hash h, which the index does not hold.
func (g *ghosts) place(h uint64, i int32) {
	m := ghostMix(h)
	mask := uint64(len(g.slots) - 1)
	pos := m >> g.shift
	for g.slots[pos] != 0 {
		pos = (pos + 1) & mask
	}
	g.slots[pos] = m>>32<<32 | uint64(i+1)
}

// vacate empties slot pos and closes the gap: every later slot of the same
// probe run whose home is not between the gap and itself moves back into
// the gap, so a probe never stops early at a hole.
func (g *ghosts) vacate(pos uint64) {
	mask := uint64(len(g.slots) - 1)
	for next := (pos + 1) & mask; ; next = (next + 1) & mask {
		s := g.slots[next]
		if s == 0 {
			break
		}
		// The slot's home is the top bits of its tag. It may fill the gap
		// if the gap lies on its probe path, from home up to next.
		if home := s >> 32 >> (g.shift - 32); (next-home)&mask >= (next-pos)&mask {
			g.slots[pos] = s
			pos = next
		}
	}
	g.slots[pos] = 0
}
