package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/store"
	"github.com/shardcache/shardcache/store/internal/testserver"
	"github.com/shardcache/shardcache/store/memcachestore"
	"github.com/shardcache/shardcache/store/memory"
	"github.com/shardcache/shardcache/store/redisstore"
	"github.com/shardcache/shardcache/store/tiered"
)

// benchKeys is the key space of every benchmark: few enough to stay
// resident, many enough to spread over a Cluster.
const benchKeys = 1024

var benchValue = make([]byte, 128)

// benchStores starts each backend once for b and returns the stores to
// compare, by name. tiered is read on L1 hits (its copies never go stale
// during a run).
func benchStores(b *testing.B) []struct {
	name string
	s    store.Store
} {
	newMem := func() store.Store {
		m, err := memory.New(shardcache.Config[string, []byte]{})
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	rc := func(addr string) *redis.Client {
		return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, PoolSize: 64})
	}
	redisSrv := testserver.Redis(b)
	mcSrv := testserver.Memcached(b)
	scSrv := testserver.Shardcached(b)
	mc := memcache.New(mcSrv.Addr())
	mc.MaxIdleConns = 64
	tr, err := tiered.New(shardcache.Config[string, []byte]{}, redisstore.New(rc(redisSrv.Addr())), tiered.Options{L1TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	stores := []struct {
		name string
		s    store.Store
	}{
		{"memory", newMem()},
		{"redis", redisstore.New(rc(redisSrv.Addr()))},
		{"shardcached", redisstore.New(rc(scSrv.Addr()))},
		{"memcached", memcachestore.New(mc)},
		{"tiered-redis", tr},
	}
	ctx := context.Background()
	for _, st := range stores {
		b.Cleanup(func() { st.s.Close() })
		for i := range benchKeys {
			k := fmt.Sprint("bench:", i)
			if err := st.s.Set(ctx, k, benchValue, 0); err != nil {
				b.Fatal(err)
			}
			st.s.Get(ctx, k) // fills tiered's L1
		}
	}
	return stores
}

var keys = func() []string {
	k := make([]string, benchKeys)
	for i := range k {
		k[i] = fmt.Sprint("bench:", i)
	}
	return k
}()

// BenchmarkStore measures one goroutine's Get and Set latency (p50 and
// p99 per call, in microseconds, beside ns/op) and the throughput of 32
// goroutines (ops/s), per adapter over loopback.
func BenchmarkStore(b *testing.B) {
	stores := benchStores(b)
	ctx := context.Background()
	ops := map[string]func(s store.Store, i int) error{
		"Get": func(s store.Store, i int) error { _, err := s.Get(ctx, keys[i%benchKeys]); return err },
		"Set": func(s store.Store, i int) error { return s.Set(ctx, keys[i%benchKeys], benchValue, 0) },
	}
	for _, op := range []string{"Get", "Set"} {
		for _, st := range stores {
			fn := ops[op]
			b.Run(fmt.Sprintf("op=%s/store=%s/par=1", op, st.name), func(b *testing.B) {
				b.ReportAllocs()
				lat := make([]time.Duration, 0, b.N)
				for i := 0; b.Loop(); i++ {
					t0 := time.Now()
					if err := fn(st.s, i); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2])/1e3, "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100])/1e3, "p99-µs")
			})
			b.Run(fmt.Sprintf("op=%s/store=%s/par=32", op, st.name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(32 / max(1, runtimeProcs()))
				var mu sync.Mutex
				var first error
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						if err := fn(st.s, i); err != nil {
							mu.Lock()
							first = err
							mu.Unlock()
						}
					}
				})
				if first != nil {
					b.Fatal(first)
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
			})
		}
	}
}
