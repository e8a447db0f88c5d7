package bench

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	theine "github.com/Yiling-J/theine-go"

	"github.com/shardcache/shardcache"
)

// Snapshot benchmarks: shardcache's SaveTo/LoadFrom against theine's
// SaveCache/LoadCache, on the same million entries (string keys "key:<i>",
// 100-byte []byte values, every other entry with a one-hour TTL), both
// through in-memory buffers so that only the libraries are measured.
//
//	go test -run '^$' -bench Snapshot -benchtime 1x -count 6 | benchstat -col /cache -
//
// Saves run on two states of the same data:
//
//   - state=fresh: right after the fill. Each library walks its entries in
//     insertion order or not: theine walks its policy lists, which are then
//     in exactly the order the entries were allocated, so its walk streams
//     through memory; shardcache walks its maps, whose order is unrelated
//     to the heap's.
//   - state=served: after two million uniformly random Gets, as a cache that
//     has served traffic. Theine's lists are then reordered and its walk
//     jumps around the heap like any walk of a long-lived cache; shardcache
//     is unaffected.
//
// Loads read the fresh state's snapshots. MB/s counts payload bytes (keys
// plus values). Saves write into a buffer allocated beforehand. Besides
// B/op (all bytes allocated during the operation), each result reports
// peak-MB: the largest growth of the heap
// ("/memory/classes/heap/objects:bytes", live and not yet collected,
// sampled every millisecond) over its value before the operation. For a
// save that is the memory the save needs; for a load it includes the
// loaded entries themselves.
const snapEntries = 1_000_000

// snapFixtures are built once per process, on first use: two filled caches
// per state and their snapshots.
var snapFixtures = map[string]func() (*snapFixture, error){
	"fresh":  sync.OnceValues(func() (*snapFixture, error) { return newSnapFixture(false) }),
	"served": sync.OnceValues(func() (*snapFixture, error) { return newSnapFixture(true) }),
}

type snapFixture struct {
	shard                 *shardcache.Cache[string, []byte]
	theine                *theine.Cache[string, []byte]
	shardSnap, theineSnap bytes.Buffer
	payload               int64
}

func newSnapFixture(served bool) (*snapFixture, error) {
	f := &snapFixture{}
	var err error
	f.shard, err = shardcache.New(shardcache.Config[string, []byte]{})
	if err != nil {
		return nil, err
	}
	f.theine, err = theine.NewBuilder[string, []byte](snapEntries).Build()
	if err != nil {
		return nil, err
	}
	keys := make([]string, snapEntries)
	for i := range keys {
		k := "key:" + strconv.Itoa(i)
		v := make([]byte, 100)
		for j := range v {
			v[j] = byte(i + j)
		}
		keys[i] = k
		f.payload += int64(len(k) + len(v))
		ttl := time.Duration(0)
		if i%2 == 0 {
			ttl = time.Hour
		}
		f.shard.SetWithTTL(k, v, ttl)
		f.theine.SetWithTTL(k, v, 1, ttl)
	}
	f.theine.Wait()
	if served {
		r := rand.New(rand.NewPCG(1, 2))
		for range 2 * snapEntries {
			k := keys[r.IntN(len(keys))]
			f.shard.Get(k)
			f.theine.Get(k)
		}
		f.theine.Wait()
	}
	// Both must hold everything, or the comparison is not of equal work.
	if a, b := f.shard.Len(), f.theine.Len(); a != snapEntries || b != snapEntries {
		return nil, fmt.Errorf("shardcache holds %d entries, theine %d; want %d", a, b, snapEntries)
	}
	if err := f.shard.SaveTo(&f.shardSnap); err != nil {
		return nil, err
	}
	if err := f.theine.SaveCache(0, &f.theineSnap); err != nil {
		return nil, err
	}
	return f, nil
}

// snapCase is one library's save and load.
type snapCase struct {
	name string
	save func(f *snapFixture, buf *bytes.Buffer) error
	// load returns a new cache loaded from the fixture's snapshot, its
	// entry count and a function that releases it.
	load func(f *snapFixture) (n int, release func(), err error)
}

var snapCases = []snapCase{
	{
		name: "shardcache",
		save: func(f *snapFixture, buf *bytes.Buffer) error { return f.shard.SaveTo(buf) },
		load: func(f *snapFixture) (int, func(), error) {
			c, err := shardcache.New(shardcache.Config[string, []byte]{})
			if err != nil {
				return 0, nil, err
			}
			err = c.LoadFrom(bytes.NewReader(f.shardSnap.Bytes()))
			return c.Len(), func() { _ = c.Close() }, err
		},
	},
	{
		name: "theine",
		save: func(f *snapFixture, buf *bytes.Buffer) error { return f.theine.SaveCache(0, buf) },
		load: func(f *snapFixture) (int, func(), error) {
			c, err := theine.NewBuilder[string, []byte](snapEntries).Build()
			if err != nil {
				return 0, nil, err
			}
			err = c.LoadCache(0, bytes.NewReader(f.theineSnap.Bytes()))
			return c.Len(), c.Close, err
		},
	},
}

func BenchmarkSnapshot(b *testing.B) {
	entries := "entries=" + strconv.Itoa(snapEntries)
	for _, state := range []string{"fresh", "served"} {
		f, err := snapFixtures[state]()
		if err != nil {
			b.Fatal(err)
		}
		for _, sc := range snapCases {
			b.Run("op=save/state="+state+"/cache="+sc.name+"/"+entries, func(b *testing.B) {
				benchSave(b, f, sc)
			})
		}
	}
	f, err := snapFixtures["fresh"]()
	if err != nil {
		b.Fatal(err)
	}
	for _, sc := range snapCases {
		b.Run("op=load/cache="+sc.name+"/"+entries, func(b *testing.B) {
			benchLoad(b, f, sc)
		})
	}
}

func benchSave(b *testing.B, f *snapFixture, sc snapCase) {
	// Into a buffer already big enough, its pages touched, so that neither
	// library pays for growing it.
	var buf bytes.Buffer
	buf.Grow(2 * max(f.shardSnap.Len(), f.theineSnap.Len()))
	clear(buf.AvailableBuffer()[:buf.Available()])
	b.SetBytes(f.payload)
	b.ReportAllocs()
	b.ResetTimer()
	var peak int64
	for range b.N {
		b.StopTimer()
		buf.Reset()
		runtime.GC()
		stop := sampleHeap()
		b.StartTimer()
		if err := sc.save(f, &buf); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		peak = max(peak, stop())
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/1e6, "peak-MB")
}

func benchLoad(b *testing.B, f *snapFixture, sc snapCase) {
	b.SetBytes(f.payload)
	b.ReportAllocs()
	var peak int64
	for range b.N {
		b.StopTimer()
		runtime.GC()
		stop := sampleHeap()
		b.StartTimer()
		n, release, err := sc.load(f)
		b.StopTimer()
		peak = max(peak, stop())
		if err != nil {
			b.Fatal(err)
		}
		if n != snapEntries {
			b.Fatalf("%s loaded %d entries of %d", sc.name, n, snapEntries)
		}
		release()
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/1e6, "peak-MB")
}

// sampleHeap starts sampling the heap and returns a function that stops and
// returns the peak growth, in bytes, since the call.
func sampleHeap() (stop func() int64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 {
		metrics.Read(s)
		return int64(s[0].Value.Uint64())
	}
	base := read()
	var (
		peak int64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, read()-base)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		wg.Wait()
		return max(peak, read()-base)
	}
}
