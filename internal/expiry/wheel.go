// Package expiry schedules expirations on a hierarchical timing wheel
// (Varghese & Lauck, "Hashed and Hierarchical Timing Wheels", SOSP 1987).
//
// Time is cut into ticks of a fixed length. A deadline's tick index, read as a
// 64-bit number, is split into 6-bit digits; the wheel has one level of 64
// slots per digit, so level L slot s holds timers whose deadline agrees with
// the wheel's current tick on every digit above L and has digit s at L. A
// timer therefore sits at the level of the highest digit in which it differs
// from "now": soon timers at level 0 (one slot per tick), far ones higher up
// (a level-L slot spans 64^L ticks). Eleven levels cover every int64 deadline
// exactly, so nothing ever wraps around. When time reaches the start of a
// higher-level slot, its timers are cascaded, i.e. re-placed at a strictly lower
// level; a timer cascades at most once per level. Each slot is an intrusive
// doubly linked list threaded through the [Timer] itself, so Schedule and
// Cancel are O(1) and never allocate, and each level keeps a 64-bit occupancy
// bitmap, so Advance jumps straight to the next occupied slot instead of
// visiting every tick: a pause of an hour costs the same as a pause of a tick
// plus the timers it fires or cascades.
package expiry

import (
	"math"
	"math/bits"
	"time"
)

const (
	slotBits = 6
	slots    = 1 << slotBits // slots per level
	slotMask = slots - 1
	// levels is the number of levels needed for 64-bit tick indexes:
	// ceil(64/6) = 11, the top one using only 4 of its 6 bits.
	levels = (64 + slotBits - 1) / slotBits

	// overdue is the index in Wheel.heads of the list of timers scheduled
	// with a deadline tick already behind the wheel's current tick.
	overdue = levels * slots

	// signBit flips an int64 into a uint64 of the same order.
	signBit = 1 << 63

	// DefaultTick is the tick New uses when given a tick <= 0.
	DefaultTick = time.Millisecond
)

// Timer is one schedulable item. The cache engine gives each entry that has a
// deadline a Timer (reusing those of departed entries) and points Value back
// at the entry; the wheel itself never allocates.
//
// The zero value is an unscheduled timer ready for [Wheel.Schedule]. A Timer
// belongs to at most one Wheel at a time and must not be copied while it is
// scheduled (the wheel links to its address).
type Timer[T any] struct {
	// Value is the caller's payload; the wheel never reads it.
	Value T

	deadline   int64
	prev, next *Timer[T]
	// pos is 0 when not scheduled, else 1 + the index of its list in
	// Wheel.heads (level*slots + slot, or overdue).
	pos uint16
}

// Deadline reports the deadline given to the last Schedule of t, in the
// wheel's nanosecond time base, while t is scheduled, and 0 once it is not
// (never scheduled, cancelled, or handed to Advance's fire function). A
// caller that never schedules a deadline of 0 can therefore keep its
// deadline in the Timer alone and read 0 as "none".
func (t *Timer[T]) Deadline() int64 { return t.deadline }

// Scheduled reports whether t is in a wheel. It turns false when t is
// cancelled, and before the wheel hands t to Advance's fire function.
func (t *Timer[T]) Scheduled() bool { return t.pos != 0 }

// Wheel is a hierarchical timing wheel of [Timer] values.
//
// A Wheel is not safe for concurrent use: the engine keeps one per shard and
// calls every method under that shard's mutex. Times are int64 nanoseconds on
// a monotonic epoch of the caller's choosing (zero or negative is fine); the
// wheel only ever compares them through their tick index floor(x/tick).
// Schedule, Cancel, Len and Tick cost O(1), NextDue O(levels); no method
// allocates. Use [New]: the zero Wheel is not usable, and a Wheel must not be
// copied after first use (both copies would own the same timers).
type Wheel[T any] struct {
	tick int64 // tick length in ns, >= 1
	now  int64 // largest time passed to New or Advance
	cur  uint64
	// cur is the current tick index in the order-preserving unsigned form
	// (see key). Invariant: every timer in level L slot s has a deadline key
	// d >= cur that agrees with cur on all digits above L and has digit s at
	// L, and s > digit L of cur when L > 0. Timers with d < cur are in the
	// overdue list.

	n     int                         // scheduled timers, overdue included
	occ   [levels]uint64              // bit s of occ[L] set iff heads[L*slots+s] != nil
	heads [levels*slots + 1]*Timer[T] // slot lists, then the overdue list

	// steps counts slots visited by Advance, for tests of its cost.
	steps uint64
}

