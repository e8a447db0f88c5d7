package policy

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/shardcache/shardcache/internal/mix"
)

// keyed is a test entry: a policy node and the key it stands for, as the
// engine's entry embeds its node.
type keyed struct {
	node Node[uint64] // first, so that a *Node is a *keyed (keyOf)
	key  uint64
}

// newKeyed returns the node of a new entry for key k with hash h.
func newKeyed(k, h uint64) *Node[uint64] {
	e := &keyed{key: k}
	e.node.Hash = h
	return &e.node
}

// keyOf returns the key of the entry whose node newKeyed returned.
func keyOf(n *Node[uint64]) uint64 { return (*keyed)(unsafe.Pointer(n)).key }

// harness drives any policy the way a shard does: demand fill, then evict
// while over capacity. Keys are hashed with the engine's integer mixer.
type harness struct {
	p     Policy[uint64]
	nodes map[uint64]*Node[uint64]
	c     int
	hits  int
}

func newHarness(p Policy[uint64], c int) *harness {
	return &harness{p: p, nodes: map[uint64]*Node[uint64]{}, c: c}
}

func (h *harness) access(k uint64) bool {
	if n, ok := h.nodes[k]; ok {
		h.p.Touch(n)
		h.hits++
		return true
	}
	n := newKeyed(k, mix.Uint64(k))
	h.nodes[k] = n
	h.p.Insert(n)
	h.evict()
	return false
}

func (h *harness) evict() {
	for h.p.Len() > h.c {
		vn, ok := h.p.Victim()
		if !ok {
			panic("no victim")
		}
		v := keyOf(vn)
		n := h.nodes[v]
		if n == nil || !n.Linked() {
			panic(fmt.Sprintf("victim %d is not held", v))
		}
		h.p.Remove(n, true)
		delete(h.nodes, v)
	}
}

func (h *harness) remove(k uint64) {
	if n, ok := h.nodes[k]; ok {
		h.p.Remove(n, false)
		delete(h.nodes, k)
	}
}

// simPolicy names a policy constructor for the harness.
type simPolicy struct {
	name string
	new  func(capacity int) Policy[uint64]
}

// simPolicies are every policy, for the tests that run each one. The bench
// module's hit-ratio harness (bench/internal/sim) replays the real traces
// through them.
var simPolicies = []simPolicy{
	{"lru", func(int) Policy[uint64] { return NewLRU[uint64]() }},
	{"arc", func(c int) Policy[uint64] { return NewARC[uint64](c) }},
	{"wtinylfu", func(c int) Policy[uint64] { return NewWTinyLFU[uint64](c) }},
	{"arc+tinylfu", func(c int) Policy[uint64] { return NewARCTinyLFU[uint64](c) }},
}

// checkWTinyLFU checks the segment invariants of p.
func checkWTinyLFU(t *testing.T, p *WTinyLFU[uint64], held int) {
	t.Helper()
	if p.Len() != held {
		t.Fatalf("Len %d, harness holds %d", p.Len(), held)
	}
	if p.protected.Len() > p.protectedMax {
		t.Fatalf("protected %d over its max %d", p.protected.Len(), p.protectedMax)
	}
	if p.c > 0 && p.window.Len() > p.windowMax {
		t.Fatalf("window %d over its max %d", p.window.Len(), p.windowMax)
	}
	if p.c > 1 && (p.windowMax < 1 || p.windowMax > p.c-1) {
		t.Fatalf("window max %d outside [1, %d]", p.windowMax, p.c-1)
	}
}

// TestWTinyLFUInvariants runs random accesses and deletions at several
// capacities and checks the segments after every step.
func TestWTinyLFUInvariants(t *testing.T) {
	for _, c := range []int{1, 2, 3, 10, 100} {
		t.Run(fmt.Sprintf("c=%d", c), func(t *testing.T) {
			p := NewWTinyLFU[uint64](c)
			h := newHarness(p, c)
			rng := rand.New(rand.NewPCG(1, uint64(c)))
			for range 30 * c * climbSample {
				k := rng.Uint64N(uint64(4 * c))
				if rng.IntN(10) == 0 {
					h.remove(k)
				} else {
					h.access(k)
				}
				checkWTinyLFU(t, p, len(h.nodes))
			}
		})
	}
}

// TestWTinyLFUScanResistance: a hot set survives a long scan of one-off
// keys, which flushes LRU.
func TestWTinyLFUScanResistance(t *testing.T) {
	const c = 1000
	for _, tc := range []struct {
		name string
		p    Policy[uint64]
		min  float64
	}{
		{"wtinylfu", NewWTinyLFU[uint64](c), 0.95},
		{"arc+tinylfu", NewARCTinyLFU[uint64](c), 0.95},
		{"lru", NewLRU[uint64](), 0},
	} {
		h := newHarness(tc.p, c)
		for range 20 {
			for k := range uint64(500) {
				h.access(k)
			}
		}
		for k := range uint64(50_000) {
			h.access(1_000_000 + k)
		}
		h.hits = 0
		for k := range uint64(500) {
			h.access(k)
		}
		ratio := float64(h.hits) / 500
		t.Logf("%s: hot set hit ratio after the scan %.2f", tc.name, ratio)
		if ratio < tc.min {
			t.Errorf("%s: hot set hit ratio after the scan %.2f, want >= %.2f", tc.name, ratio, tc.min)
		}
		if tc.name == "lru" && ratio > 0 {
			t.Errorf("lru kept %.2f of the hot set through the scan", ratio)
		}
	}
}

