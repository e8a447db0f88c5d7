package shardcache

import (
	"fmt"
	"sync"
	"testing"

	"github.com/shardcache/shardcache/internal/policy"
	"github.com/stretchr/testify/require"
)

func TestConfigPolicyValidation(t *testing.T) {
	for _, cfg := range []Config[int, int]{
		{Policy: NoEviction + 1},
		{Policy: NoEviction, Admission: AdmitTinyLFU},
		{Policy: 255},
		{Admission: AdmitTinyLFU + 1},
	} {
		_, err := New(cfg)
		require.ErrorIs(t, err, ErrInvalidConfig, "%+v", cfg)
	}
	_, err := New(Config[int, int]{Policy: 9})
	require.ErrorContains(t, err, "shardcache: invalid config: unknown Policy Policy(9)")
	for _, conf := range policyConfigs {
		c, err := New(Config[int, int]{MaxEntries: 10, Policy: conf.p, Admission: conf.a})
		require.NoError(t, err)
		require.NoError(t, c.Close())
	}
}

func TestPolicyString(t *testing.T) {
	require.Equal(t, "LRU", LRU.String())
	require.Equal(t, "ARC", ARC.String())
	require.Equal(t, "Policy(7)", Policy(7).String())
	require.Equal(t, "All", AdmitAll.String())
	require.Equal(t, "TinyLFU", AdmitTinyLFU.String())
	require.Equal(t, "Admission(3)", Admission(3).String())
}

// TestShardPolicyChoice checks which policy each combination gives a shard,
// and that it is sized from the shard's share of MaxEntries.
func TestShardPolicyChoice(t *testing.T) {
	type E = *entry[int, int]
	c := newManual(t, Config[int, int]{Shards: 4})
	require.IsType(t, &policy.LRU[E]{}, c.shards[0].policy, "the zero Config")

	c = newManual(t, Config[int, int]{Shards: 4, MaxEntries: 1001, Policy: ARC})
	require.IsType(t, &policy.ARC[E]{}, c.shards[0].policy)
	_, cap0 := c.shards[0].policy.(*policy.ARC[E]).Target()
	_, cap3 := c.shards[3].policy.(*policy.ARC[E]).Target()
	require.Equal(t, []int{251, 250}, []int{cap0, cap3})

	c = newManual(t, Config[int, int]{Shards: 4, MaxEntries: 1000, Admission: AdmitTinyLFU})
	require.IsType(t, &policy.WTinyLFU[E]{}, c.shards[0].policy)
	_, wcap := c.shards[0].policy.(*policy.WTinyLFU[E]).WindowMax()
	require.Equal(t, 250, wcap)

	c = newManual(t, Config[int, int]{Shards: 4, MaxEntries: 1000, Policy: ARC, Admission: AdmitTinyLFU})
	require.IsType(t, &policy.ARC[E]{}, c.shards[0].policy)
}

// TestCacheARCAdaptsTarget: through the Cache API, a loop a little larger
// than the cache moves ARC's target p up (B1 hits), and ARC then hits
// where LRU cannot.
func TestCacheARCAdaptsTarget(t *testing.T) {
	c := newManual(t, Config[int, int]{Shards: 1, MaxEntries: 100, Policy: ARC})
	arc := c.shards[0].policy.(*policy.ARC[*entry[int, int]])
	hits := 0
	for pass := range 4 {
		for k := range 120 {
			if _, ok := c.Get(k); ok {
				hits++
			} else {
				c.Set(k, k)
			}
		}
		if pass == 1 {
			p, _ := arc.Target()
			require.Positive(t, p, "p after B1 hits")
		}
	}
	require.Positive(t, hits, "ARC never hit on a loop of 120 keys in 100 entries")
}

