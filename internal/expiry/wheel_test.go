package expiry

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ms = int64(time.Millisecond)

// step is one Advance of a single-timer scenario and whether it must fire.
type step struct {
	now   int64
	fires bool
}

func TestWheelSingleTimer(t *testing.T) {
	type tc struct {
		name     string
		tick     int64
		start    int64
		deadline int64
		steps    []step
	}
	cases := []tc{
		{"edge/on tick edge waits for next tick", ms, 0, 5 * ms,
			[]step{{5 * ms, false}, {6*ms - 1, false}, {6 * ms, true}}},
		{"edge/one ns before edge", ms, 0, 5*ms - 1,
			[]step{{5*ms - 1, false}, {5 * ms, true}}},
		{"edge/one ns after edge", ms, 0, 5*ms + 1,
			[]step{{5 * ms, false}, {6*ms - 1, false}, {6 * ms, true}}},
		{"edge/deadline equals start", ms, 7 * ms, 7 * ms,
			[]step{{7 * ms, false}, {8 * ms, true}}},
		{"edge/level 0 end", 1, 0, 63, []step{{63, false}, {64, true}}},
		{"past/before start fires on same now", ms, 10 * ms, 3 * ms,
			[]step{{10 * ms, true}}},
		{"past/earlier tick of start fires on same now", ms, 10*ms + 5, 9 * ms,
			[]step{{10*ms + 5, true}}},
		{"past/same tick as start does not fire", ms, 10*ms + 5, 10 * ms,
			[]step{{10*ms + 999, false}, {11 * ms, true}}},
		{"past/negative deadline", ms, 0, -5, []step{{0, true}}},
		{"past/MinInt64 deadline", 1, 0, math.MinInt64, []step{{0, true}}},
		{"backwards/now before start does nothing", ms, 10 * ms, 3 * ms,
			[]step{{9 * ms, false}, {10 * ms, true}}},
		{"backwards/now before previous advance does nothing", ms, 0, 5 * ms,
			[]step{{5 * ms, false}, {100 * ms, true}}},
		{"huge/MaxInt64 never fires (tick 1ns)", 1, 0, math.MaxInt64,
			[]step{{math.MaxInt64 - 1, false}, {math.MaxInt64, false}}},
		{"huge/MaxInt64 never fires (tick 1ms)", ms, 0, math.MaxInt64,
			[]step{{math.MaxInt64, false}}},
		{"huge/MaxInt64-1 fires at MaxInt64 (tick 1ns)", 1, 0, math.MaxInt64 - 1,
			[]step{{math.MaxInt64 - 1, false}, {math.MaxInt64, true}}},
		{"huge/MaxInt64-1 in small steps then jump", 1, 0, math.MaxInt64 - 1,
			[]step{{1 << 20, false}, {1 << 40, false}, {math.MaxInt64 - 64, false}, {math.MaxInt64, true}}},
		{"pause/one hour with 1ms tick", ms, 0, 30 * 60 * 1000 * ms,
			[]step{{ms, false}, {60 * 60 * 1000 * ms, true}}},
		{"pause/negative start", ms, -1000 * ms, -10 * ms,
			[]step{{-10 * ms, false}, {-9 * ms, true}}},
	}
	// Deadlines on and around every level boundary, reached directly and
	// through the boundary itself.
	for k := 1; k < levels; k++ {
		b := int64(1) << (k * slotBits)
		if k*slotBits >= 63 {
			continue
		}
		for _, d := range []int64{b - 1, b, b + 1} {
			cases = append(cases,
				tc{fmt.Sprintf("boundary/64^%d%+d/jump", k, d-b), 1, 0, d,
					[]step{{d, false}, {d + 1, true}}},
				tc{fmt.Sprintf("boundary/64^%d%+d/via boundary", k, d-b), 1, 0, d,
					[]step{{b - 1, false}, {b, d < b}}},
			)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.tick, c.start, 1)
			h.schedule(0, c.deadline)
			for _, s := range c.steps {
				before := h.w.Len()
				h.advance(s.now) // compares with the reference
				assert.Equal(t, s.fires, before-h.w.Len() == 1, "Advance(%d)", s.now)
			}
		})
	}
}

func TestNewTick(t *testing.T) {
	for _, c := range []struct {
		name string
		tick time.Duration
		want time.Duration
	}{
		{"zero means default", 0, time.Millisecond},
		{"negative means default", -5 * time.Second, time.Millisecond},
		{"1ns", 1, 1},
		{"10ms", 10 * time.Millisecond, 10 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := New[int](c.tick, 0)
			assert.Equal(t, c.want, w.Tick())
			assert.Zero(t, w.Len())
			_, ok := w.NextDue()
			assert.False(t, ok)
		})
	}
}

