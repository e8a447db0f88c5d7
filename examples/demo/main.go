// Command demo puts a shardcache.Cache under concurrent load for a while and
// prints what happened: hits, misses, evictions, expirations, throughput.
//
//	go run ./examples/demo               # 3 seconds
//	go run ./examples/demo -duration 10s
//
// Eight goroutines draw keys from a Zipf law (a few hot keys, a long tail
// larger than the cache) and mix the operations a service would: mostly
// reads, a read miss followed by a Set (cache-aside), plain Sets, short-lived
// entries with their own TTL, and Deletes. OnRemove counts why entries left.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardcache/shardcache"
)

const (
	workers    = 8
	keySpace   = 1 << 18 // distinct keys: more than MaxEntries, so the cache must evict
	maxEntries = 100_000
	defaultTTL = 2 * time.Second
	zipfS      = 1.1 // Zipf exponent: the larger, the hotter the hot keys
)

func main() {
	duration := flag.Duration("duration", 3*time.Second, "how long to run the load")
	flag.Parse()
	if *duration <= 0 {
		log.Fatalf("demo: -duration must be positive, got %v", *duration)
	}

	var removed [6]atomic.Uint64 // indexed by RemoveReason
	c, err := shardcache.New(shardcache.Config[string, []byte]{
		MaxEntries: maxEntries,
		DefaultTTL: defaultTTL,
		OnRemove: func(_ string, _ []byte, why shardcache.RemoveReason) {
			if int(why) < len(removed) {
				removed[why].Add(1)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	// Keys and values are prepared up front so the load measures the cache,
	// not string formatting.
	keys := make([]string, keySpace)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	value := []byte("a cached value of modest size, about sixty-four bytes long....")

	fmt.Printf("shardcache demo: %d goroutines for %v, %d keys (Zipf s=%.1f), MaxEntries %d, DefaultTTL %v, GOMAXPROCS %d\n",
		workers, *duration, keySpace, zipfS, maxEntries, defaultTTL, runtime.GOMAXPROCS(0))

	var (
		stop atomic.Bool
		ops  atomic.Uint64
		wg   sync.WaitGroup
	)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 42))
			z := rand.NewZipf(r, zipfS, 1, keySpace-1)
			n := uint64(0)
			for !stop.Load() {
				k := keys[z.Uint64()]
				switch op := r.IntN(100); {
				case op < 75: // read, and fill on a miss (cache-aside)
					if _, ok := c.Get(k); !ok {
						c.Set(k, value)
					}
				case op < 88:
					c.Set(k, value)
				case op < 95: // a short-lived entry: 10ms to 500ms
					c.SetWithTTL(k, value, time.Duration(10+r.IntN(491))*time.Millisecond)
				default:
					c.Delete(k)
				}
				n++
			}
			ops.Add(n)
		})
	}
	time.Sleep(*duration)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)

	// The load has stopped, but the background goroutine keeps expiring
	// entries, so OnRemove's counts, read just after, may run a little ahead
	// of the Stats snapshot.
	st := c.Stats()
	var why [len(removed)]uint64
	for i := range removed {
		why[i] = removed[i].Load()
	}
	row := func(name string, v any) { fmt.Printf("  %-12s %12v\n", name, v) }
	row("operations", ops.Load())
	row("ops/s", fmt.Sprintf("%.0f", float64(ops.Load())/elapsed.Seconds()))
	row("hits", st.Hits)
	row("misses", st.Misses)
	row("hit ratio", fmt.Sprintf("%.1f%%", 100*st.HitRatio()))
	row("sets", st.Sets)
	row("evictions", st.Evictions)
	row("expirations", st.Expirations)
	row("entries", st.Entries)
	fmt.Print("  OnRemove:")
	for r := shardcache.ReasonEvicted; r <= shardcache.ReasonCleared; r++ {
		fmt.Printf(" %s=%d", r, why[r])
	}
	fmt.Println()

	if err := c.Close(); err != nil {
		log.Fatal(err)
	}
}
