package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverValues(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 129, 1000, 1 << 20, 1<<40 + 12345, 1<<63 + 1} {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0,%d)", v, i, histBuckets)
		}
		mid := bucketMid(i)
		diff := float64(mid) - float64(v)
		if diff < 0 {
			diff = -diff
		}
		if diff > float64(v)/subBuckets+1 {
			t.Errorf("v=%d: bucket %d middle %d is %.0f away", v, i, mid, diff)
		}
	}
	for v := uint64(1); v < 1<<20; v = v*3/2 + 1 {
		if bucketOf(v) < bucketOf(v-1) {
			t.Fatalf("bucketOf not monotonic at %d", v)
		}
	}
}

func TestQuantileMatchesSorted(t *testing.T) {
	var h hist
	r := rand.New(rand.NewPCG(1, 2))
	var vals []time.Duration
	for range 100000 {
		d := time.Duration(r.ExpFloat64() * 50e3)
		vals = append(vals, d)
		h.record(d)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(q*float64(len(vals)))-1]
		got := h.quantile(q)
		if rel := float64(got-want) / float64(want); rel > 0.02 || rel < -0.02 {
			t.Errorf("q=%v: got %v, sorted sample says %v", q, got, want)
		}
	}
}
