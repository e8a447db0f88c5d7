package shardcache_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardcache/shardcache"
)

// The quick start from the README.
func Example() {
	c, err := shardcache.New(shardcache.Config[string, []byte]{
		MaxEntries: 100_000,         // evicts beyond this
		DefaultTTL: 5 * time.Minute, // Set expires entries after this
	})
	if err != nil {
		log.Fatal(err) // only for an invalid Config
	}
	defer c.Close()

	c.Set("user:42", []byte("Ada"))
	c.SetWithTTL("session:9", []byte("token"), 30*time.Second)
	if v, ok := c.Get("user:42"); ok {
		fmt.Printf("%s\n", v)
	}
	fmt.Println(c.Stats().HitRatio())
	// Output:
	// Ada
	// 1
}

// A positive ttl expires the entry, zero keeps it until it is evicted or
// deleted, and a negative ttl deletes the key. TTL reports the time left.
func ExampleCache_SetWithTTL() {
	c, err := shardcache.New(shardcache.Config[string, string]{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	c.SetWithTTL("session:9", "token", time.Hour)
	c.SetWithTTL("config", "v1", 0)

	left, ok := c.TTL("session:9")
	fmt.Println("session:", left.Round(time.Minute), ok)
	left, ok = c.TTL("config")
	fmt.Println("config:", left, ok) // 0, true: never expires

	c.SetWithTTL("session:9", "", -1) // log out
	_, ok = c.Get("session:9")
	fmt.Println("session after delete:", ok)
	// Output:
	// session: 1h0m0s true
	// config: 0s true
	// session after delete: false
}

// A byte budget: Cost counts the bytes of each entry and MaxCost bounds their
// sum. The budget is split between shards and an entry larger than its
// shard's share is never stored, so a small budget wants few shards.
func ExampleConfig_cost() {
	c, err := shardcache.New(shardcache.Config[string, []byte]{
		Shards:  1,       // the whole 1 KiB in one LRU
		MaxCost: 1 << 10, // bytes
		Cost:    func(k string, v []byte) int64 { return int64(len(k) + len(v)) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	c.Set("a", make([]byte, 500))     // 501 bytes
	c.Set("b", make([]byte, 500))     // 1002
	c.Set("c", make([]byte, 100))     // 1103 > 1024: "a" is evicted
	c.Set("huge", make([]byte, 2000)) // larger than the budget: not stored

	for _, k := range []string{"a", "b", "c", "huge"} {
		_, ok := c.Get(k)
		fmt.Println(k, ok)
	}
	st := c.Stats()
	fmt.Println("bytes:", st.Cost, "evicted:", st.Evictions, "rejected:", st.Rejected)
	// Output:
	// a false
	// b true
	// c true
	// huge false
	// bytes: 602 evicted: 1 rejected: 1
}

// OnRemove hears about every entry that leaves the cache, with the reason.
// It runs after the cache has released its locks, so it may call the cache.
func ExampleConfig_onRemove() {
	c, err := shardcache.New(shardcache.Config[string, int]{
		Shards:     1, // one exact LRU, for a predictable example
		MaxEntries: 2,
		OnRemove: func(key string, value int, reason shardcache.RemoveReason) {
			fmt.Printf("%s %s=%d\n", reason, key, value)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	c.Set("a", 1)
	c.Set("b", 2)
	c.Get("a")    // "a" is now more recently used than "b"
	c.Set("c", 3) // over MaxEntries: "b" goes
	c.Set("a", 4) // the old value is reported
	c.Delete("c")
	c.Clear()
	// Output:
	// evicted b=2
	// replaced a=1
	// deleted c=3
	// cleared a=4
}

// All iterates in no particular order; collect and sort for a stable listing.
func ExampleCache_All() {
	c, err := shardcache.New(shardcache.Config[string, int]{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	c.Set("carol", 3)
	c.Set("alice", 1)
	c.Set("bob", 2)

	m := maps.Collect(c.All())
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Println(k, m[k])
	}
	// Output:
	// alice 1
	// bob 2
	// carol 3
}

func ExampleCache_Stats() {
	c, err := shardcache.New(shardcache.Config[string, int]{Shards: 1, MaxEntries: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	c.Set("a", 1)
	c.Set("b", 2)
	c.Set("c", 3) // evicts "a"
	c.Get("b")    // hit
	c.Get("c")    // hit
	c.Get("a")    // miss

	st := c.Stats()
	fmt.Printf("hits=%d misses=%d ratio=%.2f\n", st.Hits, st.Misses, st.HitRatio())
	fmt.Printf("sets=%d evictions=%d entries=%d\n", st.Sets, st.Evictions, st.Entries)
	// Output:
	// hits=2 misses=1 ratio=0.67
	// sets=3 evictions=1 entries=2
}

// GetOrLoad runs one load per missing key, however many goroutines ask for
// it at once, and stores what the load returns with the ttl it returns.
// The load's error reaches every caller waiting for that key, and nothing
// is stored.
func ExampleCache_GetOrLoad() {
	c, err := shardcache.New(shardcache.Config[int, string]{MaxEntries: 1000})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	var loads atomic.Int32
	load := func(ctx context.Context, id int) (string, time.Duration, error) {
		loads.Add(1)
		if id < 0 {
			return "", 0, errors.New("no such user")
		}
		return fmt.Sprintf("user-%d", id), time.Minute, nil
	}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.GetOrLoad(context.Background(), 42, load); err != nil {
				log.Fatal(err)
			}
		})
	}
	wg.Wait()
	v, _ := c.GetOrLoad(context.Background(), 42, load) // a hit: no load
	fmt.Println(v, "loaded", loads.Load(), "time")

	_, err = c.GetOrLoad(context.Background(), -1, load)
	_, cached := c.Get(-1)
	fmt.Println(err, cached)
	// Output:
	// user-42 loaded 1 time
	// no such user false
}

// Compute reads and writes one key atomically under its shard's lock: here
// a counter that never goes below zero, and a key deleted when it reaches
// zero.
func ExampleCache_Compute() {
	c, err := shardcache.New(shardcache.Config[string, int]{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	add := func(key string, delta int) (int, bool) {
		return c.Compute(key, func(n int, _ bool) (int, shardcache.ComputeOp) {
			n += delta
			if n <= 0 {
				return 0, shardcache.ComputeDelete
			}
			return n, shardcache.ComputeSet
		})
	}
	fmt.Println(add("jobs", 2))
	fmt.Println(add("jobs", 1))
	fmt.Println(add("jobs", -5))
	fmt.Println(c.Len())
	// Output:
	// 2 true
	// 3 true
	// 0 false
	// 0
}

// A scan of one-off keys flushes an LRU cache, while W-TinyLFU (LRU with
// AdmitTinyLFU) and ARC keep the keys read often. One shard and
// one goroutine make the outcome exact.
func ExampleConfig_policy() {
	for _, cfg := range []shardcache.Config[int, int]{
		{Policy: shardcache.LRU},
		{Policy: shardcache.LRU, Admission: shardcache.AdmitTinyLFU},
		{Policy: shardcache.ARC},
	} {
		cfg.MaxEntries, cfg.Shards = 100, 1
		c, err := shardcache.New(cfg)
		if err != nil {
			log.Fatal(err)
		}
		for range 5 { // 50 hot keys, read five times each
			for k := range 50 {
				if _, ok := c.Get(k); !ok {
					c.Set(k, k)
				}
			}
		}
		for k := 1000; k < 1500; k++ { // a scan of 500 keys read once
			if _, ok := c.Get(k); !ok {
				c.Set(k, k)
			}
		}
		kept := 0
		for k := range 50 {
			if _, ok := c.Get(k); ok {
				kept++
			}
		}
		fmt.Printf("%v %v: %d of 50 hot keys kept\n", cfg.Policy, cfg.Admission, kept)
		c.Close()
	}
	// Output:
	// LRU All: 0 of 50 hot keys kept
	// LRU TinyLFU: 50 of 50 hot keys kept
	// ARC All: 50 of 50 hot keys kept
}

func ExampleCache_SaveFile() {
	path := filepath.Join(os.TempDir(), "shardcache-example.snap")
	defer os.Remove(path)

	c, _ := shardcache.New(shardcache.Config[string, string]{})
	c.SetWithTTL("session:42", "alice", time.Hour)
	if err := c.SaveFile(path); err != nil {
		fmt.Println(err)
	}
	_ = c.Close()

	// After a restart: the entry is back, with the time it had left.
	restarted, _ := shardcache.New(shardcache.Config[string, string]{})
	defer restarted.Close()
	if err := restarted.LoadFile(path); err != nil {
		fmt.Println(err)
	}
	v, _ := restarted.Get("session:42")
	ttl, _ := restarted.TTL("session:42")
	fmt.Println(v, ttl > 59*time.Minute)
	// Output: alice true
}

// Expire changes a live key's lifetime without rewriting its value (Redis's
// EXPIRE and PERSIST): a positive ttl sets it, zero removes the expiry, and
// a negative ttl deletes the key.
func ExampleCache_Expire() {
	c, err := shardcache.New(shardcache.Config[string, string]{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	c.Set("session:9", "token")
	fmt.Println(c.Expire("session:9", time.Hour)) // EXPIRE session:9 3600
	left, _ := c.TTL("session:9")
	fmt.Println("left:", left.Round(time.Minute))

	c.Expire("session:9", 0) // PERSIST session:9
	left, ok := c.TTL("session:9")
	fmt.Println("left:", left, ok)

	fmt.Println(c.Expire("missing", time.Hour)) // no such key
	c.ExpireAt("session:9", time.Unix(0, 0))    // a deadline in the past deletes
	_, ok = c.Get("session:9")
	fmt.Println("after a past deadline:", ok)
	// Output:
	// true
	// left: 1h0m0s
	// left: 0s true
	// false
	// after a past deadline: false
}

// Atomic makes several reads and writes, over keys in different shards,
// one step for every other goroutine: here Redis's RENAME and MSETNX.
func ExampleCache_Atomic() {
	c, err := shardcache.New(shardcache.Config[string, string]{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.SetWithTTL("draft", "hello", time.Hour)

	// RENAME draft post: the value and its remaining lifetime move together.
	c.Atomic([]string{"draft", "post"}, func(tx *shardcache.Tx[string, string]) {
		if e, ok := tx.Get("draft"); ok {
			tx.Set("post", e.Value, e.TTL)
			tx.Delete("draft")
		}
	})
	left, _ := c.TTL("post")
	fmt.Println("post expires in", left.Round(time.Hour))

	// MSETNX a 1 post 2: set both only if neither exists.
	keys := []string{"a", "post"}
	stored := false
	c.Atomic(keys, func(tx *shardcache.Tx[string, string]) {
		for _, k := range keys {
			if _, ok := tx.Peek(k); ok {
				return
			}
		}
		stored = tx.Set("a", "1", 0) && tx.Set("post", "2", 0)
	})
	v, _ := c.Get("post")
	fmt.Println("MSETNX stored:", stored, "post =", v)
	// Output:
	// post expires in 1h0m0s
	// MSETNX stored: false post = hello
}

// Scan iterates with a cursor, a few keys per call, as Redis's SCAN does:
// every key present for the whole iteration is returned, whatever is
// written meanwhile. Between calls no lock is held and nothing is kept.
func ExampleCache_Scan() {
	c, err := shardcache.New(shardcache.Config[string, int]{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for i := range 25 {
		c.Set(fmt.Sprintf("user:%02d", i), i)
	}

	var all, batch []string
	cursor := uint64(0)
	for {
		batch, cursor = c.Scan(cursor, 10, batch[:0]) // SCAN cursor COUNT 10
		all = append(all, batch...)
		if cursor == 0 {
			break
		}
	}
	slices.Sort(all)
	fmt.Println(len(all), all[0], all[24])
	// Output:
	// 25 user:00 user:24
}

// A NoEviction cache refuses new keys once full instead of evicting, as
// Redis's noeviction does; SetPolicy makes it evict (here LRU) while it
// runs, enforcing its bound at once.
func ExampleCache_SetPolicy() {
	c, err := shardcache.New(shardcache.Config[string, int]{MaxEntries: 2, Policy: shardcache.NoEviction})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(c.Set("a", 1), c.Set("b", 2), c.Set("c", 3))

	if err := c.SetPolicy(shardcache.LRU, shardcache.AdmitAll); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Set("c", 3), c.Len(), c.Stats().Evictions)
	// Output:
	// true true false
	// true 2 1
}
