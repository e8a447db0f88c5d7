package bench

import (
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"
	"github.com/shardcache/shardcache/bench/internal/workload"
)

// TestOtterReadBuffer measures how many of otter's read hits reach its
// eviction policy on the throughput suite's read-only workload (docs/
// benchmarks.md, "Replaying hits"): two goroutines read the Zipf ring of
// BenchmarkThroughput for a second from a cache prefilled as newFilled
// does, and the test counts the records added to otter's read buffer and
// those replayed into its policy.
//
// It reads otter v2's unexported fields (its read buffer's rings) with
// reflect and unsafe, so it runs only when SHARDCACHE_OTTER_PROBE=1, and a
// new otter version may need it adjusted:
//
//	cd bench && SHARDCACHE_OTTER_PROBE=1 go test -run TestOtterReadBuffer -v .
func TestOtterReadBuffer(t *testing.T) {
	if os.Getenv("SHARDCACHE_OTTER_PROBE") != "1" {
		t.Skip("set SHARDCACHE_OTTER_PROBE=1 to probe otter's internals")
	}
	for _, skew := range []float64{0.8, 1.1} {
		keys, err := workload.Zipf(keyspace, skew, ringLen, 1)
		if err != nil {
			t.Fatal(err)
		}
		c, err := otter.New(&otter.Options[uint64, uint64]{MaximumSize: capacity})
		if err != nil {
			t.Fatal(err)
		}
		for i := capacity - 1; i >= 0; i-- {
			c.Set(workload.Scramble(uint64(i)), uint64(i))
		}
		c.CleanUp()
		inner := unexported(reflect.ValueOf(c).Elem(), "cache").Elem()
		added0, replayed0, _ := otterReadRings(inner)

		var (
			wg         sync.WaitGroup
			gets, hits [2]int
		)
		stop := time.Now().Add(time.Second)
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g * ringLen / 2; time.Now().Before(stop); {
					for range 1000 {
						if _, ok := c.GetIfPresent(keys[i&(ringLen-1)]); ok {
							hits[g]++
						}
						gets[g]++
						i++
					}
				}
			}()
		}
		wg.Wait()
		added1, replayed1, rings := otterReadRings(inner)
		c.StopAllGoroutines()
		h := hits[0] + hits[1]
		if h == 0 {
			t.Fatalf("zipf %.1f: no hits: the probe measured nothing", skew)
		}
		t.Logf("zipf %.1f: %d gets, %d hits; read buffer: %d rings, %d records added (%.3f%% of hits), %d replayed into the policy",
			skew, gets[0]+gets[1], h, rings, added1-added0, 100*float64(added1-added0)/float64(h), replayed1-replayed0)
	}
}

// unexported returns v's field name, made readable.
func unexported(v reflect.Value, name string) reflect.Value {
	f := v.FieldByName(name)
	if !f.IsValid() {
		panic("otter has no field " + name + ": the probe needs updating")
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// atomicTarget returns what the atomic.Pointer p points to, or an invalid
// Value for nil. atomic.Pointer[T] begins with a [0]*T field naming T.
func atomicTarget(p reflect.Value) reflect.Value {
	ptr := unexported(p, "v").Interface().(unsafe.Pointer)
	if ptr == nil {
		return reflect.Value{}
	}
	return reflect.NewAt(p.Type().Field(0).Type.Elem().Elem(), ptr).Elem()
}

// otterReadRings sums the tails (records added) and heads (records
// replayed) of the rings of the otter cache c's read buffer. otter
// changes both with atomics, so they are read with atomics.
func otterReadRings(c reflect.Value) (added, replayed uint64, rings int) {
	striped := atomicTarget(unexported(unexported(c, "readBuffer").Elem(), "striped"))
	if !striped.IsValid() {
		return 0, 0, 0
	}
	bufs := unexported(striped, "buffers")
	for i := range bufs.Len() {
		r := atomicTarget(bufs.Index(i))
		if !r.IsValid() {
			continue
		}
		rings++
		added += (*atomic.Uint64)(unsafe.Pointer(r.FieldByName("tail").UnsafeAddr())).Load()
		replayed += (*atomic.Uint64)(unsafe.Pointer(r.FieldByName("head").UnsafeAddr())).Load()
	}
	return added, replayed, rings
}
