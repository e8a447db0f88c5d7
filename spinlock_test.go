package shardcache

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSpinRWMutexWaitsForWriter holds the write lock longer than the spins
// last, so that spinRLock must fall back to blocking, and checks that it
// returns only after the writer released.
func TestSpinRWMutexWaitsForWriter(t *testing.T) {
	var m spinRWMutex
	var released atomic.Bool
	m.Lock()
	done := make(chan bool)
	go func() {
		m.spinRLock()
		done <- released.Load()
		m.RUnlock()
	}()
	time.Sleep(20 * time.Millisecond)
	released.Store(true)
	m.Unlock()
	if !<-done {
		t.Fatal("spinRLock returned while the write lock was held")
	}
}

// TestSpinRWMutexWaitsForReader is the writer's side: spinLock must wait for
// a reader that holds the lock past its spins.
func TestSpinRWMutexWaitsForReader(t *testing.T) {
	var m spinRWMutex
	var released atomic.Bool
	m.RLock()
	done := make(chan bool)
	go func() {
		m.spinLock()
		done <- released.Load()
		m.Unlock()
	}()
	time.Sleep(20 * time.Millisecond)
	released.Store(true)
	m.RUnlock()
	if !<-done {
		t.Fatal("spinLock returned while a read lock was held")
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
