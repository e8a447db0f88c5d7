package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shardcache/shardcache/bench/internal/adapter"
	"github.com/shardcache/shardcache/bench/internal/workload"
)

// The throughput workload: Zipf keys over a key space 16 times the cache.
const (
	keyspace = 1 << 20 // distinct keys the Zipf law draws from
	ringLen  = 1 << 20 // precomputed requests; goroutines walk it from random offsets
	capacity = 1 << 16 // entries per cache
)

var (
	skews = []float64{0.8, 1.1}
	mixes = []int{100, 90, 75, 50, 0} // percent of operations that are Gets
	pars  = []int{1, 8}               // goroutines per GOMAXPROCS (b.SetParallelism)
)

// rings memoises the key sequences: built once per key type and skew, then
// shared read-only by every sub-benchmark and goroutine.
var rings sync.Map // ringID -> *ring[K]

type ringID struct {
	keys string
	skew float64
}

// ring holds a precomputed request sequence and the hot keys used to prefill.
type ring[K adapter.Key] struct {
	keys []K // len ringLen, a power of two
	hot  []K // the capacity most probable keys: the ideal cache contents
}

func getRing[K adapter.Key](b *testing.B, skew float64) *ring[K] {
	id := ringID{keys: keyTypeName[K](), skew: skew}
	if r, ok := rings.Load(id); ok {
		return r.(*ring[K])
	}
	ints, err := workload.Zipf(keyspace, skew, ringLen, 1)
	if err != nil {
		b.Fatal(err)
	}
	hot := make([]uint64, capacity)
	for i := range hot {
		hot[i] = workload.Scramble(uint64(i))
	}
	r := &ring[K]{keys: convert[K](ints), hot: convert[K](hot)}
	actual, _ := rings.LoadOrStore(id, r)
	return actual.(*ring[K])
}

func keyTypeName[K adapter.Key]() string {
	var k K
	if _, ok := any(k).(string); ok {
		return "string"
	}
	return "int"
}

// convert turns uint64 keys into K: identity for uint64, formatted (and
// interned) strings for string.
func convert[K adapter.Key](ints []uint64) []K {
	out := make([]K, len(ints))
	switch o := any(out).(type) {
	case []uint64:
		copy(o, ints)
	case []string:
		copy(o, workload.Strings(ints))
	}
	return out
}

