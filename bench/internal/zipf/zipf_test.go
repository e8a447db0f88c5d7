package zipf

import (
	"errors"
	"math"
	"math/rand"
	"testing"
)

func TestNewRejectsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		s    float64
	}{
		{"n=0", 0, 1},
		{"n=-1", -1, 1},
		{"s=0", 10, 0},
		{"s=-0.5", 10, -0.5},
		{"s=NaN", 10, math.NaN()},
		{"s=Inf", 10, math.Inf(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.n, tc.s, 1); !errors.Is(err, ErrInvalid) {
				t.Fatalf("New(%d, %v) error = %v, want ErrInvalid", tc.n, tc.s, err)
			}
		})
	}
}

// TestTableClosedForm checks the table against probabilities worked out by hand.
func TestTableClosedForm(t *testing.T) {
	tab, err := NewTable(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	h := 1 + 1.0/2 + 1.0/3
	for r, want := range []float64{1 / h, 0.5 / h, (1.0 / 3) / h} {
		if got := tab.Prob(r); math.Abs(got-want) > 1e-12 {
			t.Errorf("Prob(%d) = %v, want %v", r, got, want)
		}
	}
	// The inverse CDF puts each boundary in the rank above it.
	if got := tab.Rank(0); got != 0 {
		t.Errorf("Rank(0) = %d, want 0", got)
	}
	if got := tab.Rank(1 / h); got != 1 {
		t.Errorf("Rank(1/h) = %d, want 1", got)
	}
	if got := tab.Rank(math.Nextafter(1, 0)); got != 2 {
		t.Errorf("Rank(1-ulp) = %d, want 2", got)
	}
}

// TestFrequencies draws from several skews, including s < 1 which math/rand
// cannot do, and checks the head ranks against the exact law within 5 sigma.
func TestFrequencies(t *testing.T) {
	const n, draws = 1 << 16, 300_000
	for _, s := range []float64{0.6, 0.8, 0.99, 1.1, 1.5} {
		g, err := New(n, s, 42)
		if err != nil {
			t.Fatal(err)
		}
		counts := make([]int, 8)
		for range draws {
			r := g.Next()
			if r >= n {
				t.Fatalf("s=%v: rank %d out of range", s, r)
			}
			if r < uint64(len(counts)) {
				counts[r]++
			}
		}
		// Theory from the closed form, independent of the table.
		h := 0.0
		for k := 1; k <= n; k++ {
			h += math.Pow(float64(k), -s)
		}
		for r, c := range counts {
			p := math.Pow(float64(r+1), -s) / h
			sigma := math.Sqrt(p * (1 - p) / draws)
			if got := float64(c) / draws; math.Abs(got-p) > 5*sigma {
				t.Errorf("s=%v rank %d: frequency %.5f, want %.5f ± %.5f", s, r+1, got, p, 5*sigma)
			}
		}
	}
}

// TestAgreesWithMathRand compares against the standard library's sampler
// where both are defined (s > 1; math/rand's v=1 gives the same law).
func TestAgreesWithMathRand(t *testing.T) {
	const n, draws, s = 1 << 12, 200_000, 1.1
	ours, err := New(n, s, 7)
	if err != nil {
		t.Fatal(err)
	}
	ref := rand.NewZipf(rand.New(rand.NewSource(7)), s, 1, n-1)
	var a, b [4]int
	for range draws {
		if r := ours.Next(); r < 4 {
			a[r]++
		}
		if r := ref.Uint64(); r < 4 {
			b[r]++
		}
	}
	for r := range a {
		p := float64(b[r]) / draws
		sigma := math.Sqrt(2 * p * (1 - p) / draws)
		if d := math.Abs(float64(a[r]-b[r])) / draws; d > 5*sigma {
			t.Errorf("rank %d: ours %d vs math/rand %d draws", r+1, a[r], b[r])
		}
	}
}

func TestDeterministic(t *testing.T) {
	tab, err := NewTable(1000, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	g1, g2 := tab.Generator(3), tab.Generator(3)
	for i := range 1000 {
		if a, b := g1.Next(), g2.Next(); a != b {
			t.Fatalf("draw %d: %d != %d with the same seed", i, a, b)
		}
	}
}