func TestReschedule(t *testing.T) {
	for _, c := range []struct {
		name       string
		first, sec int64
		fireAt     int64 // first Advance (in 1ms steps) that fires it
	}{
		{"earlier", 50 * ms, 5 * ms, 6 * ms},
		{"later", 5 * ms, 50 * ms, 51 * ms},
		{"same", 5 * ms, 5 * ms, 6 * ms},
		{"from far level to level 0", 1 << 40, 2 * ms, 3 * ms},
		{"from level 0 to far level", 2 * ms, 100 * ms, 101 * ms},
		{"into the past", 50 * ms, -ms, ms},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, ms, 0, 2)
			h.schedule(0, c.first)
			h.schedule(1, 1000*ms) // a neighbour that must stay put
			h.schedule(0, c.sec)
			assert.Equal(t, 2, h.w.Len())
			assert.Equal(t, c.sec, h.timers[0].Deadline())
			for now := ms; now <= c.fireAt; now += ms {
				h.advance(now)
				assert.Equal(t, now == c.fireAt, !h.timers[0].Scheduled() && len(h.fired) == 1, "now=%d", now)
				if !h.timers[0].Scheduled() {
					break
				}
			}
			assert.False(t, h.timers[0].Scheduled())
			assert.True(t, h.timers[1].Scheduled())
		})
	}
}

func TestCancel(t *testing.T) {
	for _, c := range []struct {
		name      string
		deadlines []int64
		cancel    []int
	}{
		{"only timer in level 0 slot", []int64{3 * ms}, []int{0}},
		{"only timer in high slot", []int64{1 << 50}, []int{0}},
		{"only overdue timer", []int64{-ms}, []int{0}},
		{"head of a shared slot", []int64{3 * ms, 3 * ms, 3 * ms}, []int{2}},
		{"middle of a shared slot", []int64{3 * ms, 3 * ms, 3 * ms}, []int{1}},
		{"tail of a shared slot", []int64{3 * ms, 3 * ms, 3 * ms}, []int{0}},
		{"all of a shared slot", []int64{3 * ms, 3 * ms, 3 * ms}, []int{1, 0, 2}},
		{"twice", []int64{3 * ms}, []int{0, 0}},
		{"everything everywhere", []int64{-ms, 0, 63 * ms, 64 * ms, 1 << 40, math.MaxInt64}, []int{0, 1, 2, 3, 4, 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, ms, 0, len(c.deadlines))
			for i, d := range c.deadlines {
				h.schedule(i, d)
			}
			for _, i := range c.cancel {
				h.cancel(i)
			}
			left := len(c.deadlines) - len(unique(c.cancel))
			assert.Equal(t, left, h.w.Len())
			_, ok := h.w.NextDue()
			assert.Equal(t, left > 0, ok)
			if left == 0 {
				assert.Equal(t, [levels]uint64{}, h.w.occ, "bitmaps must be clear")
			}
			h.advance(math.MaxInt64)
		})
	}
	t.Run("unscheduled timer is a no-op", func(t *testing.T) {
		w := New[int](time.Millisecond, 0)
		var tm Timer[int]
		w.Cancel(&tm)
		assert.Zero(t, w.Len())
		assert.False(t, tm.Scheduled())
	})
}

func unique(xs []int) map[int]bool {
	m := map[int]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func TestNextDue(t *testing.T) {
	for _, c := range []struct {
		name     string
		tick     int64
		start    int64
		deadline int64
		want     int64
		exact    bool
	}{
		{"level 0 is exact", ms, 0, 5*ms + 3, 6 * ms, true},
		{"level 0 on edge", ms, 0, 5 * ms, 6 * ms, true},
		{"same tick as now", ms, 0, 0, ms, true},
		{"overdue is now", ms, 10*ms + 7, 2 * ms, 10*ms + 7, true},
		{"higher level is a lower bound", ms, 0, 1000 * ms, 1001 * ms, false},
		{"MaxInt64 from far away is bounded", 1, 0, math.MaxInt64, math.MaxInt64, false},
		{"MaxInt64 at level 0 saturates", 1, math.MaxInt64 - 3, math.MaxInt64, math.MaxInt64, true},
		{"MaxInt64 with 1ms tick is bounded", ms, math.MaxInt64 - ms, math.MaxInt64, math.MaxInt64, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := New[int](time.Duration(c.tick), c.start)
			var tm Timer[int]
			w.Schedule(&tm, c.deadline)
			got, ok := w.NextDue()
			require.True(t, ok)
			if c.exact {
				assert.Equal(t, c.want, got)
			} else {
				assert.LessOrEqual(t, got, c.want)
				assert.Greater(t, got, c.start)
			}
			// Nothing fires just before NextDue.
			fired := 0
			w.Advance(got-1, func(*Timer[int]) { fired++ })
			assert.Zero(t, fired)
		})
	}
}

