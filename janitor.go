package shardcache

import (
	"time"
	"weak"
)

// janitor is the cache's background goroutine. While any shard holds an
// entry with a deadline it wakes every clock tick, refreshes the coarse clock
// and advances the timing wheel of every shard that has something due, so
// its work per tick is one atomic load per shard plus the entries that
// expire. When no shard holds a deadline it stops its ticker and sleeps until
// a write schedules one (wakeJanitor) or Close.
//
// It holds the Cache only through wp, resolved afresh on every wake-up by
// the helpers below (never inlined, so that no strong pointer stays in this
// frame): a Cache dropped without Close is collected while the janitor
// sleeps, its cleanup closes done, and the janitor returns. It closes
// exited when it returns.
func janitor[K comparable, V any](wp weak.Pointer[Cache[K, V]], done, wake <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	ticker := time.NewTicker(clockTick)
	defer ticker.Stop()
	var buf removals[K, V] // holds no entry between ticks: run resets it
	for {
		select {
		case <-done:
			return
		case <-ticker.C:
		}
		alive, scheduled := janitorTick(wp, &buf)
		switch {
		case !alive:
			return
		case scheduled:
			continue
		}
		// Nothing is scheduled: sleep. Publishing idle before looking again
		// pairs with set, which schedules before it reads idle, so one of
		// the two always sees the other.
		ticker.Stop()
		alive, due := janitorIdle(wp)
		if !alive {
			return
		}
		if !due {
			select {
			case <-done:
				return
			case <-wake:
			}
		}
		if !janitorWake(wp) {
			return
		}
		ticker.Reset(clockTick)
	}
}

// janitorTick is one tick of the janitor: it refreshes the clock and
// expires what is due. alive is false once the Cache is gone.
//
//go:noinline
func janitorTick[K comparable, V any](wp weak.Pointer[Cache[K, V]], buf *removals[K, V]) (alive, scheduled bool) {
	c := wp.Value()
	if c == nil {
		return false, false
	}
	return true, c.expire(c.clock.refresh(), c.collector(buf))
}

// janitorIdle publishes that the janitor is about to sleep and reports
// whether a timer was scheduled meanwhile.
//
//go:noinline
func janitorIdle[K comparable, V any](wp weak.Pointer[Cache[K, V]]) (alive, due bool) {
	c := wp.Value()
	if c == nil {
		return false, false
	}
	c.idle.Store(true)
	return true, c.anyDue()
}

// janitorWake ends the janitor's sleep: the clock is stale.
//
//go:noinline
func janitorWake[K comparable, V any](wp weak.Pointer[Cache[K, V]]) (alive bool) {
	c := wp.Value()
	if c == nil {
		return false
	}
	c.idle.Store(false)
	c.clock.refresh()
	return true
}

// wakeJanitor ends the janitor's idle sleep; it never blocks.
func (c *Cache[K, V]) wakeJanitor() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// expire reclaims every entry whose wheel tick has passed at now, then calls
// OnRemove for them with no lock held. It reports whether any shard still
// holds a timer.
func (c *Cache[K, V]) expire(now int64, rm *removals[K, V]) (scheduled bool) {
	for i := range c.shards {
		if c.closed.Load() {
			return false
		}
		s := &c.shards[i]
		due := s.due()
		if due == noDue {
			continue
		}
		scheduled = true
		if due > now {
			continue
		}
		s.expireDue(now, rm)
		if rm != nil && rm.n > 0 {
			c.inCallback.Store(true)
			rm.run(c.onRemove)
			c.inCallback.Store(false)
		}
	}
	return scheduled
}

// anyDue reports whether any shard holds a timer.
func (c *Cache[K, V]) anyDue() bool {
	for i := range c.shards {
		if c.shards[i].due() != noDue {
			return true
		}
	}
	return false
}
