package shardcache

import (
	"sync/atomic"
	"time"
)

// clockTick is the resolution of the cache's coarse clock and the tick of
// every shard's timing wheel. Reading time.Now costs tens of nanoseconds on
// virtual machines (docs/design.md has the figure), more than a whole Get, so Get compares deadlines against a clock that the background
// goroutine refreshes every tick instead. An entry may therefore be returned
// for up to one tick after its deadline, never later.
const clockTick = time.Millisecond

// clock is a monotonic nanosecond counter since the cache was created.
// Deadlines are expressed on it, so wall-clock jumps never expire or revive
// entries.
type clock struct {
	_     [64]byte // keep now on a line of its own: every Get with a TTL reads it
	now   atomic.Int64
	_     [56]byte
	epoch time.Time
	// manual stops refresh from reading the real time; tests move now
	// themselves.
	manual bool
}

func newClock() *clock { return &clock{epoch: time.Now()} }

// Now returns the coarse time, in nanoseconds since epoch.
func (c *clock) Now() int64 { return c.now.Load() }

// refresh reads the real time into the coarse clock and returns it. It never
// moves the clock backwards, so concurrent refreshes are harmless.
func (c *clock) refresh() int64 {
	if c.manual {
		return c.now.Load()
	}
	t := int64(time.Since(c.epoch))
	for {
		cur := c.now.Load()
		if t <= cur {
			return cur
		}
		if c.now.CompareAndSwap(cur, t) {
			return t
		}
	}
}

// wall returns the wall-clock Time of clock time d: the epoch's wall
// reading plus d. at is its inverse, so that a deadline given as a Time
// reads back as the same Time (to the nanosecond), whatever the coarse
// clock's lag.
func (c *clock) wall(d int64) time.Time {
	if c.manual {
		// Tests move now by hand: read d relative to it.
		return time.Now().Add(time.Duration(d - c.now.Load()))
	}
	return c.epoch.Add(time.Duration(d))
}

// at returns the clock time of t: its distance from the epoch, on the
// monotonic clock if t carries a reading (as time.Now's do), else on the
// wall clock. It saturates for Times centuries away.
func (c *clock) at(t time.Time) int64 {
	if c.manual {
		return c.now.Load() + int64(time.Until(t))
	}
	return int64(t.Sub(c.epoch))
}

// deadline returns the clock time at which an entry set at now with ttl
// expires, saturating instead of overflowing for absurdly long TTLs.
func deadline(now int64, ttl time.Duration) int64 {
	d := now + int64(ttl)
	if d < now {
		return 1<<63 - 1
	}
	return d
}
