package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// refARC is the reference the differential tests compare ARC with: the ARC
// of the paper written as plainly as possible, with slices (front = most
// recent) and linear searches, plus the two rules ARC documents beyond the
// paper's pseudo-code: the ghost history holds at most c keys and, when
// full, drops B1's oldest if B1 is over its share c-p (B2's otherwise); and
// the shard evicts while it holds more than c entries, the new key counting
// in neither list for REPLACE.
type refARC struct {
	c, p           int
	t1, t2, b1, b2 []uint64
}

func (r *refARC) String() string {
	return fmt.Sprintf("p=%d T1=%v T2=%v B1=%v B2=%v", r.p, r.t1, r.t2, r.b1, r.b2)
}

// access requests k and returns whether it hit and the keys evicted.
func (r *refARC) access(k uint64) (hit bool, evicted []uint64) {
	if del(&r.t1, k) || del(&r.t2, k) {
		r.t2 = slices.Insert(r.t2, 0, k)
		return true, nil
	}
	fromB2 := false
	switch {
	case slices.Contains(r.b1, k):
		d := 1
		if len(r.b2) > len(r.b1) {
			d = len(r.b2) / len(r.b1)
		}
		r.p = min(r.p+d, r.c)
		del(&r.b1, k)
		r.t2 = slices.Insert(r.t2, 0, k)
	case slices.Contains(r.b2, k):
		d := 1
		if len(r.b1) > len(r.b2) {
			d = len(r.b1) / len(r.b2)
		}
		r.p = max(r.p-d, 0)
		del(&r.b2, k)
		r.t2 = slices.Insert(r.t2, 0, k)
		fromB2 = true
	default:
		r.t1 = slices.Insert(r.t1, 0, k)
	}
	for len(r.t1)+len(r.t2) > r.c {
		evicted = append(evicted, r.replace(k, fromB2))
	}
	return false, evicted
}

// replace is REPLACE: it evicts one key (never x unless nothing else is
// held) and remembers it as a ghost.
func (r *refARC) replace(x uint64, fromB2 bool) uint64 {
	t1, t2 := len(r.t1), len(r.t2)
	if slices.Contains(r.t1, x) {
		t1--
	} else if slices.Contains(r.t2, x) {
		t2--
	}
	var v uint64
	switch {
	case t1 >= 1 && (t1 > r.p || (fromB2 && t1 == r.p) || t2 == 0):
		v = r.t1[len(r.t1)-1]
		r.t1 = r.t1[:len(r.t1)-1]
		r.ghost(&r.b1, v)
	case t2 >= 1:
		v = r.t2[len(r.t2)-1]
		r.t2 = r.t2[:len(r.t2)-1]
		r.ghost(&r.b2, v)
	default: // x alone
		v = x
		if del(&r.t1, x) {
			r.ghost(&r.b1, x)
		} else {
			del(&r.t2, x)
			r.ghost(&r.b2, x)
		}
	}
	return v
}

func (r *refARC) ghost(l *[]uint64, k uint64) {
	if len(r.b1)+len(r.b2) >= r.c {
		if len(r.b1) > 0 && (len(r.b1) > r.c-r.p || len(r.b2) == 0) {
			r.b1 = r.b1[:len(r.b1)-1]
		} else {
			r.b2 = r.b2[:len(r.b2)-1]
		}
	}
	*l = slices.Insert(*l, 0, k)
}

// remove deletes k from the cache (no ghost).
func (r *refARC) remove(k uint64) bool { return del(&r.t1, k) || del(&r.t2, k) }

func del(l *[]uint64, k uint64) bool {
	i := slices.Index(*l, k)
	if i < 0 {
		return false
	}
	*l = slices.Delete(*l, i, i+1)
	return true
}

// arcHarness drives an ARC policy the way a shard does, keyed by uint64
// keys that are their own hashes.
type arcHarness struct {
	p     *ARC[uint64]
	nodes map[uint64]*Node[uint64]
	c     int
}

func newARCHarness(c int) *arcHarness {
	return &arcHarness{p: NewARC[uint64](c), nodes: map[uint64]*Node[uint64]{}, c: c}
}