// New returns an empty wheel whose clock starts at now, with the given tick
// length. A tick <= 0 is taken as [DefaultTick] (1ms) rather than panicking,
// so a zero config field means "the default".
func New[T any](tick time.Duration, now int64) *Wheel[T] {
	if tick <= 0 {
		tick = DefaultTick
	}
	w := &Wheel[T]{tick: int64(tick), now: now}
	w.cur = w.key(now)
	return w
}

// Len reports the number of scheduled timers. O(1).
func (w *Wheel[T]) Len() int { return w.n }

// Schedule arranges for t to fire on the first Advance whose tick index
// (floor(now/tick)) is greater than that of deadline: never before the
// deadline, and at most one tick after it when Advance runs every tick. A
// deadline in the past is fine: t fires on the next Advance. If t is already
// scheduled in w it is moved to the new deadline; t must not be scheduled in
// another wheel. O(1), no allocation.
func (w *Wheel[T]) Schedule(t *Timer[T], deadline int64) {
	if t.pos != 0 {
		w.unlink(t)
	} else {
		w.n++
	}
	t.deadline = deadline
	w.place(t, w.key(deadline))
}

// Cancel removes t from w. It is a no-op if t is not scheduled; t must not be
// scheduled in another wheel. O(1), no allocation.
func (w *Wheel[T]) Cancel(t *Timer[T]) {
	if t.pos == 0 {
		return
	}
	w.unlink(t)
	w.n--
}

// Advance moves the wheel's clock to now and fires exactly the scheduled timers
// whose deadline tick index is below now's (deadline < floor(now/tick)*tick), in
// non-decreasing order of deadline tick (unordered within a tick). Each timer is
// unscheduled before fire(t) is called. fire must not call any method of w: it
// should only record t, and the caller acts on the records after Advance returns.
// If now is smaller than the time of New or of a previous Advance, Advance does
// nothing.
//
// Cost: O(levels) to find each occupied slot it visits, O(1) per timer fired
// and per timer cascaded (at most once per level over a timer's life), and a
// merge sort of the timers that were scheduled with an already-passed deadline.
// It jumps from one occupied slot to the next with the bitmaps instead of
// visiting the ticks in between, so a long pause is as cheap as a short one.
// It does not allocate.
func (w *Wheel[T]) Advance(now int64, fire func(*Timer[T])) {
	if now < w.now {
		return
	}
	w.now = now
	target := w.key(now)
	if w.heads[overdue] != nil {
		w.fireOverdue(fire)
	}
	// Visit occupied slots in time order. The lowest occupied level always
	// holds the earliest slot: its slots lie in the current slot of the level
	// above, and the invariant keeps the slots above strictly later.
	for {
		l := 0
		for l < levels && w.occ[l] == 0 {
			l++
		}
		if l == levels {
			break
		}
		s := uint64(bits.TrailingZeros64(w.occ[l]))
		start := w.slotStart(l, s)
		if l == 0 {
			if start >= target {
				break // due at target's tick or later: not yet
			}
		} else if start > target {
			break
		}
		w.steps++
		w.cur = start
		idx := l*slots + int(s)
		if l == 0 {
			// Pop one at a time so the list and bitmap stay consistent
			// while fire runs.
			for t := w.heads[idx]; t != nil; t = w.heads[idx] {
				w.unlink(t)
				w.n--
				fire(t)
			}
			continue
		}
		// Cascade: every timer here has d >= start and shares start's digits
		// from L up, so it lands strictly below L.
		t := w.heads[idx]
		w.heads[idx] = nil
		w.occ[l] &^= 1 << s
		for t != nil {
			next := t.next
			w.place(t, w.key(t.deadline))
			t = next
		}
	}
	// No occupied slot starts at or before target (bar level-0 ones at target),
	// so the invariant holds with cur = target.
	w.cur = target
}