// readPattern marks, for 100 consecutive operations, which are Gets: mix of
// them, spread in a fixed shuffled order so reads and writes interleave.
func readPattern(mix int) [100]bool {
	var p [100]bool
	for i := range mix {
		p[i] = true
	}
	r := rand.New(rand.NewPCG(uint64(mix), 7))
	r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// BenchmarkThroughput measures ns/op of a read/write mix under b.RunParallel
// for every cache. Run it with -cpu 1,2 for GOMAXPROCS; par=8x runs 8
// goroutines per GOMAXPROCS to show behaviour under oversubscription.
//
//	go test -run '^$' -bench Throughput -cpu 1,2 -count 6 | benchstat -col /cache -
func BenchmarkThroughput(b *testing.B) {
	forEachCache(b, func(f adapter.Factory[string, uint64]) bool { return !f.SimOnly },
		throughputKeys[string], throughputKeys[uint64])
}

// BenchmarkPolicies runs BenchmarkThroughput's workloads for shardcache
// with each eviction policy at the default shard count: LRU (cache
// shardcache), ARC (sc-arc) and W-TinyLFU (sc-tinylfu). It is apart from
// the peer suite, which it would lengthen by a quarter, and measures how far
// Get with ARC or admission stays from LRU (the goal: within 10%):
//
//	COUNT=6 BENCHTIME=200ms make bench-policies
func BenchmarkPolicies(b *testing.B) {
	forEachCache(b, func(f adapter.Factory[string, uint64]) bool {
		return f.Name == "shardcache" || f.Name == "sc-arc" || f.Name == "sc-tinylfu"
	}, throughputKeys[string], throughputKeys[uint64])
}

// forEachCache runs, for every cache that keep accepts, the sub-benchmarks
// cache=NAME/keys=string (str) and cache=NAME/keys=int (ints).
func forEachCache(b *testing.B, keep func(adapter.Factory[string, uint64]) bool,
	str func(*testing.B, adapter.Factory[string, uint64]), ints func(*testing.B, adapter.Factory[uint64, uint64])) {
	for _, f := range adapter.All[string, uint64]() {
		if !keep(f) {
			continue
		}
		b.Run("cache="+f.Name, func(b *testing.B) {
			b.Run("keys=string", func(b *testing.B) { str(b, f) })
			fi, err := adapter.Lookup[uint64, uint64](f.Name)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("keys=int", func(b *testing.B) { ints(b, fi) })
		})
	}
}

func throughputKeys[K adapter.Key](b *testing.B, f adapter.Factory[K, uint64]) {
	for _, s := range skews {
		for _, mix := range mixes {
			for _, par := range pars {
				name := fmt.Sprintf("zipf=%.1f/mix=%d/par=%dx", s, mix, par)
				b.Run(name, func(b *testing.B) { runMix(b, f, getRing[K](b, s), mix, par) })
			}
		}
	}
}

// newFilled builds f's cache and fills it with r's hot keys, flushing any
// write buffers, so timing starts from a warm, full cache.
func newFilled[K adapter.Key](b *testing.B, f adapter.Factory[K, uint64], r *ring[K]) adapter.Cache[K, uint64] {
	c, err := f.New(adapter.Config{Capacity: capacity})
	if errors.Is(err, adapter.ErrUnsupported) {
		b.Skipf("%s: %v", f.Name, err)
	}
	if err != nil {
		b.Fatal(err)
	}
	// Coldest first, so that the hottest keys are the most recently used:
	// an LRU that must drop a few (a sharded cache whose busiest shard is
	// over its share) then drops cold ones, as it would in steady state.
	for i := len(r.hot) - 1; i >= 0; i-- {
		c.Set(r.hot[i], uint64(i))
	}
	// A cache with buffered writes (ristretto) may drop some of a burst of
	// Sets by design; set what is missing again, so every cache starts with
	// the same contents. Rounds are bounded: a policy may refuse for good.
	for range 4 {
		if fl, ok := c.(adapter.Flusher); ok {
			fl.Flush()
		}
		missing := 0
		for i := len(r.hot) - 1; i >= 0; i-- {
			if _, ok := c.Get(r.hot[i]); !ok {
				c.Set(r.hot[i], uint64(i))
				missing++
			}
		}
		if missing == 0 {
			break
		}
	}
	return c
}

func runMix[K adapter.Key](b *testing.B, f adapter.Factory[K, uint64], r *ring[K], mix, par int) {
	c := newFilled(b, f, r)
	defer c.Close()
	pattern := readPattern(mix)
	var (
		seed        atomic.Uint64
		hits, reads atomic.Uint64
	)
	b.SetParallelism(par)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine starts at its own pseudo-random offset in the ring.
		i := workload.Scramble(seed.Add(1))
		j := int(i % 100)
		var h, n uint64
		for pb.Next() {
			k := r.keys[i&(ringLen-1)]
			if pattern[j] {
				if _, ok := c.Get(k); ok {
					h++
				}
				n++
			} else {
				c.Set(k, i)
			}
			i++
			if j++; j == len(pattern) {
				j = 0
			}
		}
		hits.Add(h)
		reads.Add(n)
	})
	b.StopTimer()
	if n := reads.Load(); n > 0 {
		b.ReportMetric(float64(hits.Load())/float64(n), "hits/get")
	}
}

// BenchmarkOverwrite measures Set of keys already in the cache: the update
// path, which should not allocate. It sets keys drawn at random from the
// hottest half of the prefilled keys, so that every one is surely resident:
// a sharded cache with per-shard budgets cannot hold a working set of
// exactly its capacity (its fullest shards overflow), and overwrites would
// turn into inserts. The order is random because walking the keys in order
// favours a cache with one recency list: moving a key to the front there
// rewrites the list element of the key set next, which its lookup then
// finds in the processor's cache.
func BenchmarkOverwrite(b *testing.B) {
	for _, f := range adapter.All[string, uint64]() {
		if f.SimOnly {
			continue
		}
		b.Run("cache="+f.Name, func(b *testing.B) {
			b.Run("keys=string", func(b *testing.B) { overwrite(b, f, getRing[string](b, skews[0])) })
			fi, err := adapter.Lookup[uint64, uint64](f.Name)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("keys=int", func(b *testing.B) { overwrite(b, fi, getRing[uint64](b, skews[0])) })
		})
	}
}

func overwrite[K adapter.Key](b *testing.B, f adapter.Factory[K, uint64], r *ring[K]) {
	c := newFilled(b, f, r)
	defer c.Close()
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := workload.Scramble(seed.Add(1))
		for pb.Next() {
			c.Set(r.hot[workload.Scramble(i)&(capacity/2-1)], i)
			i++
		}
	})
}
