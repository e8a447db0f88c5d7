package shardcache

import "time"

// Expire changes the lifetime of key's live entry without rewriting it: ttl
// > 0 makes it expire ttl from now, ttl == 0 makes it never expire, and ttl
// < 0 removes it at once (OnRemove sees ReasonDeleted, as after Delete: the
// caller asked for the removal). It reports whether a live entry held the
// key; an expired entry still held is reclaimed (ReasonExpired) and
// reported as absent.
//
// The value, the cost and the eviction order are left as they were: Expire
// is not an access (like TTL and Peek, and unlike Get or Set), and Stats
// does not count it. It takes the key's shard write lock once and costs
// one table lookup and one timing-wheel schedule or cancel (O(1)); it never
// allocates, except for the key's first deadline, which attaches a timer
// (48 bytes, reused from departed entries when the shard has one).
//
// In Redis terms: EXPIRE and PEXPIRE with a positive time are Expire(key,
// ttl), PERSIST is Expire(key, 0), and a time that is not positive
// (which Redis reads as "delete") is a negative ttl here.
func (c *Cache[K, V]) Expire(key K, ttl time.Duration) bool {
	now, d, drop := c.lifetime(ttl)
	return c.setLifetime(key, now, d, drop)
}

// ExpireAt is Expire with an absolute deadline: the zero Time means never
// (Expire(key, 0)), a deadline at or before now removes the key
// (ReasonDeleted), and any other makes the entry expire then. The deadline
// is placed on the cache's monotonic clock when ExpireAt is called (by its
// distance from the cache's creation: monotonic if the Time carries a
// monotonic reading, as time.Now's do, wall-clock otherwise), so a later
// jump of the wall clock does not move the entry's expiry, and
// Entry.Deadline reads back exactly the Time given (Redis's EXPIREAT then
// EXPIRETIME). It reports what Expire reports, at the same cost.
func (c *Cache[K, V]) ExpireAt(key K, deadline time.Time) bool {
	now, d, drop := c.lifetimeAt(deadline)
	return c.setLifetime(key, now, d, drop)
}

// lifetimeAt reads an ExpireAt deadline as lifetime reads a ttl.
func (c *Cache[K, V]) lifetimeAt(deadline time.Time) (now, d int64, drop bool) {
	now = c.clock.Now()
	if deadline.IsZero() {
		return now, 0, false
	}
	if c.idle.Load() {
		now = c.clock.refresh() // the janitor sleeps, so the clock is stale
	}
	d = c.clock.at(deadline)
	if d <= now {
		return now, 0, true
	}
	return now, d, false
}

// lifetime reads an Expire ttl: the current clock time, the new deadline
// (0: none) and whether the key is to be removed instead.
func (c *Cache[K, V]) lifetime(ttl time.Duration) (now, d int64, drop bool) {
	if ttl < 0 {
		return c.clock.Now(), 0, true
	}
	now, d = c.deadlineAfter(ttl)
	return now, d, false
}

func (c *Cache[K, V]) setLifetime(key K, now, d int64, drop bool) bool {
	h := c.hash(key)
	var buf removals[K, V]
	rm := c.collector(&buf)
	s := c.shardFor(h)
	s.lock()
	live := s.relife(h, key, d, drop, now, rm)
	s.unlock()
	if live && d != 0 && c.idle.Load() {
		// As in set: the deadline is scheduled before idle is read.
		c.wakeJanitor()
	}
	rm.run(c.onRemove)
	return live
}

// relife gives key's live entry the deadline d (0: none), or removes it
// (ReasonDeleted) if drop, and reports whether there was one; an expired
// entry is reclaimed (ReasonExpired). Neither the value, the cost nor the
// policy's order changes. Callers hold the write lock.
func (s *shard[K, V]) relife(h uint64, key K, d int64, drop bool, now int64, rm *removals[K, V]) bool {
	e := s.lookup(h, key)
	if e == nil {
		return false
	}
	if e.expired(now) {
		s.remove(e, ReasonExpired, rm)
		return false
	}
	if drop {
		s.remove(e, ReasonDeleted, rm)
		return true
	}
	s.setDeadline(e, d, now)
	return true
}
