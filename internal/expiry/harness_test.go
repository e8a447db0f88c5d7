package expiry

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"testing"
	"time"
)

// harness drives a Wheel and a trivial reference side by side: the reference
// is a slice of deadlines, and Advance(now) must fire exactly those whose tick
// index floor(d/tick) is below floor(now/tick), unless now went backwards.
type harness struct {
	tb     testing.TB
	w      *Wheel[int]
	tick   int64
	now    int64 // reference clock
	timers []Timer[int]
	dl     []int64 // reference deadlines
	on     []bool  // reference "scheduled"

	fired []*Timer[int]
	fire  func(*Timer[int])
}

func newHarness(tb testing.TB, tick, start int64, n int) *harness {
	h := &harness{
		tb:     tb,
		w:      New[int](time.Duration(tick), start),
		tick:   tick,
		now:    start,
		timers: make([]Timer[int], n),
		dl:     make([]int64, n),
		on:     make([]bool, n),
		fired:  make([]*Timer[int], 0, n),
	}
	if tick <= 0 {
		h.tick = int64(DefaultTick)
	}
	for i := range h.timers {
		h.timers[i].Value = i
	}
	h.fire = func(t *Timer[int]) {
		if t.Scheduled() || t.Deadline() != 0 {
			h.tb.Fatalf("timer %d still scheduled when fired (deadline %d)", t.Value, t.Deadline())
		}
		h.fired = append(h.fired, t)
	}
	h.check(opNew, 0, start)
	return h
}

func (h *harness) schedule(i int, d int64) {
	h.w.Schedule(&h.timers[i], d)
	h.dl[i], h.on[i] = d, true
	h.check(opSchedule, i, d)
}

func (h *harness) cancel(i int) {
	h.w.Cancel(&h.timers[i])
	h.on[i] = false
	h.check(opCancel, i, 0)
}

