package shardcache

import (
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// The engine's own benchmarks. Every benchmark has one sub-benchmark per
// shard count, named shards=N, so that
//
//	go test -run '^$' -bench . -count 10 | benchstat -col /shards -
//
// compares shard counts (make bench-shards). Keys follow a Zipf law (s=1.1)
// over benchKeys string keys, all present in the cache, pre-generated into a
// ring that each goroutine walks from its own random offset.

const (
	benchKeys = 1 << 16
	ringSize  = 1 << 20
)

var benchShards = []int{1, 4, 16, 64, 256}

var (
	benchKeyNames = func() []string {
		k := make([]string, benchKeys)
		for i := range k {
			k[i] = "key:" + strconv.Itoa(i)
		}
		return k
	}()
	benchRing = func() []uint32 {
		z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, benchKeys-1)
		r := make([]uint32, ringSize)
		for i := range r {
			r[i] = uint32(z.Uint64())
		}
		return r
	}()
	benchOffset atomic.Uint64
)

// ringStart returns a starting position in benchRing for one goroutine.
func ringStart() uint64 { return benchOffset.Add(ringSize/7 + 13) }

// newFilled returns a cache made from cfg, closed when b ends, in which
// every bench key has been set once.
func newFilled(b *testing.B, cfg Config[string, int]) *Cache[string, int] {
	b.Helper()
	c, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	for i, k := range benchKeyNames {
		c.Set(k, i)
	}
	return c
}

func newBenchCache(b *testing.B, shards int) *Cache[string, int] {
	b.Helper()
	return newFilled(b, Config[string, int]{Shards: shards, MaxEntries: benchKeys})
}

func forShards(b *testing.B, fn func(b *testing.B, c *Cache[string, int])) {
	for _, n := range benchShards {
		b.Run("shards="+strconv.Itoa(n), func(b *testing.B) {
			c := newBenchCache(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			fn(b, c)
		})
	}
}

func BenchmarkGet(b *testing.B) {
	forShards(b, func(b *testing.B, c *Cache[string, int]) {
		b.RunParallel(func(pb *testing.PB) {
			i := ringStart()
			for pb.Next() {
				c.Get(benchKeyNames[benchRing[i%ringSize]])
				i++
			}
		})
	})
}

// absentKeyNames are keys no benchmark stores.
var absentKeyNames = func() []string {
	k := make([]string, benchKeys)
	for i := range k {
		k[i] = "absent:" + strconv.Itoa(i)
	}
	return k
}()

// BenchmarkGetMiss looks up keys the cache does not hold, the path of a
// negative lookup: hash, probe, count the miss. No write on it may share a
// cache line with another core's (compare -cpu 1 and 2).
func BenchmarkGetMiss(b *testing.B) {
	forShards(b, func(b *testing.B, c *Cache[string, int]) {
		b.RunParallel(func(pb *testing.PB) {
			i := ringStart()
			for pb.Next() {
				if _, ok := c.Get(absentKeyNames[benchRing[i%ringSize]]); ok {
					b.Fatal("Get found an absent key")
				}
				i++
			}
		})
	})
}

func BenchmarkSet(b *testing.B) {
	forShards(b, func(b *testing.B, c *Cache[string, int]) {
		b.RunParallel(func(pb *testing.PB) {
			i := ringStart()
			for pb.Next() {
				c.Set(benchKeyNames[benchRing[i%ringSize]], int(i))
				i++
			}
		})
	})
}

// BenchmarkEvictingSet sets keys the cache does not hold, so that every
// Set inserts and evicts: a cache of benchKeys/4 entries, keys taken in
// order from all benchKeys.
func BenchmarkEvictingSet(b *testing.B) {
	for _, n := range benchShards {
		b.Run("shards="+strconv.Itoa(n), func(b *testing.B) {
			evictingSets(b, Config[string, int]{Shards: n})
		})
	}
}

// evictingSets fills a cache built from cfg with MaxEntries a quarter of
// the keys, then times Sets that walk all the keys, so every one inserts a
// key the cache does not hold and evicts one.
func evictingSets(b *testing.B, cfg Config[string, int]) {
	cfg.MaxEntries = benchKeys / 4
	c := newFilled(b, cfg)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := ringStart()
		for pb.Next() {
			c.Set(benchKeyNames[i%benchKeys], int(i))
			i++
		}
	})
}

func BenchmarkUpdate(b *testing.B) {
	forShards(b, func(b *testing.B, c *Cache[string, int]) {
		b.RunParallel(func(pb *testing.PB) {
			i := ringStart()
			for pb.Next() {
				c.Update(benchKeyNames[benchRing[i%ringSize]], int(i))
				i++
			}
		})
	})
}

// BenchmarkDelete measures one Delete of a present key followed by the Set
// that puts it back, so the cache stays full: one op is the pair.
func BenchmarkDelete(b *testing.B) {
	forShards(b, func(b *testing.B, c *Cache[string, int]) {
		b.RunParallel(func(pb *testing.PB) {
			i := ringStart()
			for pb.Next() {
				k := benchKeyNames[benchRing[i%ringSize]]
				c.Delete(k)
				c.Set(k, int(i))
				i++
			}
		})
	})
}

// BenchmarkMix is 90% Get and 10% Set, over the same keys.
func BenchmarkMix(b *testing.B) {
	forShards(b, func(b *testing.B, c *Cache[string, int]) {
		b.RunParallel(func(pb *testing.PB) {
			i := ringStart()
			for pb.Next() {
				k := benchKeyNames[benchRing[i%ringSize]]
				if i%10 == 0 {
					c.Set(k, int(i))
				} else {
					c.Get(k)
				}
				i++
			}
		})
	})
}

// BenchmarkExpiry measures one expiry pass (one clock tick: every shard's
// wheel advanced by a millisecond) with keys=N live entries whose deadlines
// are far away. Its cost must not grow with N: the wheel never scans keys.
func BenchmarkExpiry(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run("keys="+strconv.Itoa(n), func(b *testing.B) {
			c := newManual(b, Config[int, int]{})
			for i := range n {
				// Deadlines spread over a year, far beyond the benchmark's reach.
				c.SetWithTTL(i, i, 24*time.Hour*time.Duration(2+i%365))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				c.advance(clockTick)
			}
			b.StopTimer()
			if c.Len() != n {
				b.Fatalf("Len = %d, want %d: entries expired early", c.Len(), n)
			}
		})
	}
}