func (h *arcHarness) access(k uint64) (hit bool, evicted []uint64) {
	if n, ok := h.nodes[k]; ok {
		h.p.Touch(n)
		return true, nil
	}
	n := newKeyed(k, k)
	h.nodes[k] = n
	h.p.Insert(n)
	for h.p.Len() > h.c {
		vn, ok := h.p.Victim()
		if !ok {
			panic("no victim")
		}
		v := keyOf(vn)
		h.p.Remove(h.nodes[v], true)
		delete(h.nodes, v)
		evicted = append(evicted, v)
	}
	return false, evicted
}

func (h *arcHarness) remove(k uint64) bool {
	n, ok := h.nodes[k]
	if ok {
		h.p.Remove(n, false)
		delete(h.nodes, k)
	}
	return ok
}

func keysOf(l *queue[uint64]) []uint64 {
	var out []uint64
	for e := l.Front(); e != nil; e = e.Next() {
		out = append(out, keyOf(e))
	}
	return out
}

func ghostKeys(g *ghosts, l uint8) []uint64 {
	var out []uint64
	if len(g.nodes) == 0 {
		return out
	}
	for i := g.lists[l].front; i >= 0; i = g.nodes[i].next {
		out = append(out, g.nodes[i].hash)
	}
	return out
}

// state describes h's policy like refARC.String.
func (h *arcHarness) state() string {
	return fmt.Sprintf("p=%d T1=%v T2=%v B1=%v B2=%v", h.p.p, nilIfEmpty(keysOf(&h.p.t1)), nilIfEmpty(keysOf(&h.p.t2)),
		nilIfEmpty(ghostKeys(&h.p.g, b1)), nilIfEmpty(ghostKeys(&h.p.g, b2)))
}

func nilIfEmpty(s []uint64) []uint64 {
	if len(s) == 0 {
		return nil
	}
	return s
}

func (r *refARC) state() string {
	return fmt.Sprintf("p=%d T1=%v T2=%v B1=%v B2=%v", r.p, nilIfEmpty(r.t1), nilIfEmpty(r.t2), nilIfEmpty(r.b1), nilIfEmpty(r.b2))
}

// arcOp is one step of a differential run: an access, or a delete when del.
type arcOp struct {
	key uint64
	del bool
}

// runARCDifferential replays ops through ARC and refARC and fails at the
// first difference in a result, an eviction, p, or any of the four lists.
func runARCDifferential(t *testing.T, c int, ops []arcOp) {
	t.Helper()
	h := newARCHarness(c)
	r := &refARC{c: c}
	for i, op := range ops {
		if op.del {
			if got, want := h.remove(op.key), r.remove(op.key); got != want {
				t.Fatalf("op %d delete(%d): %v, reference %v", i, op.key, got, want)
			}
		} else {
			hit, ev := h.access(op.key)
			rhit, rev := r.access(op.key)
			if hit != rhit || !slices.Equal(ev, rev) {
				t.Fatalf("op %d access(%d): hit %v evicted %v, reference hit %v evicted %v\nARC %s\nref %s",
					i, op.key, hit, ev, rhit, rev, h.state(), r.state())
			}
		}
		if got, want := h.state(), r.state(); got != want {
			t.Fatalf("op %d %+v: state\nARC %s\nref %s", i, op, got, want)
		}
		if n := h.p.g.len(b1) + h.p.g.len(b2); n > c {
			t.Fatalf("op %d: %d ghosts, capacity %d", i, n, c)
		}
	}
}

// TestARCMatchesReference runs random workloads (uniform, skewed, looping,
// with and without deletions) through ARC and the reference.
func TestARCMatchesReference(t *testing.T) {
	for _, c := range []int{1, 2, 3, 5, 8, 16, 50} {
		for _, load := range []string{"uniform", "skewed", "loop", "deletes"} {
			t.Run(fmt.Sprintf("c=%d/load=%s", c, load), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(c), 7))
				ops := make([]arcOp, 4000)
				for i := range ops {
					switch load {
					case "uniform":
						ops[i].key = rng.Uint64N(uint64(3 * c))
					case "skewed": // a hot set with bursts of cold keys
						if rng.IntN(3) == 0 {
							ops[i].key = 1000 + rng.Uint64N(uint64(20*c))
						} else {
							ops[i].key = rng.Uint64N(uint64(c/2 + 1))
						}
					case "loop":
						ops[i].key = uint64(i % (c + c/3 + 1))
						if rng.IntN(5) == 0 {
							ops[i].key = rng.Uint64N(uint64(c))
						}
					case "deletes":
						ops[i] = arcOp{key: rng.Uint64N(uint64(2 * c)), del: rng.IntN(4) == 0}
					}
				}
				runARCDifferential(t, c, ops)
			})
		}
	}
}

