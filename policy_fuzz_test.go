package shardcache

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shardcache/shardcache/internal/policy"
)

// policyConfigs are the Policy × Admission combinations under test.
var policyConfigs = []struct {
	p Policy
	a Admission
}{{LRU, AdmitAll}, {ARC, AdmitAll}, {LRU, AdmitTinyLFU}, {ARC, AdmitTinyLFU}}

// policyMirror drives a policy instance directly, the way a one-shard
// cache should: hits are buffered as the read buffer buffers them (16
// records, replayed before every write and whenever a reader finds the
// buffer full, skipping entries removed meanwhile) unless the entry is
// fresh (promoted fewer than freshFor(len) promotions ago), misses are
// filled by Set, and Set evicts while over capacity.
type policyMirror struct {
	p          policy.Policy[int]
	nodes      map[int]*policy.Node[int]
	keys       map[*policy.Node[int]]int    // nodes' keys: a Node holds none
	stamps     map[*policy.Node[int]]uint64 // promotion count at the node's last Touch
	promotions uint64                       // Inserts and Touches so far
	pending    []*policy.Node[int]
	c          int
	evicted    []int
	rejected   uint64 // newcomers the admission filter refused
	hits       uint64
	skipped    int // hits not recorded because the entry was fresh
}

func newPolicyMirror(p Policy, a Admission, c int) *policyMirror {
	return &policyMirror{p: newPolicy[int](p, a, c), nodes: map[int]*policy.Node[int]{},
		keys: map[*policy.Node[int]]int{}, stamps: map[*policy.Node[int]]uint64{}, c: c}
}

func (m *policyMirror) touch(n *policy.Node[int]) {
	m.p.Touch(n)
	m.promotions++
	m.stamps[n] = m.promotions
}

func (m *policyMirror) drain() {
	for _, n := range m.pending {
		if n.Linked() {
			m.touch(n)
		}
	}
	m.pending = m.pending[:0]
}

func (m *policyMirror) get(k int) bool {
	n, ok := m.nodes[k]
	if !ok {
		return false
	}
	m.hits++
	if m.promotions-m.stamps[n] < freshFor(len(m.nodes)) {
		m.skipped++
		return true
	}
	if len(m.pending) == stripeSlots {
		m.drain()
	}
	m.pending = append(m.pending, n)
	return true
}

func (m *policyMirror) set(k int, hash uint64) {
	m.drain()
	if n, ok := m.nodes[k]; ok {
		if m.promotions-m.stamps[n] >= freshFor(len(m.nodes)) {
			m.touch(n) // an overwrite promotes like a hit: not when fresh
		}
		return
	}
	n := &policy.Node[int]{Hash: hash}
	m.nodes[k] = n
	m.keys[n] = k
	m.p.Insert(n)
	for m.p.Len() > m.c {
		vn, _ := m.p.Victim()
		v := m.keys[vn]
		m.p.Remove(vn, true)
		delete(m.nodes, v)
		delete(m.keys, vn)
		if vn == n {
			// Admission refused the newcomer: it was never stored, so
			// it is no eviction and no promotion.
			m.rejected++
			return
		}
		m.evicted = append(m.evicted, v)
	}
	m.promotions++
}

func (m *policyMirror) delete(k int) bool {
	n, ok := m.nodes[k]
	if ok {
		m.p.Remove(n, false)
		delete(m.nodes, k)
		delete(m.keys, n)
	}
	return ok
}

