package bench

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shardcache/shardcache/bench/internal/adapter"
)

// BenchmarkMemory reports what a full cache costs in heap: every cache
// (and shardcache with each eviction policy) is built for capacity entries and filled with capacity distinct keys (the
// throughput suite's prefill), and the live heap it added is divided by the
// entries it holds (B/entry). The keys are built beforehand and the values
// are uint64, so B/entry is the cache's own overhead: its entries, index,
// policy and admission structures, but not the bytes of string keys. ns/op
// is the time to build and fill one cache. B/entry does not depend on the
// machine's load, so one pass is enough:
//
//	go test -run '^$' -bench Memory -benchtime 3x
func BenchmarkMemory(b *testing.B) {
	// The one-shard variants are for the simulator; the policies stay.
	forEachCache(b, func(f adapter.Factory[string, uint64]) bool { return !strings.HasSuffix(f.Name, "-1") },
		memoryKeys[string], memoryKeys[uint64])
}

func memoryKeys[K adapter.Key](b *testing.B, f adapter.Factory[K, uint64]) {
	r := getRing[K](b, 1.1) // only its hot keys are used
	var bytes, held float64
	for range b.N {
		before := liveHeap()
		c := newFilled(b, f, r)
		added := liveHeap() - before
		n := 0
		for _, k := range r.hot {
			if _, ok := c.Get(k); ok {
				n++
			}
		}
		c.Close()
		if n == 0 {
			b.Fatalf("%s holds none of the %d keys it was given", f.Name, len(r.hot))
		}
		bytes += float64(added)
		held += float64(n)
	}
	b.ReportMetric(bytes/held, "B/entry")
	b.ReportMetric(held/float64(b.N), "entries")
}

// liveHeap returns the bytes of live heap objects after full collections.
// It collects a few times, pausing in between, so that what a cache closed
// just before still held (its background goroutines exit after Close) is
// gone and not subtracted from the next cache's figure.
func liveHeap() int64 {
	for range 3 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestLiveHeapSeesACache checks the measurement BenchmarkMemory relies on:
// a small shardcache filled with 4096 keys adds to the live heap an amount
// per entry between its entry's size and a few times that, and nothing once
// it is closed and dropped.
func TestLiveHeapSeesACache(t *testing.T) {
	const n = 4096
	f := adapter.All[uint64, uint64]()[0]
	if f.Name != "shardcache" {
		t.Fatalf("first adapter is %s, want shardcache", f.Name)
	}
	before := liveHeap()
	c, err := f.New(adapter.Config{Capacity: n})
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(n) {
		c.Set(i, i)
	}
	perEntry := float64(liveHeap()-before) / n
	runtime.KeepAlive(c)
	if perEntry < 96 || perEntry > 1024 {
		t.Errorf("%s: %.1f live bytes per entry, want 96..1024", f.Name, perEntry)
	}
	c.Close()
	c = nil
	if after := liveHeap() - before; after > 64<<10 {
		t.Errorf("%d bytes still live after Close", after)
	}
}