// TestWTinyLFUFirstStepShrinks: the climber's first move, taken before it
// has a previous sample to compare with, shrinks the window (see WTinyLFU);
// the second sample, worse than the first, turns it around.
func TestWTinyLFUFirstStepShrinks(t *testing.T) {
	const c = 1000
	p := NewWTinyLFU[uint64](c)
	h := newHarness(p, c)
	start, _ := p.WindowMax()
	rng := rand.New(rand.NewPCG(5, 6))
	// First sample: a hot set that fits, so the hit ratio is high.
	for range climbSample * c {
		h.access(rng.Uint64N(c / 2))
	}
	first, _ := p.WindowMax()
	if first >= start {
		t.Fatalf("window %d after the first sample, started at %d: want it smaller", first, start)
	}
	// Second sample: one-off keys only, so the hit ratio falls to 0 and
	// the climber turns around.
	for i := range climbSample * c {
		h.access(1<<40 | uint64(i))
	}
	if second, _ := p.WindowMax(); second <= first {
		t.Fatalf("window %d after a worse second sample, %d before: want it larger", second, first)
	}
}

// TestWTinyLFUClimbs: on a recency-biased workload the window grows; on a
// frequency-biased one it shrinks back.
func TestWTinyLFUClimbs(t *testing.T) {
	const c = 1000
	p := NewWTinyLFU[uint64](c)
	h := newHarness(p, c)
	start, _ := p.WindowMax()
	// Recency: each phase reuses a fresh set of 900 keys a few times in a
	// row, then moves on; LRU holds the set, frequency says nothing.
	for phase := range uint64(300) {
		for range 3 {
			for k := range uint64(900) {
				h.access(phase<<20 | k)
			}
		}
	}
	grown, _ := p.WindowMax()
	if grown <= start*4 {
		t.Fatalf("window %d after a recency-biased workload, started at %d", grown, start)
	}
	// Frequency: a hot set of 950 keys, every other request a one-off key.
	// The one-offs only pass through the window; the smaller it is, the
	// more of the hot set the main space holds.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 * c {
		if i%2 == 0 {
			h.access(1<<40 | uint64(i))
		} else {
			h.access(1<<41 | rng.Uint64N(950))
		}
	}
	if shrunk, _ := p.WindowMax(); shrunk >= grown {
		t.Fatalf("window %d after a frequency-biased workload, %d before", shrunk, grown)
	}
}

// TestWTinyLFULearnsCapacity: with capacity 0 the policy sizes itself from
// the first eviction.
func TestWTinyLFULearnsCapacity(t *testing.T) {
	p := NewWTinyLFU[uint64](0)
	h := newHarness(p, 50)
	for i := range 10_000 {
		h.access(uint64(i*31) % 400)
		checkWTinyLFU(t, p, len(h.nodes))
	}
	if w, c := p.WindowMax(); c != 50 || w < 1 {
		t.Fatalf("learned window %d of capacity %d, want capacity 50", w, c)
	}
}

// TestWTinyLFURejectsColdCandidate: a key seen once loses against a
// frequently seen victim and is itself evicted.
func TestWTinyLFURejectsColdCandidate(t *testing.T) {
	const c = 100
	p := NewWTinyLFU[uint64](c)
	h := newHarness(p, c)
	for range 5 {
		for k := range uint64(c) {
			h.access(k)
		}
	}
	h.access(5000) // enters the window, pushing a hot key to probation, which wins
	h.access(5001) // pushes 5000 out of the window: it loses
	if _, ok := h.nodes[5000]; ok {
		t.Fatal("a one-off key displaced a hot one")
	}
	for k := range uint64(c) {
		if _, ok := h.nodes[k]; !ok && k != 0 {
			// One hot key may have been displaced by the window itself.
			if len(h.nodes) != c {
				t.Fatalf("hot key %d evicted", k)
			}
		}
	}
}

// TestPoliciesTouchDoesNotAllocate: Touch runs under the write lock for
// every buffered Get and must not allocate.
func TestPoliciesTouchDoesNotAllocate(t *testing.T) {
	for _, sp := range simPolicies {
		h := newHarness(sp.new(64), 64)
		for k := range uint64(200) {
			h.access(k % 80)
		}
		var held []*Node[uint64]
		for _, n := range h.nodes {
			held = append(held, n)
		}
		i := 0
		if a := testing.AllocsPerRun(1000, func() {
			h.p.Touch(held[i%len(held)])
			i++
		}); a != 0 {
			t.Errorf("%s: Touch allocates %.1f times", sp.name, a)
		}
	}
}

// TestLRUOrder: the LRU policy evicts in least recently used order.
func TestLRUOrder(t *testing.T) {
	h := newHarness(NewLRU[uint64](), 3)
	for _, k := range []uint64{1, 2, 3, 1, 4} { // 2 is the oldest when 4 comes
		h.access(k)
	}
	if _, ok := h.nodes[2]; ok || len(h.nodes) != 3 {
		t.Fatalf("LRU holds %v, want 1, 3, 4", h.nodes)
	}
}
