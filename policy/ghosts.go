package policy

// ghosts holds ARC's two history lists, B1 and B2: the hashes of recently
// evicted keys, without their entries. Both lists live in one fixed pool of
// nodes linked by index, and a map finds a hash's node, so a ghost costs
// a 16-byte node, one byte naming its list and its map slot, and adding,
// finding or dropping one is O(1).
//
// The pool has exactly as many nodes as the shard's capacity in entries, so
// B1 and B2 together never hold more than that; when it is full, push drops
// an old ghost to make room, from the list its caller names. It is not
// safe for concurrent use.
type ghosts struct {
	index map[uint64]int32 // hash -> node
	nodes []ghost
	in    []uint8 // in[i]: the list node i is in, b1 or b2, or 0 when free (beside the nodes, which it would pad to 24 bytes)
	free  int32   // first unused node, chained through next; -1 when none
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

// resize gives the pool room for n ghosts, keeping those it holds. It
// allocates; ARC calls it at construction and when a cost-bounded shard
// learns a larger capacity.
func (g *ghosts) resize(n int) {
	if n <= len(g.nodes) {
		return
	}
	if g.index == nil {
		g.index = make(map[uint64]int32, n)
		g.free = -1
		for l := range g.lists {
			g.lists[l] = ghostList{front: -1, back: -1}
		}
	}
	old := len(g.nodes)
	g.nodes = append(g.nodes, make([]ghost, n-old)...)
	g.in = append(g.in, make([]uint8, n-old)...)
	for i := n - 1; i >= old; i-- {
		g.nodes[i] = ghost{prev: -1, next: g.free}
		g.free = int32(i)
	}
}

// cap returns how many ghosts the pool holds at most.
func (g *ghosts) cap() int { return len(g.nodes) }

// len returns the length of list l.
func (g *ghosts) len(l uint8) int { return g.lists[l].len }

// find returns the list holding h, or 0.
func (g *ghosts) find(h uint64) uint8 {
	if i, ok := g.index[h]; ok {
		return g.in[i]
	}
	return 0
}

// forget removes h from whichever list holds it.
func (g *ghosts) forget(h uint64) {
	if i, ok := g.index[h]; ok {
		g.unlink(i)
	}
}

// push adds h at the front of list l. If the pool is full it first drops
// the oldest ghost of B1 when dropB1 is true (or B2 is empty), of B2
// otherwise (or when B1 is empty). It does nothing in a pool of size 0.
func (g *ghosts) push(l uint8, h uint64, dropB1 bool) {
	if len(g.nodes) == 0 {
		return
	}
	g.forget(h) // a hash is in one list at most
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
	g.index[h] = i
}

// dropOldest removes the oldest ghost of list l, if any.
func (g *ghosts) dropOldest(l uint8) {
	if i := g.lists[l].back; i >= 0 {
		g.unlink(i)
	}
}

func (g *ghosts) unlink(i int32) {
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
	delete(g.index, n.hash)
	*n = ghost{prev: -1, next: g.free}
	g.in[i] = 0
	g.free = i
}
