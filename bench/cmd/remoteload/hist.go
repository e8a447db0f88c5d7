package main

import (
	"math/bits"
	"time"
)

// hist is a log-bucketed latency histogram in nanoseconds: exact below
// 2*subBuckets ns, then subBuckets buckets per power of two, so any
// recorded value is known to within 1/subBuckets (1.6%). Recording is a
// few instructions and never allocates; one hist belongs to one goroutine,
// and merge combines them afterwards.
type hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    uint64
}

const (
	subBits     = 6
	subBuckets  = 1 << subBits
	histBuckets = 2*subBuckets + 58*subBuckets // up to 2^64 ns
)

// bucketOf returns the bucket index of v.
func bucketOf(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // v>>shift is in [subBuckets, 2*subBuckets)
	return 2*subBuckets + (shift-1)*subBuckets + int(v>>shift) - subBuckets
}

// bucketMid returns the middle of bucket i's range of values.
func bucketMid(i int) uint64 {
	if i < 2*subBuckets {
		return uint64(i)
	}
	i -= 2 * subBuckets
	shift := i/subBuckets + 1
	lo := uint64(i%subBuckets+subBuckets) << shift
	return lo + (uint64(1)<<shift)/2
}

func (h *hist) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the value at quantile q (0 < q <= 1): the middle of the
// bucket holding the ceil(q*n)-th smallest sample, capped at the largest.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketMid(i), h.max))
		}
	}
	return time.Duration(h.max)
}
