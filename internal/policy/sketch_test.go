package policy

import (
	"fmt"
	"testing"

	"github.com/shardcache/shardcache/internal/mix"
)

func TestSketchCounts(t *testing.T) {
	var s sketch
	s.resize(1000)
	if s.words() != 1024 {
		t.Fatalf("%d words for 1000 entries, want 1024", s.words())
	}
	for i := range 5 {
		s.increment(mix.Uint64(42))
		if got := s.estimate(mix.Uint64(42)); got != i+1 {
			t.Fatalf("estimate after %d increments = %d", i+1, got)
		}
	}
	for range 100 {
		s.increment(mix.Uint64(7))
	}
	if got := s.estimate(mix.Uint64(7)); got != 15 {
		t.Fatalf("estimate of a saturated key = %d, want 15", got)
	}
	// Most keys never seen estimate 0 in a lightly loaded sketch.
	zero := 0
	for k := range uint64(1000) {
		if s.estimate(mix.Uint64(1e6+k)) == 0 {
			zero++
		}
	}
	if zero < 990 {
		t.Fatalf("only %d of 1000 unseen keys estimate 0", zero)
	}
}

// TestSketchAges: every counter is halved, and the period-th increment
// triggers it.
func TestSketchAges(t *testing.T) {
	var s sketch
	s.resize(1024)
	for range 12 {
		s.increment(mix.Uint64(1))
	}
	before := s.estimate(mix.Uint64(1))
	s.age()
	if got := s.estimate(mix.Uint64(1)); got != before/2 {
		t.Fatalf("estimate after aging = %d, want %d", got, before/2)
	}
	s.additions = s.period - 1
	s.increment(mix.Uint64(2))
	if s.additions >= s.period-1 {
		t.Fatalf("no aging at the end of the period: additions %d of %d", s.additions, s.period)
	}
}

// TestSketchShardBits: keys of one shard share their low hash bits; the
// sketch must still tell them apart.
func TestSketchShardBits(t *testing.T) {
	var s sketch
	s.resize(256)
	for k := range uint64(256) {
		s.increment(k << 10) // equal low 10 bits
	}
	over := 0
	for k := range uint64(256) {
		if s.estimate(k<<10) > 1 {
			over++
		}
	}
	if over > 16 {
		t.Fatalf("%d of 256 keys overestimated", over)
	}
}

func BenchmarkTouch(b *testing.B) {
	for _, sp := range simPolicies {
		b.Run(fmt.Sprintf("policy=%s", sp.name), func(b *testing.B) {
			const c = 4096
			h := newHarness(sp.new(c), c)
			for k := range uint64(2 * c) {
				h.access(k % (c + c/2))
			}
			var held []*Node[uint64]
			for _, n := range h.nodes {
				held = append(held, n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				h.p.Touch(held[i&(c-1)])
			}
		})
	}
}

// TestSketchRebuild: a sketch sized for a large capacity starts at the
// minimum, grows to a word per entry held but never past its limit, and a
// rebuild counts each held key once and nothing else.
func TestSketchRebuild(t *testing.T) {
	var s sketch
	s.size(1 << 40)
	if s.words() != minSketchWords {
		t.Fatalf("a new sketch for 2^40 entries has %d words, want %d", s.words(), minSketchWords)
	}
	for range 9 {
		s.increment(mix.Uint64(1 << 50)) // not held: forgotten by the rebuild
	}
	held := make([]uint64, 3000)
	for i := range held {
		held[i] = mix.Uint64(uint64(i))
	}
	if !s.wants(len(held)) {
		t.Fatal("a 16-word sketch does not want to grow for 3000 entries")
	}
	s.rebuild(len(held), func(yield func(uint64)) {
		for _, h := range held {
			yield(h)
		}
	})
	if s.words() != 4096 {
		t.Fatalf("%d words after rebuild(%d), want 4096", s.words(), len(held))
	}
	if s.wants(len(held)) {
		t.Fatal("the rebuilt sketch still wants to grow")
	}
	for i, h := range held {
		if got := s.estimate(h); got < 1 {
			t.Fatalf("held key %d estimates %d after the rebuild, want at least 1", i, got)
		}
	}
	if got := s.estimate(mix.Uint64(1 << 50)); got > 1 {
		t.Fatalf("a key counted 9 times before the rebuild, not held, estimates %d", got)
	}
	var small sketch
	small.size(100)
	small.rebuild(1<<20, func(func(uint64)) {})
	if small.words() != 128 {
		t.Fatalf("a sketch for 100 entries grew to %d words, want its limit 128", small.words())
	}
}
