package shardcache

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSpinRWMutexWaits holds the lock longer than the spins last, so that
// the spinning acquisition must fall back to blocking, and checks that it
// returns only after the holder released: a reader waits for a writer and
// a writer for a reader.
func TestSpinRWMutexWaits(t *testing.T) {
	for _, tc := range []struct {
		name            string
		hold, release   func(*spinRWMutex)
		acquire, finish func(*spinRWMutex)
	}{
		{"reader waits for writer", (*spinRWMutex).Lock, (*spinRWMutex).Unlock, (*spinRWMutex).spinRLock, (*spinRWMutex).RUnlock},
		{"writer waits for reader", (*spinRWMutex).RLock, (*spinRWMutex).RUnlock, (*spinRWMutex).spinLock, (*spinRWMutex).Unlock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m spinRWMutex
			var released atomic.Bool
			tc.hold(&m)
			done := make(chan bool)
			go func() {
				tc.acquire(&m)
				done <- released.Load()
				tc.finish(&m)
			}()
			time.Sleep(20 * time.Millisecond)
			released.Store(true)
			tc.release(&m)
			if !<-done {
				t.Fatal("acquired while the lock was held")
			}
		})
	}
}

// TestSpinRWMutexExclusion mixes spinning and blocking acquisitions on one
// mutex. Writers change a pair of plain ints in two steps; a reader that
// sees them differ, or the race detector seeing the unsynchronised
// accesses, means the lock let a writer overlap someone.
func TestSpinRWMutexExclusion(t *testing.T) {
	var (
		m    spinRWMutex
		a, b int
		torn atomic.Int64
		wg   sync.WaitGroup
	)
	const goroutines, rounds = 8, 2000
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				switch (g + i) % 4 {
				case 0:
					m.spinLock()
					a++
					b++
					m.Unlock()
				case 1:
					m.Lock()
					a++
					b++
					m.Unlock()
				case 2:
					m.spinRLock()
					if a != b {
						torn.Add(1)
					}
					m.RUnlock()
				default:
					m.RLock()
					if a != b {
						torn.Add(1)
					}
					m.RUnlock()
				}
			}
		}()
	}
	wg.Wait()
	if n := torn.Load(); n != 0 {
		t.Fatalf("readers saw a half-done write %d times", n)
	}
	if want := goroutines * rounds / 2; a != want || b != want {
		t.Fatalf("a, b = %d, %d after %d writes, want both %d", a, b, want, want)
	}
}
