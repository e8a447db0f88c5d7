package shardcache

import "github.com/shardcache/shardcache/internal/expiry"

// noDue marks a shard whose wheel holds no timer.
const noDue = 1<<63 - 1

// setDeadline gives e the deadline d (0: none) and (un)schedules its timer.
func (s *shard[K, V]) setDeadline(e *entry[K, V], d, now int64) {
	e.deadline = d
	if d == 0 {
		s.cancelTimer(e)
		return
	}
	if s.wheel == nil {
		s.wheel = expiry.New[*entry[K, V]](clockTick, now)
	}
	if e.timer == nil {
		e.timer = s.newTimer(e)
	}
	s.wheel.Schedule(e.timer, d)
	// The wheel fires a timer once the tick holding its deadline has passed.
	due := d - d%int64(clockTick) + int64(clockTick)
	if due < 0 { // overflow for deadlines near the end of time
		due = noDue - 1
	}
	if due < s.nextDue.Load() {
		s.nextDue.Store(due)
	}
}

// cancelTimer unschedules e's timer, if any. When that empties the wheel,
// the shard tells the janitor it has nothing due, so that the janitor can
// go idle instead of waking every tick until the cancelled deadline.
func (s *shard[K, V]) cancelTimer(e *entry[K, V]) {
	if e.timer == nil || !e.timer.Scheduled() {
		return
	}
	s.wheel.Cancel(e.timer)
	if s.wheel.Len() == 0 {
		s.nextDue.Store(noDue)
	}
}

// maxSpareTimers bounds how many timers of departed entries a shard keeps.
// Entries that expire or are deleted leave their timers here, and the next
// entries to get a deadline take them, so a cache whose keys come and go
// with a TTL allocates one object per new key, not two.
const maxSpareTimers = 32

// newTimer returns an unscheduled timer for e: a spare one, else a new one.
func (s *shard[K, V]) newTimer(e *entry[K, V]) *expiry.Timer[*entry[K, V]] {
	var t *expiry.Timer[*entry[K, V]]
	if n := len(s.timers); n > 0 {
		t = s.timers[n-1]
		s.timers[n-1] = nil
		s.timers = s.timers[:n-1]
	} else {
		t = new(expiry.Timer[*entry[K, V]])
	}
	t.Value = e
	return t
}

// releaseTimer unschedules e's timer, if it has one, and takes it from e
// for a later entry. e is leaving the shard: nothing reads its timer again
// (Get and the snapshot read e.deadline).
func (s *shard[K, V]) releaseTimer(e *entry[K, V]) {
	if e.timer == nil {
		return
	}
	s.cancelTimer(e)
	if len(s.timers) < maxSpareTimers {
		e.timer.Value = nil
		s.timers = append(s.timers, e.timer)
	}
	e.timer = nil
}

// expire advances the wheel to now and removes every entry it fires.
func (s *shard[K, V]) expire(now int64, rm *removals[K, V]) {
	if s.wheel == nil {
		return
	}
	s.wheel.Advance(now, func(t *expiry.Timer[*entry[K, V]]) {
		s.remove(t.Value, ReasonExpired, rm)
	})
	if due, ok := s.wheel.NextDue(); ok {
		s.nextDue.Store(due)
	} else {
		s.nextDue.Store(noDue)
	}
}
