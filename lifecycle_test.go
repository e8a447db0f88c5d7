package shardcache

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDroppedCacheStopsGoroutines: a cache dropped without Close stops its
// janitor (here ticking, for an entry with a TTL; and one sleeping) and its
// periodic snapshot goroutine once the garbage collector finds it
// unreachable. The goroutines close their exit channels as they return.
func TestDroppedCacheStopsGoroutines(t *testing.T) {
	exits := map[string]<-chan struct{}{}
	func() {
		ticking, err := New(Config[string, int]{})
		require.NoError(t, err)
		ticking.SetWithTTL("k", 1, time.Hour) // the janitor ticks every millisecond
		snapping, err := New(Config[string, int]{
			SnapshotPath:  filepath.Join(t.TempDir(), "cache.snap"),
			SnapshotEvery: time.Hour,
		})
		require.NoError(t, err)
		snapping.Set("k", 1) // no TTL: this janitor sleeps
		exits["ticking janitor"] = ticking.janitorDone
		exits["sleeping janitor"] = snapping.janitorDone
		exits["snapshot goroutine"] = snapping.snap.loopDone
		time.Sleep(5 * time.Millisecond) // let the janitors tick, then sleep
	}()
	deadline := time.Now().Add(10 * time.Second)
	for name, exited := range exits {
		for running := true; running; {
			select {
			case <-exited:
				running = false
			default:
				if time.Now().After(deadline) {
					t.Fatalf("%s still running 10s after its cache was dropped", name)
				}
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
		}
	}
}
