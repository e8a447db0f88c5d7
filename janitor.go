package shardcache

import "time"

// run is the cache's one background goroutine. While any shard holds an
// entry with a deadline it wakes every clock tick, refreshes the coarse clock
// and advances the timing wheel of every shard that has something due, so
// its work per tick is one atomic load per shard plus the entries that
// expire. When no shard holds a deadline it stops its ticker and sleeps until
// a write schedules one (wakeJanitor) or Close.
func (c *Cache[K, V]) run() {
	defer c.wg.Done()
	ticker := time.NewTicker(clockTick)
	defer ticker.Stop()
	var buf removals[K, V]
	rm := c.collector(&buf)
	for {
		select {
		case <-c.done:
			return
		case <-ticker.C:
		}
		if c.expire(c.clock.refresh(), rm) {
			continue
		}
		// Nothing is scheduled: sleep. Publishing idle before looking again
		// pairs with set, which schedules before it reads idle, so one of
		// the two always sees the other.
		ticker.Stop()
		c.idle.Store(true)
		if !c.anyDue() {
			select {
			case <-c.done:
				return
			case <-c.wake:
			}
		}
		c.idle.Store(false)
		c.clock.refresh()
		ticker.Reset(clockTick)
	}
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
