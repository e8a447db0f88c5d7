package shardcache

import (
	"fmt"
	"time"
)

// ComputeOp tells Compute what to do with the key after fn returns: one of
// the three constants below; any other value makes Compute panic.
type ComputeOp uint8

const (
	// ComputeKeep leaves the key as it was (the zero value).
	ComputeKeep ComputeOp = iota
	// ComputeSet stores the value fn returned. A present entry keeps its
	// deadline and the key it was stored with (only a new entry stores
	// the key Compute was given); a new entry gets Config.DefaultTTL.
	ComputeSet
	// ComputeDelete removes the key.
	ComputeDelete
)

// Compute atomically reads, modifies and writes one key: it calls fn with
// the key's live value (found is false if the key is absent or expired) while
// holding the key's shard write lock, then applies the returned op. It
// returns the value stored for the key afterwards and whether one is, so
// counters and compare-and-swap updates need no lock of their own:
//
//	c.Compute("hits", func(n int, _ bool) (int, shardcache.ComputeOp) {
//		return n + 1, shardcache.ComputeSet
//	})
//
// fn runs under the shard lock: it must be quick and must not call the
// cache (that would deadlock). If fn panics, the key is left as it was, the
// lock is released and the panic propagates to the caller of Compute.
// Config.Cost, if set, is also called under the lock for a ComputeSet. An op
// other than the three above is a programming error: Compute panics with a
// message naming it (such as "shardcache: Compute: unknown ComputeOp 7"),
// leaving the key as it was and releasing the lock. A set counts in
// Stats.Sets and counts as an access (as Set does); ComputeKeep is not an
// access. After Close, Compute does not call fn and returns the zero value
// and false.
func (c *Cache[K, V]) Compute(key K, fn func(old V, found bool) (V, ComputeOp)) (V, bool) {
	return c.compute(key, fn, nil)
}

// ComputeEntry is Compute with the whole live entry given to fn: its value,
// TTL, deadline and cost (as GetEntry reads them), read under the same lock
// as the write, so that fn may take the deadline into account or record it
// (shardcached logs an INCR as the key's new value with its absolute
// deadline, inside fn, so that the log's order is the engine's). old is the
// zero Entry when found is false. Everything else, including what fn must
// not do, is as for Compute.
func (c *Cache[K, V]) ComputeEntry(key K, fn func(old Entry[V], found bool) (V, ComputeOp)) (V, bool) {
	return c.compute(key, nil, fn)
}

// compute is Compute (fn) or ComputeEntry (efn): exactly one is set.
func (c *Cache[K, V]) compute(key K, fn func(old V, found bool) (V, ComputeOp), efn func(old Entry[V], found bool) (V, ComputeOp)) (V, bool) {
	h := c.hash(key)
	s := c.shardFor(h)
	var buf removals[K, V]
	rm := c.collector(&buf)
	var zero V

	s.lock()
	locked := true
	defer func() {
		// fn (or Config.Cost) panicked or called runtime.Goexit: it ran
		// before any change, so the shard is consistent; release it.
		if locked {
			s.unlock()
		}
	}()
	if s.isClosed() {
		s.unlock()
		locked = false
		return zero, false
	}
	now := c.clock.Now()
	e := s.lookup(h, key)
	if e != nil && e.expired(now) {
		s.remove(e, ReasonExpired, rm)
		e = nil
	}
	var old V
	if e != nil {
		old = e.value
	}
	var v V
	var op ComputeOp
	if efn == nil {
		v, op = fn(old, e != nil)
	} else {
		var oe Entry[V]
		if e != nil {
			oe = Entry[V]{Value: old, Cost: s.costOf(e)}
			if e.deadline != 0 {
				oe.TTL = time.Duration(e.deadline - now)
				oe.Deadline = c.clock.wall(e.deadline)
			}
		}
		v, op = efn(oe, e != nil)
	}
	if op > ComputeDelete {
		// The deferred unlock releases the shard; nothing has changed.
		panic(fmt.Sprintf("shardcache: Compute: unknown ComputeOp %d", op))
	}
	result, stored := old, e != nil
	scheduled := false
	switch op {
	case ComputeSet:
		d := int64(0)
		if e != nil {
			d = e.deadline
		} else if c.defaultTTL > 0 {
			now, d = c.deadlineAfter(c.defaultTTL)
			scheduled = true
		}
		s.drainReads()
		result, stored = v, s.put(h, key, v, c.costOf(key, v), d, now, false, rm) == putStored
		if !stored {
			result = zero
		}
	case ComputeDelete:
		if e != nil {
			s.remove(e, ReasonDeleted, rm)
		}
		result, stored = zero, false
	}
	s.unlock()
	locked = false

	if scheduled && c.idle.Load() {
		c.wakeJanitor()
	}
	rm.run(c.onRemove)
	return result, stored
}