func TestAdvanceOrder(t *testing.T) {
	const n = 5000
	for _, c := range []struct {
		name string
		tick int64
		span int64
		past bool
	}{
		{"within level 0", 1, 64, false},
		{"across levels", 1, 1 << 30, false},
		{"overdue and future", ms, 1 << 40, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			h := newHarness(t, c.tick, 1<<20, n)
			for i := range n {
				d := (1 << 20) + r.Int64N(c.span)
				if c.past && i%2 == 0 {
					d = r.Int64N(1 << 20)
				}
				h.w.Schedule(&h.timers[i], d) // bulk: skip per-op checks
				h.dl[i], h.on[i] = d, true
			}
			h.advance(math.MaxInt64) // checks order and the fired set
			assert.Len(t, h.fired, n)
		})
	}
}

// TestAdvanceLongPauseIsCheap counts the slots Advance visits: a huge jump with
// few timers must cost per timer and level, not per tick.
func TestAdvanceLongPauseIsCheap(t *testing.T) {
	for _, c := range []struct {
		name  string
		tick  int64
		gap   int64
		count int
	}{
		{"one hour at 1ms, no timers", ms, 3600 * 1000 * ms, 0},
		{"one hour at 1ms, 10 timers", ms, 3600 * 1000 * ms, 10},
		{"whole range at 1ns, 20 timers", 1, math.MaxInt64, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			h := newHarness(t, c.tick, 0, c.count)
			for i := range c.count {
				h.schedule(i, r.Int64N(c.gap))
			}
			h.advance(c.gap)
			assert.Len(t, h.fired, c.count)
			assert.Less(t, h.w.steps, uint64(1000))
			assert.LessOrEqual(t, h.w.steps, uint64(c.count*levels))
		})
	}
}

func TestZeroAllocs(t *testing.T) {
	w := New[int](time.Millisecond, 0)
	timers := make([]Timer[int], 256)
	fired := 0
	fire := func(*Timer[int]) { fired++ }
	now := int64(0)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range timers {
			w.Schedule(&timers[i], now+int64(i)*int64(i)*ms)
		}
		w.Schedule(&timers[0], now-ms) // overdue, sorted on Advance
		w.Schedule(&timers[1], now-2*ms)
		for i := 0; i < len(timers); i += 3 {
			w.Cancel(&timers[i])
		}
		now += 1000 * ms
		w.Advance(now, fire)
		_, _ = w.NextDue()
	})
	assert.Zero(t, allocs)
	assert.Positive(t, fired)
}

// TestDifferential runs random operations against the reference, with gaps
// and deadlines spanning every level, and compares after every operation.
func TestDifferential(t *testing.T) {
	for _, c := range []struct {
		name   string
		tick   int64
		start  int64
		timers int
		ops    int
	}{
		{"tick=1ns", 1, 0, 64, 20000},
		{"tick=3ns/odd start", 3, 1000003, 64, 20000},
		{"tick=1ms", ms, 0, 64, 20000},
		{"tick=1ms/negative start", ms, -5 * ms, 16, 20000},
		{"tick=1ms/many timers", ms, 42, 2048, 20000},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(c.tick), uint64(c.timers)))
			h := newHarness(t, c.tick, c.start, c.timers)
			special := specialTimes(c.tick)
			for range c.ops {
				i := r.IntN(c.timers)
				switch op := r.IntN(10); {
				case op < 5:
					var d int64
					if r.IntN(20) == 0 {
						d = special[r.IntN(len(special))]
					} else {
						k := uint(r.IntN(16))
						if r.IntN(4) == 0 {
							k = uint(r.IntN(65))
						}
						d = addSat(h.now, offset(k, r.Uint64(), r.IntN(8) == 0))
					}
					h.schedule(i, d)
				case op < 7:
					h.cancel(i)
				default:
					k := uint(r.IntN(12))
					if r.IntN(8) == 0 {
						k = uint(r.IntN(65))
					}
					h.advance(addSat(h.now, offset(k, r.Uint64(), r.IntN(16) == 0)))
				}
			}
			h.advance(math.MaxInt64)
		})
	}
}

// Tick reports the wheel's tick length, the granularity of its clock.
func (w *Wheel[T]) Tick() time.Duration { return time.Duration(w.tick) }
