package shardcache

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stressValue encodes its key so that any value found under the wrong key,
// torn, or stale from another key's entry is detected.
func stressValue(key, n int) int { return key<<20 | n&(1<<20-1) }

func stressKeyOf(v int) int { return v >> 20 }

// TestStress runs many goroutines doing every operation on a small, bounded,
// expiring cache for a bounded time, then checks the invariants: Len within
// MaxEntries, every value matches its key, Stats add up with what the
// goroutines did and with what OnRemove saw, and no goroutine outlives Close.
// It is meant for `go test -race`.
func TestStress(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shards int
		hasher func(int) uint64
	}{
		{"shards=1", 1, nil},
		{"shards=16", 16, nil},
		{"shards=4/collisions", 4, func(k int) uint64 { return uint64(k % 32) }},
	} {
		t.Run(tc.name, func(t *testing.T) { stress(t, tc.shards, tc.hasher) })
	}
}

func stress(t *testing.T, shards int, hasher func(int) uint64) {
	const (
		keys       = 512
		maxEntries = 200
		workers    = 8
	)
	duration := 400 * time.Millisecond
	if testing.Short() {
		duration = 100 * time.Millisecond
	}
	goroutinesBefore := runtime.NumGoroutine()

	var evicted, expired, badCallbacks atomic.Uint64
	c, err := New(Config[int, int]{
		Shards:     shards,
		MaxEntries: maxEntries,
		Hasher:     hasher,
		OnRemove: func(k, v int, r RemoveReason) {
			if stressKeyOf(v) != k {
				badCallbacks.Add(1)
			}
			switch r {
			case ReasonEvicted:
				evicted.Add(1)
			case ReasonExpired:
				expired.Add(1)
			}
		},
	})
	require.NoError(t, err)

	var (
		gets, hits, bad atomic.Uint64
		getOrLoadHits   atomic.Uint64 // hits, or waits for another goroutine's load
		stop            atomic.Bool
		wg              sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for n := 0; !stop.Load(); n++ {
				k := r.IntN(keys)
				switch op := r.IntN(100); {
				case op < 50:
					gets.Add(1)
					if v, ok := c.Get(k); ok {
						hits.Add(1)
						if stressKeyOf(v) != k {
							bad.Add(1)
						}
					}
				case op < 65:
					c.Set(k, stressValue(k, n))
				case op < 80:
					c.SetWithTTL(k, stressValue(k, n), time.Duration(r.IntN(5000))*time.Microsecond)
				case op < 88:
					c.Update(k, stressValue(k, n))
				case op < 95:
					c.Delete(k)
				case op < 96:
					c.TTL(k)
				case op < 97:
					if r.IntN(2) == 0 {
						// GetOrLoad counts as one Get: a hit unless this
						// goroutine loaded or waited for another's load.
						gets.Add(1)
						loaded := false
						v, err := c.GetOrLoad(context.Background(), k, func(_ context.Context, k int) (int, time.Duration, error) {
							loaded = true
							return stressValue(k, n), time.Duration(r.IntN(3)) * time.Millisecond, nil
						})
						if err != nil || stressKeyOf(v) != k {
							bad.Add(1)
						}
						if !loaded {
							getOrLoadHits.Add(1)
						}
					} else {
						c.Compute(k, func(old int, found bool) (int, ComputeOp) {
							if found && stressKeyOf(old) != k {
								bad.Add(1)
							}
							return stressValue(k, old+1), ComputeSet
						})
					}
				case op < 99:
					for k2, v := range c.All() {
						if stressKeyOf(v) != k2 {
							bad.Add(1)
						}
						if r.IntN(8) == 0 {
							break
						}
					}
				default:
					if r.IntN(20) == 0 {
						c.Clear()
					}
					c.Len()
					c.Stats()
				}
			}
		}()
	}
	time.Sleep(duration)
	stop.Store(true)
	wg.Wait()

	assert.LessOrEqual(t, c.Len(), maxEntries, "Len over MaxEntries")
	assert.Zero(t, bad.Load(), "values found under the wrong key")
	assert.Zero(t, badCallbacks.Load(), "OnRemove got a value of another key")
	for k, v := range c.All() {
		assert.Equal(t, k, stressKeyOf(v))
	}
	// Let the expiry goroutine reclaim what is due, then compare counters.
	time.Sleep(20 * time.Millisecond)
	st := c.Stats()
	assert.Equal(t, gets.Load(), st.Hits+st.Misses, "every Get is a hit or a miss")
	assert.GreaterOrEqual(t, st.Hits, hits.Load())
	assert.LessOrEqual(t, st.Hits, hits.Load()+getOrLoadHits.Load())
	assert.Equal(t, evicted.Load(), st.Evictions, "Evictions vs OnRemove(ReasonEvicted)")
	assert.Equal(t, expired.Load(), st.Expirations, "Expirations vs OnRemove(ReasonExpired)")
	assert.Equal(t, c.Len(), st.Entries)
	assert.Greater(t, st.Hits, uint64(0))
	assert.Greater(t, st.Evictions, uint64(0))
	assert.Greater(t, st.Expirations, uint64(0))

	// Close while goroutines still hammer the cache: nothing may panic and
	// afterwards nothing is stored.
	stop.Store(false)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				k := (n*7 + w) % keys
				c.Set(k, stressValue(k, n))
				c.SetWithTTL(k, stressValue(k, n), time.Millisecond)
				c.Get(k)
				c.Delete(k + 1)
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, c.Close())
	stop.Store(true)
	wg.Wait()
	require.NoError(t, c.Close())
	c.Set(1, stressValue(1, 1))
	_, ok := c.Get(1)
	assert.False(t, ok, "Get after Close")
	assert.Zero(t, c.Len(), "Len after Close")

	// The janitor must be gone.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > goroutinesBefore && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutinesBefore, "goroutines left after Close")
}
