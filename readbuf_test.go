package shardcache

import (
	"sync"
	"testing"

	"github.com/shardcache/shardcache/internal/policy"
	"github.com/stretchr/testify/assert"
)

func TestGoroutineProbe(t *testing.T) {
	// Stable within a goroutine.
	p := goroutineProbe()
	assert.Equal(t, p, goroutineProbe())
	// Spread over goroutines: 64 goroutines must not all share a stripe.
	var mu sync.Mutex
	seen := map[uint32]bool{}
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			seen[goroutineProbe()&(maxStripes-1)] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	assert.Greater(t, len(seen), maxStripes/2, "64 goroutines spread over only %d of %d stripes", len(seen), maxStripes)
}

func TestStripeRecordDrain(t *testing.T) {
	var buf readBuffer[int, int]
	st := &buf.stripes[0]
	l := policy.NewLRU[*entry[int, int]]()
	es := make([]*entry[int, int], stripeSlots+1)
	for i := len(es) - 1; i >= 0; i-- {
		es[i] = &entry[int, int]{key: i}
		l.Insert(&es[i].node) // front to back: 0, 1, 2, ...
	}
	for i := range stripeSlots {
		ok, contended := st.record(es[i])
		assert.True(t, ok)
		assert.False(t, contended)
	}
	ok, _ := st.record(es[stripeSlots])
	assert.False(t, ok, "a full stripe refuses the record")
	st.drain(func(e *entry[int, int]) { l.Touch(&e.node) })
	// Replayed oldest first, so the last recorded is now the most recent
	// and the one never recorded is the victim.
	v, ok := l.Victim()
	assert.True(t, ok)
	assert.Same(t, &es[stripeSlots].node, v, "the unrecorded entry is now least recent")
	l.Remove(v, true)
	v, _ = l.Victim()
	assert.Same(t, &es[0].node, v, "the first recorded is the next victim")
	ok, _ = st.record(es[stripeSlots])
	assert.True(t, ok, "a drained stripe takes records again")
	assert.EqualValues(t, stripeSlots+1, buf.hits())
}

// BenchmarkStripePick shows why readers pick their stripe by goroutine
// rather than by key: every goroutine records a hit on the same hot entry,
// under a read lock as Get does, into a buffer of maxStripes stripes. With
// pick=key all of them share one stripe and its cache line; with
// pick=goroutine each keeps to its own. Compare the two at -cpu 2 or more.
func BenchmarkStripePick(b *testing.B) {
	for _, mode := range []string{"key", "goroutine"} {
		b.Run("pick="+mode, func(b *testing.B) {
			var (
				buf readBuffer[int, int]
				mu  sync.RWMutex
				l   = policy.NewLRU[*entry[int, int]]()
			)
			e := hashedEntry(0, 0x9e3779b97f4a7c15)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.RLock()
					st := &buf.stripes[(e.node.Hash>>40)&(maxStripes-1)]
					if mode == "goroutine" {
						st = buf.pick(maxStripes)
					}
					ok, _ := st.record(e)
					mu.RUnlock()
					if !ok && mu.TryLock() {
						for i := range buf.stripes {
							buf.stripes[i].drain(func(e *entry[int, int]) { l.Touch(&e.node) })
						}
						mu.Unlock()
					}
				}
			})
		})
	}
}