// advance runs Advance(now) on both and compares what fired.
func (h *harness) advance(now int64) {
	h.tb.Helper()
	var want []int
	if now >= h.now {
		h.now = now
		nt := floorDiv(now, h.tick)
		for i, on := range h.on {
			if on && floorDiv(h.dl[i], h.tick) < nt {
				want = append(want, i)
				h.on[i] = false
			}
		}
	}
	h.fired = h.fired[:0]
	h.w.Advance(now, h.fire)
	got := make([]int, 0, len(h.fired))
	for k, t := range h.fired {
		got = append(got, t.Value)
		// A fired timer's own deadline reads 0: take it from the reference.
		if k > 0 && floorDiv(h.dl[h.fired[k-1].Value], h.tick) > floorDiv(h.dl[t.Value], h.tick) {
			h.tb.Fatalf("advance(%d): fired out of tick order: %d then %d",
				now, h.dl[h.fired[k-1].Value], h.dl[t.Value])
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		h.tb.Fatalf("advance(%d) tick=%d: fired %v, want %v", now, h.tick, got, want)
	}
	h.check(opAdvance, 0, now)
}

// Operation kinds, for failure messages.
const (
	opNew = iota
	opSchedule
	opCancel
	opAdvance
)

// lastOp names the operation a check follows. It is a Stringer so that it is
// only formatted when a check fails, keeping checks cheap for the fuzzer.
type lastOp struct {
	kind, i int
	v       int64
}

func (o lastOp) String() string {
	switch o.kind {
	case opSchedule:
		return fmt.Sprintf("schedule(%d, %d)", o.i, o.v)
	case opCancel:
		return fmt.Sprintf("cancel(%d)", o.i)
	case opAdvance:
		return fmt.Sprintf("advance(%d)", o.v)
	}
	return fmt.Sprintf("new(start=%d)", o.v)
}

// check compares Len, Scheduled and NextDue with the reference and verifies
// the wheel's internal invariants.
func (h *harness) check(kind, i int, v int64) {
	h.tb.Helper()
	op := lastOp{kind, i, v}
	n := 0
	minTick := int64(math.MaxInt64)
	for i, on := range h.on {
		if h.timers[i].Scheduled() != on {
			h.tb.Fatalf("%s: timer %d Scheduled()=%v, want %v", op, i, !on, on)
		}
		want := int64(0) // Deadline reads 0 unless scheduled
		if on {
			want = h.dl[i]
		}
		if got := h.timers[i].Deadline(); got != want {
			h.tb.Fatalf("%s: timer %d Deadline()=%d, want %d", op, i, got, want)
		}
		if on {
			n++
			minTick = min(minTick, floorDiv(h.dl[i], h.tick))
		}
	}
	if h.w.Len() != n {
		h.tb.Fatalf("%s: Len()=%d, want %d", op, h.w.Len(), n)
	}
	due, ok := h.w.NextDue()
	if ok != (n > 0) {
		h.tb.Fatalf("%s: NextDue ok=%v with %d timers", op, ok, n)
	}
	if ok {
		// earliest is the first time at which Advance fires something.
		earliest, never := int64(math.MaxInt64), false
		if minTick >= math.MaxInt64/h.tick {
			never = true // earliest saturates
		} else {
			earliest = max(h.now, (minTick+1)*h.tick)
		}
		if due < h.now || (!never && due > earliest) {
			h.tb.Fatalf("%s: NextDue=%d, want in [%d, %d] (never=%v)", op, due, h.now, earliest, never)
		}
		// Exact when the earliest timer is overdue or at level 0.
		k := uint64(minTick) ^ signBit
		if k < h.w.cur || k>>slotBits == h.w.cur>>slotBits {
			if due != earliest {
				h.tb.Fatalf("%s: NextDue=%d, want exactly %d", op, due, earliest)
			}
		}
	}
	checkInvariants(h.tb, h.w)
}

// checkInvariants walks every list of w and checks links, positions,
// bitmaps, placement and the count.
func checkInvariants[T any](tb testing.TB, w *Wheel[T]) {
	tb.Helper()
	n := 0
	for idx, head := range w.heads {
		if idx < overdue {
			l, s := idx/slots, uint64(idx%slots)
			if (head != nil) != (w.occ[l]&(1<<s) != 0) {
				tb.Fatalf("level %d slot %d: bitmap disagrees with list", l, s)
			}
		}
		var prev *Timer[T]
		for t := head; t != nil; t = t.next {
			n++
			if t.prev != prev || int(t.pos) != idx+1 {
				tb.Fatalf("list %d: bad links or pos %d", idx, t.pos)
			}
			prev = t
			d := w.key(t.deadline)
			if idx == overdue {
				if d >= w.cur {
					tb.Fatalf("overdue timer %d not behind cur %d", d, w.cur)
				}
				continue
			}
			l, s := idx/slots, uint64(idx%slots)
			shift := uint(l * slotBits)
			if d < w.cur || d>>shift>>slotBits != w.cur>>shift>>slotBits || d>>shift&slotMask != s {
				tb.Fatalf("timer key %#x misplaced at level %d slot %d (cur %#x)", d, l, s, w.cur)
			}
			if l > 0 && s <= w.cur>>shift&slotMask {
				tb.Fatalf("level %d slot %d not ahead of cur %#x", l, s, w.cur)
			}
		}
	}
	if n != w.n {
		tb.Fatalf("lists hold %d timers, n=%d", n, w.n)
	}
}

func floorDiv(x, y int64) int64 {
	q := x / y
	if x%y < 0 {
		q--
	}
	return q
}

// addSat adds without wrapping around the int64 range.
func addSat(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// offset turns a magnitude class k (0..64) and raw bits into an offset below
// 2^(k-1), negative when neg: small classes are common, any class is reachable.
func offset(k uint, raw uint64, neg bool) int64 {
	v := int64((raw & (uint64(1)<<min(k, 64) - 1)) >> 1) // < 2^63: safe to negate
	if neg {
		return -v
	}
	return v
}

// specialTimes are deadlines at the edges of the representable range and of
// the levels.
func specialTimes(tick int64) []int64 {
	out := []int64{0, -1, 1, math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1}
	for k := 1; k < levels; k++ {
		b := int64(1) << (k * slotBits)
		if bits.Len64(uint64(b))+bits.Len64(uint64(tick)) < 63 {
			b *= tick
		}
		if k*slotBits < 63 {
			out = append(out, b-1, b, b+1)
		}
	}
	return out
}