// FuzzARC decodes the input into a capacity and a sequence of accesses and
// deletions and compares ARC with the reference. Its seeds run in plain
// go test.
func FuzzARC(f *testing.F) {
	f.Add([]byte{2, 0, 1, 2, 3, 0, 1, 4, 5, 0, 1, 2})
	f.Add([]byte{4, 1, 2, 3, 4, 5, 6, 1, 2, 7, 8, 9, 1, 2, 3, 0x81, 2, 3, 4})
	f.Add([]byte{1, 0, 0, 1, 1, 2, 0, 1, 3, 3, 3, 0x80, 0})
	f.Add(slices.Repeat([]byte{7, 1, 2, 3, 9, 10, 11, 12, 1, 2, 0x83, 13, 14, 15}, 12))
	f.Add([]byte("\x05\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x09\x0a\x0b\x01\x02\x0c\x0d\x0e\x0f\x10\x04\x05"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		c := 1 + int(data[0]%12)
		ops := make([]arcOp, 0, len(data)-1)
		for _, b := range data[1:] {
			ops = append(ops, arcOp{key: uint64(b & 0x3f), del: b&0x80 != 0})
		}
		runARCDifferential(t, c, ops)
	})
}

// TestARCAdaptsTarget checks both directions of p on a loop over 120 keys
// in a cache of 100. The first pass fills T1 and leaves the last 20 keys
// evicted in B1; on the second every key is a B1 ghost (T1 was too small),
// so p grows to c and T2 fills. On the third, the keys come back from B2
// (T2 was too small) and p falls.
func TestARCAdaptsTarget(t *testing.T) {
	const c = 100
	h := newARCHarness(c)
	pass := func() {
		for k := range uint64(c + 20) {
			h.access(k)
		}
	}
	pass()
	if p, _ := h.p.Target(); p != 0 {
		t.Fatalf("p = %d after one pass, want 0", p)
	}
	pass()
	grown, _ := h.p.Target()
	if grown == 0 {
		t.Fatalf("p stayed 0 after B1 hits")
	}
	pass()
	if shrunk, _ := h.p.Target(); shrunk >= grown {
		t.Fatalf("p = %d after B2 hits, %d before", shrunk, grown)
	}
}

// TestARCLearnsCapacity checks capacity 0: ARC takes c from the first
// eviction and keeps its ghosts within it.
func TestARCLearnsCapacity(t *testing.T) {
	p := NewARC[uint64](0)
	nodes := map[uint64]*Node[uint64]{}
	budget := 10 // a cost budget the policy does not know
	for i := range 1000 {
		k := uint64(i*7) % 37
		if n, ok := nodes[k]; ok {
			p.Touch(n)
			continue
		}
		n := newKeyed(k, k)
		nodes[k] = n
		p.Insert(n)
		for p.Len() > budget {
			vn, _ := p.Victim()
			v := keyOf(vn)
			p.Remove(nodes[v], true)
			delete(nodes, v)
		}
		if g := p.g.len(b1) + p.g.len(b2); g > budget {
			t.Fatalf("%d ghosts for a learned capacity of %d", g, budget)
		}
	}
	if _, c := p.Target(); c != budget {
		t.Fatalf("learned capacity %d, want %d", c, budget)
	}
}

// TestARCVictimEmpty checks Victim on an empty policy.
func TestARCVictimEmpty(t *testing.T) {
	if _, ok := NewARC[int](4).Victim(); ok {
		t.Fatal("Victim on an empty ARC returned an entry")
	}
}
