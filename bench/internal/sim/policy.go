package sim

import (
	"fmt"
	"math/bits"

	"github.com/shardcache/shardcache/internal/mix"
	"github.com/shardcache/shardcache/internal/policy"
)

// Policy names one of the engine's eviction policies (package policy) and
// builds an instance for a shard of the given capacity.
type Policy struct {
	Name string
	New  func(capacity int) policy.Policy[uint64]
}

// Policies lists the engine's policies by the names the policy tables use.
func Policies() []Policy {
	return []Policy{
		{"lru", func(int) policy.Policy[uint64] { return policy.NewLRU[uint64]() }},
		{"arc", func(c int) policy.Policy[uint64] { return policy.NewARC[uint64](c) }},
		{"wtinylfu", func(c int) policy.Policy[uint64] { return policy.NewWTinyLFU[uint64](c) }},
		{"arc+tinylfu", func(c int) policy.Policy[uint64] { return policy.NewARCTinyLFU[uint64](c) }},
	}
}

// ReplayPolicy replays keys through shards instances of a policy, below any
// cache: it measures the policy alone, without the engine's read buffers,
// fresh-entry skipping or locks. Each key is hashed with the engine's integer
// mixer (mix.Uint64) and sent to the instance its low hash bits pick, as the
// engine picks a shard; capacity is split over the instances, the first
// capacity%shards getting one more. A hit Touches the node; a miss Inserts a
// new one (demand fill) and then removes Victims until the instance is within
// its capacity, as a shard does. One goroutine, so the result is repeatable.
// shards must be a power of two.
func ReplayPolicy(p Policy, keys []uint64, capacity, shards int) Result {
	if shards <= 0 || bits.OnesCount(uint(shards)) != 1 {
		panic(fmt.Sprintf("sim: ReplayPolicy with %d shards, want a power of two", shards))
	}
	type shard struct {
		p policy.Policy[uint64]
		// nodes is keyed by the key's hash, which names the key: the mixer
		// is a bijection, and the node a Victim returns carries it.
		nodes map[uint64]*policy.Node[uint64]
		cap   int
	}
	ss := make([]shard, shards)
	for i := range ss {
		c := capacity / shards
		if i < capacity%shards {
			c++
		}
		ss[i] = shard{p: p.New(c), nodes: make(map[uint64]*policy.Node[uint64], c+1), cap: c}
	}
	var hits uint64
	for _, k := range keys {
		h := mix.Uint64(k)
		s := &ss[h&uint64(shards-1)]
		if n, ok := s.nodes[h]; ok {
			hits++
			s.p.Touch(n)
			continue
		}
		n := &policy.Node[uint64]{Hash: h}
		s.nodes[h] = n
		s.p.Insert(n)
		for s.p.Len() > s.cap {
			v, ok := s.p.Victim()
			if !ok {
				panic(fmt.Sprintf("sim: policy %s holds %d entries but names no victim", p.Name, s.p.Len()))
			}
			s.p.Remove(v, true)
			delete(s.nodes, v.Hash)
		}
	}
	return Result{Requests: uint64(len(keys)), Hits: hits}
}
