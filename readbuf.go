package shardcache

import (
	"sync/atomic"
	"unsafe"
)

// The read buffer is how Get promotes an entry in its shard's eviction
// policy without the write lock (BP-Wrapper, Ding et al., ICDE 2009;
// Caffeine's striped read buffers). Get appends the entry it found to a
// small ring, and the next holder of the shard's policy lock (every writer
// takes it, inside the write lock) replays the ring into the policy before
// it changes or evicts anything, so eviction decisions always see every
// recorded access.
//
// Get does not record a hit on an entry that is still fresh (shard.isFresh).
// A shard starts with one stripe. While a single goroutine uses the shard no
// record is ever dropped (a reader that finds the ring full takes the policy
// lock itself and drains it, without blocking other readers), so the policy
// sees every hit it was offered. When two readers collide on a stripe's
// tail the buffer doubles its stripes, up to maxStripes, and each reader
// goroutine keeps to its own stripe. Across stripes the replay order is stripe by stripe, and a
// reader that finds its ring full while another goroutine holds the policy
// lock drops its record, so under contention the policy's order is
// approximate: a recently read entry can be evicted slightly before an older one.
//
// Each stripe's tail counts the hits recorded in it and other counts the
// ones that were not (dropped, or applied directly by a reader that drained
// a full ring), so that a recorded hit costs no extra counter; hits on fresh
// entries are counted in Cache.hits and misses in Cache.misses.

const (
	stripeSlots = 16 // records per stripe; a power of two
	maxStripes  = 8  // stripes per shard at most; a power of two
)

// stripe is one ring of access records. Producers (readers holding the
// shard's read lock) claim a slot by advancing tail with a CAS and fill it;
// the consumer (the holder of the shard's policy lock, which readers do not
// hold) replays the ring and advances head. Producers and the consumer run
// concurrently, so a slot can be claimed but not yet filled when the
// consumer reaches it: the consumer stops there and a later drain replays
// it.
type stripe[K comparable, V any] struct {
	tail  atomic.Uint64 // slots claimed; also the hits recorded here
	other atomic.Uint64 // hits not recorded in the ring: dropped, or applied directly
	_     [48]byte
	head  atomic.Uint64 // slots consumed; written under the policy lock
	_     [56]byte
	slots [stripeSlots]atomic.Pointer[entry[K, V]]
}

// readBuffer is a shard's set of stripes.
type readBuffer[K comparable, V any] struct {
	stripes [maxStripes]stripe[K, V]
}

// pick returns the calling goroutine's stripe when n stripes are active.
func (b *readBuffer[K, V]) pick(n uint32) *stripe[K, V] {
	return &b.stripes[goroutineProbe()&(n-1)]
}

// goroutineProbe returns a number that differs between goroutines and stays
// the same for one goroutine, so that concurrent readers of one shard record
// into different stripes even when they read the same hot key. (Picking the
// stripe by key hash sends every reader of a hot key to the same stripe,
// whose cache line then bounces between cores: BenchmarkStripePick shows
// the difference.) It is the address of a local variable, which lives on
// the calling goroutine's own stack; goroutine stacks are disjoint and at
// least 2 KiB apart, so the address divided by 1 KiB tells goroutines apart.
// Go has no goroutine-local storage, and this costs a nanosecond where
// math/rand/v2 costs ten here (Caffeine and otter pick their read-buffer
// stripes the same way).
//
// unsafe is used only to turn the address into a number: the pointer is
// never dereferenced or stored, so a moved stack (which changes the probe)
// or a reused one cannot make anything incorrect, only pick another stripe.
func goroutineProbe() uint32 {
	var local byte
	a := uint64(uintptr(unsafe.Pointer(&local)))
	return uint32((a >> 10) * 0x9e3779b97f4a7c15 >> 32)
}

// record appends e to st. It returns false, recording nothing, when st is
// full; the caller then drains the buffer or drops the record. On a lost
// CAS it counts the hit in other and reports contention.
//
// record must never block or allocate: it runs on every Get hit.
func (st *stripe[K, V]) record(e *entry[K, V]) (ok, contended bool) {
	t := st.tail.Load()
	if t-st.head.Load() >= stripeSlots {
		return false, false
	}
	if !st.tail.CompareAndSwap(t, t+1) {
		st.other.Add(1)
		return true, true
	}
	st.slots[t&(stripeSlots-1)].Store(e)
	return true, false
}

// drain replays every completed record of st through touch, oldest first,
// for the recorded entries that are still in the cache. It stops at a slot a
// producer has claimed but not yet filled. Callers hold the policy lock.
func (st *stripe[K, V]) drain(touch func(*entry[K, V])) {
	h, t := st.head.Load(), st.tail.Load()
	for ; h != t; h++ {
		slot := &st.slots[h&(stripeSlots-1)]
		e := slot.Load()
		if e == nil {
			break
		}
		slot.Store(nil)
		if e.node.Linked() { // not removed since it was read
			touch(e)
		}
	}
	st.head.Store(h)
}

// hits returns the hits counted in the buffer's stripes.
func (b *readBuffer[K, V]) hits() uint64 {
	var n uint64
	for i := range b.stripes {
		st := &b.stripes[i]
		n += st.tail.Load() + st.other.Load()
	}
	return n
}
