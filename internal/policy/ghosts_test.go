package policy

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// ghostModel is what ghosts must behave like: two slices, newest first.
type ghostModel struct {
	cap   int
	lists [3][]uint64
}

func (m *ghostModel) find(h uint64) uint8 {
	for l := uint8(b1); l <= b2; l++ {
		if slices.Contains(m.lists[l], h) {
			return l
		}
	}
	return 0
}

func (m *ghostModel) forget(h uint64) {
	for l := b1; l <= b2; l++ {
		if i := slices.Index(m.lists[l], h); i >= 0 {
			m.lists[l] = slices.Delete(m.lists[l], i, i+1)
		}
	}
}

func (m *ghostModel) dropOldest(l uint8) {
	if n := len(m.lists[l]); n > 0 {
		m.lists[l] = m.lists[l][:n-1]
	}
}

func (m *ghostModel) push(l uint8, h uint64, dropB1 bool) {
	m.forget(h)
	if len(m.lists[b1])+len(m.lists[b2]) == m.cap {
		if len(m.lists[b1]) > 0 && (dropB1 || len(m.lists[b2]) == 0) {
			m.dropOldest(b1)
		} else {
			m.dropOldest(b2)
		}
	}
	m.lists[l] = slices.Insert(m.lists[l], 0, h)
}

// unmix inverts ghostMix, so that a test can choose where a hash lands in
// the index: ghostMix(unmix(m)) == m.
func unmix(m uint64) uint64 {
	const k = 0x9e3779b97f4a7c15
	inv := uint64(k) // Newton's iteration for the inverse of an odd k mod 2^64
	for range 6 {
		inv *= 2 - k*inv
	}
	return m * inv
}

// TestGhostsMatchModel drives ghosts and the model with random pushes,
// forgets and drops over hashes chosen to stress the index: many share a
// tag (the index must compare full hashes), many share a home slot, and
// the homes sit at the end of the table, so probe runs wrap around and
// deletions shift slots back across the wrap.
func TestGhostsMatchModel(t *testing.T) {
	if ghostMix(unmix(0x0123456789abcdef)) != 0x0123456789abcdef {
		t.Fatal("unmix does not invert ghostMix")
	}
	for _, n := range []int{1, 2, 5, 8, 13} {
		var g ghosts
		g.resize(n)
		bits := 64 - g.shift
		top := uint64(1)<<bits - 1 // the last slot
		var universe []uint64
		for j, home := range []uint64{top, top, top - 1, 0} {
			for low := range uint64(3) {
				// The same home with different tags, and equal tags
				// with different low halves (low 0 and 2, and the two
				// runs at the top).
				tag := home<<(32-bits) | low%2
				universe = append(universe, unmix(tag<<32|uint64(j)<<8|low))
			}
		}
		model := ghostModel{cap: n}
		r := rand.New(rand.NewPCG(uint64(n), 1))
		for op := range 4000 {
			h := universe[r.IntN(len(universe))]
			switch k := r.IntN(10); {
			case k < 6:
				l, drop := uint8(b1+r.IntN(2)), r.IntN(2) == 0
				g.push(l, h, drop)
				model.push(l, h, drop)
			case k < 8:
				g.forget(h)
				model.forget(h)
			default:
				l := uint8(b1 + r.IntN(2))
				g.dropOldest(l)
				model.dropOldest(l)
			}
			for l := uint8(b1); l <= b2; l++ {
				if got := ghostKeys(&g, l); !slices.Equal(got, model.lists[l]) {
					t.Fatalf("n=%d op %d: list %d = %x, want %x", n, op, l, got, model.lists[l])
				}
				if g.len(l) != len(model.lists[l]) {
					t.Fatalf("n=%d op %d: len(%d) = %d, want %d", n, op, l, g.len(l), len(model.lists[l]))
				}
			}
			for _, u := range universe {
				if got, want := g.find(u), model.find(u); got != want {
					t.Fatalf("n=%d op %d: find(%x) = %d, want %d", n, op, u, got, want)
				}
			}
			used := 0
			for _, s := range g.slots {
				if s != 0 {
					used++
				}
			}
			if want := len(model.lists[b1]) + len(model.lists[b2]); used != want {
				t.Fatalf("n=%d op %d: %d index slots used for %d ghosts", n, op, used, want)
			}
		}
	}
}

