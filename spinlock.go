package shardcache

import (
	"runtime"
	"sync"
)

// spinRWMutex is a sync.RWMutex whose hot-path acquisitions (Get's read
// lock, a writer's lock) spin for a while before they sleep. Everything else
// (Len, Stats, snapshots) uses the embedded mutex's blocking methods
// directly; both kinds exclude each other exactly as sync.RWMutex does.
//
// Why spin: sync.RWMutex puts a reader to sleep as soon as a writer holds or
// awaits the lock, and a writer as soon as a reader holds it; only writer
// against writer spins (in its inner Mutex). A shard's critical sections
// last from tens of nanoseconds (a Get) to about a microsecond (a Set that
// evicts), far less than a sleep and wake-up, which takes several
// microseconds because the woken goroutine's processor has usually gone
// idle and its thread must be woken by the kernel, so with plain blocking
// locks two goroutines on two cores keep little more than one core busy
// (docs/design.md, "Waiting for a shard lock", has the measurement). Trying
// again for a while first keeps both cores working.
//
// Each retry yields with runtime.Gosched rather than busy-waiting, so that
// on an oversubscribed or single processor the goroutine holding the lock
// gets to run and release it. After lockSpins failed tries the blocking
// method is called, so a writer still waits its turn (sync.RWMutex then
// blocks new readers for it) and nobody starves.
type spinRWMutex struct {
	sync.RWMutex
}

// lockSpins is how many times a hot-path acquisition retries, yielding
// between tries, before it blocks: with a yield costing well under 200 ns
// when no other goroutine waits to run (docs/design.md), 16 cover a few
// microseconds, longer than any ordinary write section and shorter than a
// long one such as Clear.
const lockSpins = 16

// spinRLock takes the read lock, retrying with yields before it blocks.
func (m *spinRWMutex) spinRLock() {
	if !m.TryRLock() {
		spinThen(m.TryRLock, m.RLock)
	}
}

// spinLock takes the write lock, retrying with yields before it blocks.
func (m *spinRWMutex) spinLock() {
	if !m.TryLock() {
		spinThen(m.TryLock, m.Lock)
	}
}

// spinThen is the slow path of an acquisition whose first try failed: it
// yields and tries again up to lockSpins times, then calls block. The
// first try stays a direct call in the callers, so an uncontended lock
// costs no function value.
func spinThen(try func() bool, block func()) {
	for range lockSpins {
		runtime.Gosched()
		if try() {
			return
		}
	}
	block()
}
