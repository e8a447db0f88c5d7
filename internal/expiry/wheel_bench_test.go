package expiry

import (
	"fmt"
	"testing"
	"time"
)

// farAhead keeps benchmark timers from expiring or cascading: 2^40 ticks of
// 1ms is about 35 years, far more ticks than any b.N advances.
const farAhead = int64(1) << 40 * ms

// BenchmarkSchedule moves timers between deadlines spread over all levels.
func BenchmarkSchedule(b *testing.B) {
	const n = 1 << 12
	w := New[int](time.Millisecond, 0)
	timers := make([]Timer[int], n)
	deadlines := make([]int64, n)
	for i := range deadlines {
		deadlines[i] = int64(i*i*i) * ms
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w.Schedule(&timers[i%n], deadlines[(i*7)%n])
	}
}

// BenchmarkCancel cancels timers spread over all levels. Every n ops the
// timers are scheduled again with the timer stopped, so that cost is untimed
// while the Stop/Start overhead stays amortized.
func BenchmarkCancel(b *testing.B) {
	const n = 1 << 12
	w := New[int](time.Millisecond, 0)
	timers := make([]Timer[int], n)
	schedule := func() {
		for i := range timers {
			w.Schedule(&timers[i], int64(i*i*i)*ms)
		}
	}
	schedule()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%n == 0 && i > 0 {
			b.StopTimer()
			schedule()
			b.StartTimer()
		}
		w.Cancel(&timers[i%n])
	}
}

// BenchmarkAdvance advances by one tick per op with N live timers that never
// come due: the cost must not depend on N.
func BenchmarkAdvance(b *testing.B) {
	for _, n := range []int{1e4, 1e5, 1e6} {
		b.Run(fmt.Sprintf("timers=%d", n), func(b *testing.B) {
			w := New[int](time.Millisecond, 0)
			timers := make([]Timer[int], n)
			for i := range timers {
				w.Schedule(&timers[i], farAhead+int64(i)*ms)
			}
			fired := 0
			fire := func(*Timer[int]) { fired++ }
			now := int64(0)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				now += ms
				w.Advance(now, fire)
			}
			b.StopTimer()
			if fired != 0 || w.Len() != n {
				b.Fatalf("fired %d, len %d", fired, w.Len())
			}
		})
	}
}