// NextDue reports a time before which Advance fires nothing: for any
// now < due, Advance(now) fires no timer. due is exact, the first time at which
// the earliest timer can fire, when that timer sits at level 0 (within 64 ticks
// of the clock) or is overdue; for a farther timer it is a lower bound, one tick
// after the start of its slot. ok is false when the wheel is empty.
// O(levels), no allocation.
func (w *Wheel[T]) NextDue() (due int64, ok bool) {
	if w.n == 0 {
		return 0, false
	}
	if w.heads[overdue] != nil {
		return w.now, true
	}
	for l := 0; l < levels; l++ {
		if w.occ[l] != 0 {
			s := uint64(bits.TrailingZeros64(w.occ[l]))
			return w.endOf(w.slotStart(l, s)), true
		}
	}
	return 0, false // unreachable while n counts the lists
}

// key is the tick index of x, floor(x/tick), in unsigned form with the sign
// bit flipped so that unsigned order is signed order.
func (w *Wheel[T]) key(x int64) uint64 {
	q := x / w.tick
	if q*w.tick > x { // truncated toward zero from below: one division only
		q--
	}
	return uint64(q) ^ signBit
}

// endOf reports the end of the tick with key k, (k+1)*tick, as a time,
// saturated at MaxInt64. It cannot underflow: i >= floor(MinInt64/tick), so
// (i+1)*tick >= MinInt64.
func (w *Wheel[T]) endOf(k uint64) int64 {
	i := int64(k ^ signBit)
	if i >= math.MaxInt64/w.tick {
		return math.MaxInt64
	}
	return (i + 1) * w.tick
}

// slotStart reports the key of the first tick of level l slot s: cur's digits
// above l, s at l, zeros below. Shifts of 64 or more yield 0 in Go, which is
// what the top level needs.
func (w *Wheel[T]) slotStart(l int, s uint64) uint64 {
	shift := uint(l * slotBits)
	return w.cur>>(shift+slotBits)<<(shift+slotBits) | s<<shift
}

// place links t, whose deadline key is d, at the head of the list the
// invariant gives it. O(1).
func (w *Wheel[T]) place(t *Timer[T], d uint64) {
	idx := overdue
	if d >= w.cur {
		l := 0
		if x := d ^ w.cur; x != 0 {
			l = (bits.Len64(x) - 1) / slotBits
		}
		s := d >> uint(l*slotBits) & slotMask
		idx = l*slots + int(s)
		w.occ[l] |= 1 << s
	}
	h := w.heads[idx]
	t.prev, t.next = nil, h
	if h != nil {
		h.prev = t
	}
	w.heads[idx] = t
	t.pos = uint16(idx + 1)
}

// unlink removes t from its list, clearing the slot's bit if it empties,
// and unschedules it (its deadline reads 0). It leaves w.n alone. O(1).
func (w *Wheel[T]) unlink(t *Timer[T]) {
	idx := int(t.pos) - 1
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		w.heads[idx] = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	if w.heads[idx] == nil && idx < overdue {
		w.occ[idx/slots] &^= 1 << (idx % slots)
	}
	t.prev, t.next, t.pos, t.deadline = nil, nil, 0, 0
}

// fireOverdue fires every overdue timer, earliest deadline first. These were
// scheduled after their tick had passed, so they precede everything in the
// slots; sorting them (O(k log k), on the stack) keeps the firing order.
func (w *Wheel[T]) fireOverdue(fire func(*Timer[T])) {
	h := sortByDeadline(w.heads[overdue])
	w.heads[overdue] = h
	var prev *Timer[T]
	for t := h; t != nil; t = t.next {
		t.prev = prev
		prev = t
	}
	for t := w.heads[overdue]; t != nil; t = w.heads[overdue] {
		w.unlink(t)
		w.n--
		fire(t)
	}
}

// sortByDeadline merge-sorts the list at h by deadline through the next
// links only, and returns the new head. Recursion depth is log2 of the length.
func sortByDeadline[T any](h *Timer[T]) *Timer[T] {
	if h == nil || h.next == nil {
		return h
	}
	slow, fast := h, h.next
	for fast != nil && fast.next != nil {
		slow, fast = slow.next, fast.next.next
	}
	b := slow.next
	slow.next = nil
	a := sortByDeadline(h)
	b = sortByDeadline(b)

	var head *Timer[T]
	tail := &head
	for a != nil && b != nil {
		if a.deadline <= b.deadline {
			*tail, a = a, a.next
		} else {
			*tail, b = b, b.next
		}
		tail = &(*tail).next
	}
	if a != nil {
		*tail = a
	} else {
		*tail = b
	}
	return head
}
