package strval

import (
	"bytes"
	"math"
	"strconv"
	"testing"
)

// FuzzParseInt checks that ParseInt never panics and accepts exactly the
// canonical decimal forms of int64: what strconv parses and formats back to
// the same bytes.
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "1", "-1", "007", "+5", " 1", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551616"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := ParseInt(b)
		want, err := strconv.ParseInt(string(b), 10, 64)
		canonical := err == nil && strconv.FormatInt(want, 10) == string(b)
		if ok != canonical || (ok && got != want) {
			t.Fatalf("ParseInt(%q) = %d, %v; strconv says %d, %v (canonical %v)", b, got, ok, want, err, canonical)
		}
	})
}

// FuzzIncrByFloat checks that IncrByFloat never panics, that what it
// returns is in ld2string's human form and reads back with ParseFloat, and
// that for ordinary magnitudes it is the float64 sum within the difference
// between the two precisions.
func FuzzIncrByFloat(f *testing.F) {
	for _, p := range [][2]string{{"10.1", "0.2"}, {"5.0e3", "0"}, {"-0", "-0"}, {"1e-20", "0"},
		{"0x1p-16445", "0"}, {"1e4932", "1e4932"}, {"inf", "1"}, {"nan", "1"}, {"1e", "1"}, {"0x1.8p1", ".5"},
		{"123456789012345678901234567890", "-123456789012345678901234567891"}} {
		f.Add([]byte(p[0]), []byte(p[1]))
	}
	f.Fuzz(func(t *testing.T, cur, incr []byte) {
		got, err := IncrByFloat(cur, true, incr)
		if err != nil {
			if err != ErrNotFloat && err != ErrNaNOrInfinity {
				t.Fatalf("IncrByFloat(%q, %q): unexpected error %v", cur, incr, err)
			}
			return
		}
		if string(got) == "-0" || (bytes.IndexByte(got, '.') >= 0 && (got[len(got)-1] == '0' || got[len(got)-1] == '.')) {
			t.Fatalf("IncrByFloat(%q, %q) = %q: not in human form", cur, incr, got)
		}
		back, ok := ParseFloat(got)
		if !ok {
			t.Fatalf("IncrByFloat(%q, %q) = %q, which ParseFloat refuses", cur, incr, got)
		}
		a, errA := strconv.ParseFloat(string(cur), 64)
		b, errB := strconv.ParseFloat(string(incr), 64)
		sum := a + b
		if errA != nil || errB != nil || math.IsInf(sum, 0) || math.IsNaN(sum) ||
			math.Abs(a) > 1e15 || math.Abs(b) > 1e15 || math.Abs(a) < 1e-3 || math.Abs(b) < 1e-3 {
			return
		}
		ours, _ := back.Float64()
		// float64 rounds each operand and the sum at 53 bits, long double at
		// 64; the output keeps 17 fractional digits.
		if tol := 4*math.Max(math.Abs(a), math.Abs(b))*0x1p-52 + 1e-17; math.Abs(ours-sum) > tol {
			t.Fatalf("IncrByFloat(%q, %q) = %q; float64 says %v", cur, incr, got, sum)
		}
	})
}