// runPolicyDifferential runs ops (op, key pairs) through a one-shard cache
// with the given policy and through policyMirror, comparing every Get, every
// eviction in order, Len and the hit count. It returns the number of hits
// the mirror did not record because their entry was fresh.
func runPolicyDifferential(t *testing.T, p Policy, a Admission, c int, ops [][2]int) (skipped int) {
	t.Helper()
	var evicted []int
	cfg := Config[int, int]{Shards: 1, MaxEntries: c, Policy: p, Admission: a,
		OnRemove: func(k, _ int, r RemoveReason) {
			if r == ReasonEvicted {
				evicted = append(evicted, k)
			}
		}}
	cache := newManual(t, cfg)
	hash := defaultHasher[int]()
	m := newPolicyMirror(p, a, c)
	for i, op := range ops {
		k := op[1]
		where := fmt.Sprintf("%v+%v c=%d op %d", p, a, c, i)
		switch op[0] {
		case 0: // Get, and Set on a miss (demand fill)
			_, ok := cache.Get(k)
			if mok := m.get(k); ok != mok {
				t.Fatalf("%s: Get(%d) = %v, mirror %v", where, k, ok, mok)
			}
			if !ok {
				cache.Set(k, k)
				m.set(k, hash(k))
			}
		case 1:
			cache.Set(k, k)
			m.set(k, hash(k))
		case 2:
			if got, want := cache.Delete(k), m.delete(k); got != want {
				t.Fatalf("%s: Delete(%d) = %v, mirror %v", where, k, got, want)
			}
		}
		if !slices.Equal(evicted, m.evicted) {
			t.Fatalf("%s: evicted %v, mirror %v", where, evicted, m.evicted)
		}
		if cache.Len() != len(m.nodes) {
			t.Fatalf("%s: Len %d, mirror %d", where, cache.Len(), len(m.nodes))
		}
	}
	if got := cache.Stats().Hits; got != m.hits {
		t.Fatalf("%v+%v c=%d: Stats().Hits %d, mirror %d", p, a, c, got, m.hits)
	}
	if got := cache.Stats().Rejected; got != m.rejected {
		t.Fatalf("%v+%v c=%d: Stats().Rejected %d, mirror %d", p, a, c, got, m.rejected)
	}
	return m.skipped
}

// FuzzCachePolicy checks that a one-shard cache drives every policy exactly
// as documented: the first byte picks the policy, admission and capacity,
// the rest are (op, key) pairs. Its seeds run in plain go test.
func FuzzCachePolicy(f *testing.F) {
	f.Add([]byte{0x09, 0, 1, 0, 2, 0, 3, 0, 1, 0, 4, 2, 1, 0, 5})
	f.Add([]byte{0x1a, 0, 1, 0, 2, 0, 1, 0, 3, 0, 4, 0, 5, 0, 1, 0, 6})
	f.Add([]byte{0x2b, 1, 1, 1, 2, 0, 1, 0, 1, 1, 3, 1, 4, 2, 1, 0, 1})
	f.Add([]byte{0x3c, 0, 7, 0, 8, 0, 7, 0, 9, 0, 10, 0, 7, 0, 11, 0, 12, 2, 7, 0, 7})
	f.Add(slices.Repeat([]byte{0x33, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 1, 0, 1, 2, 2, 0, 6}, 10))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		conf := policyConfigs[(data[0]>>4)&3]
		c := 1 + int(data[0]&7)
		var ops [][2]int
		for i := 1; i+1 < len(data); i += 2 {
			ops = append(ops, [2]int{int(data[i] % 3), int(data[i+1] % 16)})
		}
		runPolicyDifferential(t, conf.p, conf.a, c, ops)
	})
}

// TestCachePolicyDifferential runs longer random workloads (skewed keys,
// deletions, enough requests for TinyLFU to age and climb) through
// runPolicyDifferential for every combination.
func TestCachePolicyDifferential(t *testing.T) {
	for _, conf := range policyConfigs {
		for _, c := range []int{4, 64, 256} {
			t.Run(fmt.Sprintf("policy=%v/admission=%v/c=%d", conf.p, conf.a, c), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(c), uint64(conf.p)<<1|uint64(conf.a)))
				ops := make([][2]int, 20*c*10)
				for i := range ops {
					k := int(rng.ExpFloat64() * float64(c))
					op := 0
					switch rng.IntN(20) {
					case 0:
						op = 2
					case 1:
						op = 1
					}
					ops[i] = [2]int{op, k}
				}
				skipped := runPolicyDifferential(t, conf.p, conf.a, c, ops)
				if c >= 256 && skipped == 0 {
					t.Fatalf("no hit on a fresh entry was skipped: the workload does not exercise isFresh")
				}
			})
		}
	}
}