// TestCacheTinyLFUScanResistance: with AdmitTinyLFU a frequently read set
// survives a scan of one-off keys ten times the cache size, with one shard
// and with many; with the default LRU it does not.
func TestCacheTinyLFUScanResistance(t *testing.T) {
	for _, tc := range []struct {
		shards int
		a      Admission
		p      Policy
		min    float64
	}{
		{1, AdmitTinyLFU, LRU, 0.9},
		{16, AdmitTinyLFU, LRU, 0.9},
		{16, AdmitTinyLFU, ARC, 0.9},
		{16, AdmitAll, LRU, 0},
	} {
		t.Run(fmt.Sprintf("shards=%d/policy=%v/admission=%v", tc.shards, tc.p, tc.a), func(t *testing.T) {
			c := newManual(t, Config[int, int]{Shards: tc.shards, MaxEntries: 2000, Policy: tc.p, Admission: tc.a})
			read := func(k int) bool {
				if _, ok := c.Get(k); ok {
					return true
				}
				c.Set(k, k)
				return false
			}
			for range 20 {
				for k := range 1000 {
					read(k)
				}
			}
			for k := range 20_000 {
				read(1_000_000 + k)
			}
			hits := 0
			for k := range 1000 {
				if read(k) {
					hits++
				}
			}
			ratio := float64(hits) / 1000
			if tc.a == AdmitAll {
				require.Less(t, ratio, 0.1, "LRU kept the hot set through the scan?")
				return
			}
			require.GreaterOrEqual(t, ratio, tc.min)
		})
	}
}

// TestCachePoliciesCostOnly: with MaxCost and no MaxEntries the policies
// learn their capacity and the cost budget holds.
func TestCachePoliciesCostOnly(t *testing.T) {
	for _, conf := range policyConfigs {
		t.Run(fmt.Sprintf("policy=%v/admission=%v", conf.p, conf.a), func(t *testing.T) {
			c := newManual(t, Config[int, int]{Shards: 2, MaxCost: 300, Policy: conf.p, Admission: conf.a,
				Cost: func(k, _ int) int64 { return int64(1 + k%5) }})
			for i := range 20_000 {
				k := (i * 7919) % 997
				if i%3 == 0 {
					k %= 50
				}
				if _, ok := c.Get(k); !ok {
					c.Set(k, k)
				}
				if st := c.Stats(); st.Cost > 300 {
					t.Fatalf("cost %d over the budget", st.Cost)
				}
			}
			require.Positive(t, c.Stats().Hits)
		})
	}
}

// TestCachePoliciesConcurrent hammers every combination from several
// goroutines (run with -race): reads, demand fills, deletes.
func TestCachePoliciesConcurrent(t *testing.T) {
	for _, conf := range policyConfigs {
		t.Run(fmt.Sprintf("policy=%v/admission=%v", conf.p, conf.a), func(t *testing.T) {
			c, err := New(Config[int, int]{Shards: 4, MaxEntries: 200, Policy: conf.p, Admission: conf.a})
			require.NoError(t, err)
			defer c.Close()
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range 5000 {
						k := (i*(g+3) + g) % 500
						if i%50 == 0 {
							c.Delete(k)
						}
						if _, ok := c.Get(k % 150); !ok {
							c.Set(k%150, i)
						}
						if _, ok := c.Get(k); !ok {
							c.Set(k, i)
						}
					}
				})
			}
			wg.Wait()
			require.LessOrEqual(t, c.Len(), 200)
		})
	}
}

// BenchmarkGetPolicy is BenchmarkGet (default shard count, Zipf reads of
// keys that are all present) for every Policy × Admission combination:
//
//	go test -run '^$' -bench GetPolicy -count 10 . | benchstat -col /policy -
func BenchmarkGetPolicy(b *testing.B) {
	for _, conf := range policyConfigs {
		b.Run(fmt.Sprintf("policy=%v+%v", conf.p, conf.a), func(b *testing.B) {
			c := newFilled(b, Config[string, int]{MaxEntries: benchKeys, Policy: conf.p, Admission: conf.a})
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := ringStart()
				for pb.Next() {
					c.Get(benchKeyNames[benchRing[i%ringSize]])
					i++
				}
			})
		})
	}
}

// BenchmarkEvictingSetPolicy is BenchmarkEvictingSet (every Set inserts a
// key the cache does not hold and evicts one; a cache of a quarter of the
// keys, default shard count) for every Policy × Admission combination: the
// write path, where ARC adds and drops a ghost and W-TinyLFU runs its
// admission contest on every Set.
//
//	go test -run '^$' -bench EvictingSetPolicy -count 10 . | benchstat -col /policy -
func BenchmarkEvictingSetPolicy(b *testing.B) {
	for _, conf := range policyConfigs {
		b.Run(fmt.Sprintf("policy=%v+%v", conf.p, conf.a), func(b *testing.B) {
			evictingSets(b, Config[string, int]{Policy: conf.p, Admission: conf.a})
		})
	}
}