// TestGhostsResizeKeepsHistory raises the limit of a pool that holds
// ghosts: they stay in their lists, in order, the index still finds every
// one, and the pool then grows to the new limit before it drops any.
func TestGhostsResizeKeepsHistory(t *testing.T) {
	var g ghosts
	g.resize(4)
	for h := uint64(1); h <= 6; h++ {
		g.push(uint8(b1+h%2), h*0x1000, true)
	}
	before := [3][]uint64{nil, ghostKeys(&g, b1), ghostKeys(&g, b2)}
	g.resize(100)
	if g.cap() != 100 || len(g.nodes) != 4 {
		t.Fatalf("cap %d, %d nodes after resize(100): resize must only raise the limit", g.cap(), len(g.nodes))
	}
	for l := uint8(b1); l <= b2; l++ {
		if got := ghostKeys(&g, l); !slices.Equal(got, before[l]) {
			t.Errorf("list %d = %x after resize, want %x", l, got, before[l])
		}
	}
	for h := uint64(100); h < 196; h++ { // 96 more: the pool reaches 100 without dropping
		g.push(b2, h, false)
	}
	for l := uint8(b1); l <= b2; l++ {
		for _, h := range before[l] {
			if g.find(h) != l {
				t.Errorf("find(%x) = %d after growing, want %d", h, g.find(h), l)
			}
		}
	}
	if n := g.len(b1) + g.len(b2); n != 100 || len(g.nodes) != 100 {
		t.Errorf("%d ghosts in %d nodes, want 100 in 100", n, len(g.nodes))
	}
	old := ghostKeys(&g, b2)
	g.push(b2, 1000, false) // full: the oldest of B2 (dropB1 is false) makes room
	want := append([]uint64{1000}, old[:len(old)-1]...)
	if got := ghostKeys(&g, b2); !slices.Equal(got, want) || len(g.nodes) != 100 || g.find(old[len(old)-1]) != 0 {
		t.Errorf("full pool: B2 = %x in %d nodes, want %x in 100", got, len(g.nodes), want)
	}
}

// TestGhostsAllocateOnDemand checks that a large limit costs nothing until
// ghosts arrive, and that the pool and index grow by doubling.
func TestGhostsAllocateOnDemand(t *testing.T) {
	var g ghosts
	g.resize(1 << 20)
	if g.nodes != nil || g.slots != nil {
		t.Fatalf("resize allocated %d nodes and %d slots", len(g.nodes), len(g.slots))
	}
	if g.find(7) != 0 {
		t.Fatal("empty pool finds a ghost")
	}
	g.forget(7) // no index yet: must not panic
	g.dropOldest(b1)
	var sizes []int
	for h := uint64(1); h <= 100; h++ {
		g.push(b1, h, true)
		if len(sizes) == 0 || sizes[len(sizes)-1] != len(g.nodes) {
			sizes = append(sizes, len(g.nodes))
		}
		if len(g.slots) < 2*len(g.nodes) {
			t.Fatalf("%d slots for %d nodes: the index must stay at most half full", len(g.slots), len(g.nodes))
		}
	}
	if want := []int{4, 8, 16, 32, 64, 128}; !slices.Equal(sizes, want) {
		t.Errorf("pool sizes %v, want %v", sizes, want)
	}
	for h := uint64(1); h <= 100; h++ {
		if g.find(h) != b1 {
			t.Fatalf("find(%d) = %d after growing", h, g.find(h))
		}
	}
}
