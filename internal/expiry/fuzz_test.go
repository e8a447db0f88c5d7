package expiry

import (
	"math"
	"testing"
)

// fuzzTicks are the tick lengths a fuzz input can pick, 0 meaning the default.
var fuzzTicks = []int64{1, 2, 3, 7, 64, 1000, ms, 1 << 20, 0}

// maxFuzzInput bounds the bytes FuzzWheel reads. Go minimizes every new
// interesting input with a pass quadratic in its length, so long inputs would
// eat the fuzzing time; the compact encoding still fits dozens of operations.
const maxFuzzInput = 256

// fuzzReader hands out fuzz input, then zeros once it runs dry.
type fuzzReader []byte

func (r *fuzzReader) byte() byte {
	if len(*r) == 0 {
		return 0
	}
	b := (*r)[0]
	*r = (*r)[1:]
	return b
}

// offset reads a magnitude class k (0..64) and then only the (k+7)/8 bytes
// that class needs, so small offsets are cheap and every level is reachable.
func (r *fuzzReader) offset(neg bool) int64 {
	k := uint(r.byte()) % 65
	var raw uint64
	for n := uint(0); n < (k+7)/8; n++ {
		raw |= uint64(r.byte()) << (8 * n)
	}
	return offset(k, raw, neg)
}

// FuzzWheel decodes a tick, a start time and a list of operations from the
// input and checks the wheel against the reference after each one (see
// harness). An operation byte holds the kind (bits 0-1), the timer (bits 2-4)
// and a sign (bit 7) for the offset that follows it; the first byte picks the
// tick and, in bit 7, the sign of the start time.
func FuzzWheel(f *testing.F) {
	const (
		sched   = 0
		cancel  = 1
		advance = 2
		special = 3
		neg     = 0x80
	)
	op := func(kind, timer byte) byte { return kind | timer<<2 }
	f.Add([]byte{0, 0, op(sched, 1), 5, 3, op(advance, 0), 3, 7})
	f.Add([]byte{6, 0, // tick 1ms, start 0
		op(sched, 1), 64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // far ahead
		op(sched, 2), 10, 0xff, 0x03,
		op(advance, 0), 33, 0xff, 0xff, 0xff, 0x7f, 0x01,
		op(cancel, 1),
		op(special, 2), 3,
		op(advance, 0), 64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 16, 1, 2, // tick 1ns, start 0x201
		op(special, 0), 3, op(special, 1), 4, op(special, 3), 6, // around MaxInt64
		op(sched, 4) | neg, 20, 1, 2, 3, // in the past
		op(advance, 0), 64, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		op(advance, 0) | neg, 8, 0xff, // backwards
		op(advance, 0), 64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 40, 1, 2, 3, 4, 5, // tick 2ns, start ~2^40
		op(sched, 0), 7, 0x3f, op(sched, 1), 7, 0x40, op(sched, 2), 13, 0x00, 0x10,
		op(sched, 3), 19, 0x00, 0x00, 0x04, op(sched, 0), 6, 0x01, // reschedule
		op(advance, 0), 7, 0x41, op(advance, 0), 13, 0x01, 0x10, op(advance, 0), 25, 0, 0, 0, 1})
	f.Add([]byte{6 | neg, 30, 0x40, 0x42, 0x0f, 0x03, // tick 1ms, start ~ -25.6ms
		op(sched, 0) | neg, 24, 0x01, 0x01, 0x01, op(sched, 1), 21, 0x20, 0xa1, 0x07,
		op(special, 2), 1, // -1
		op(advance, 0), 22, 0x40, 0x42, 0x0f, op(advance, 0), 24, 0x80, 0x84, 0x1e,
		op(advance, 0), 30, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		const timers = 8
		r := fuzzReader(data[:min(len(data), maxFuzzInput)])
		b := r.byte() // tick, and the start's sign in bit 7
		tick := fuzzTicks[int(b&0x7f)%len(fuzzTicks)]
		start := r.offset(b&neg != 0)
		h := newHarness(t, tick, start, timers)
		specials := specialTimes(h.tick)
		for len(r) > 0 {
			op := r.byte()
			i := int(op>>2) % timers
			switch op & 3 {
			case sched: // relative to the reference clock
				h.schedule(i, addSat(h.now, r.offset(op&neg != 0)))
			case cancel:
				h.cancel(i)
			case advance: // backwards when negative
				h.advance(addSat(h.now, r.offset(op&neg != 0)))
			case special:
				h.schedule(i, specials[int(r.byte())%len(specials)])
			}
		}
		h.advance(math.MaxInt64)
	})
}
