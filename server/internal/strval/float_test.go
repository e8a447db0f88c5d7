package strval

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestParseFloat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // FormatFloat of the value, "" when refused
	}{
		{"10.1", "10.1"}, // 10.0999999999999999996530… at 17 digits
		{"5.0e3", "5000"},
		{"-0", "0"},
		{"+.5", "0.5"},
		{"5.", "5"},
		{"1e-20", "0"},
		{"0x1p3", "8"},
		{"0X1.8P1", "3"},
		{"0x.8", "0.5"},
		{"inf", "inf"},
		{"-Infinity", "-inf"},
		{"0x1p-16445", "0"}, // the smallest subnormal: accepted
		{"0e999999999999", "0"},
		{"1e19", "1" + strings.Repeat("0", 19)},
		{"1.2e4932", ""}, // overflow
		{"0x1p16384", ""},
		{"1e-5000", ""},    // rounds to zero
		{"0x1p-16446", ""}, // half the smallest subnormal: ties to even, zero
		{"nan", ""},
		{"-nan", ""},
		{"", ""},
		{" 1", ""},
		{"1 ", ""},
		{"1e", ""},
		{"1e+", ""},
		{".", ""},
		{"e5", ""},
		{"0x", ""},
		{"0x.", ""},
		{"0x1p", ""},
		{"infinit", ""},
		{"1\x00", ""},
		{"\x00", ""},
		{"++1", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			f, ok := ParseFloat([]byte(tc.in))
			got := ""
			if ok {
				got = string(FormatFloat(f))
			}
			if got != tc.want {
				t.Errorf("ParseFloat(%q) formats as %q; want %q", tc.in, got, tc.want)
			}
		})
	}
	// 1e4932 is near the top of the range; the nearest long double is
	// written out in all its 4933 digits.
	if f, ok := ParseFloat([]byte("1e4932")); !ok {
		t.Error("ParseFloat refuses 1e4932")
	} else if s := string(FormatFloat(f)); len(s) != 4933 || !strings.HasPrefix(s, "1000000000000000000006018949387963891323") {
		t.Errorf("ParseFloat(1e4932) formats as %.40s… (%d bytes)", s, len(s))
	}
	long := strings.Repeat("0", maxFloatLen-1) + "1"
	if _, ok := ParseFloat([]byte(long)); !ok {
		t.Errorf("ParseFloat refuses %d bytes", len(long))
	}
	if _, ok := ParseFloat([]byte("0" + long)); ok {
		t.Errorf("ParseFloat accepts %d bytes", len(long)+1)
	}
}

func TestIncrByFloat(t *testing.T) {
	for _, tc := range []struct {
		cur   string
		found bool
		incr  string
		want  string
		err   error
	}{
		{"10.1", true, "0.2", "10.3", nil},
		{"", false, "3.0000000000000004", "3.0000000000000004", nil},
		{"5.0e3", true, "0", "5000", nil},
		{"0.000003814697265625", true, "0", "0.00000381469726562", nil}, // 2^-18: a tie, to even
		{"-0", true, "-0", "0", nil},
		{"1", true, "-1e-20", "1", nil}, // 0.99999999999999999999 at 17 digits
		{"1e-20", true, "0", "0", nil},
		{"0x1.fffffffffffffffep16383", true, "0x1p16319", "", ErrNaNOrInfinity},
		{"inf", true, "1", "", ErrNaNOrInfinity},
		{"1", true, "-inf", "", ErrNaNOrInfinity},
		{"inf", true, "-inf", "", ErrNaNOrInfinity},
		{"abc", true, "1", "", ErrNotFloat},
		{"1", true, "abc", "", ErrNotFloat},
		{"abc", true, "inf", "", ErrNotFloat},
	} {
		t.Run(tc.cur+"+"+tc.incr, func(t *testing.T) {
			got, err := IncrByFloat([]byte(tc.cur), tc.found, []byte(tc.incr))
			if !errors.Is(err, tc.err) || string(got) != tc.want {
				t.Errorf("IncrByFloat(%q, %q) = %q, %v; want %q, %v", tc.cur, tc.incr, got, err, tc.want, tc.err)
			}
		})
	}
}

// floatEdges are strings at the edges of string2ld and ld2string.
var floatEdges = []string{
	"10.1", "0.2", "5.0e3", "3.0000000000000004", "-0", "0", "-0.0", "1e-20", "-1e-20",
	"1e300", "-1e300", "1.7976931348623157e308", "1e4932", "1.18973149535723176502e4932",
	"1.18973149535723176508e4932", "1.2e4932", "-1.2e4932", "1e-4950", "3.6e-4951", "1.9e-4951",
	"1.8e-4951", "1e-4952", "0x1p16383", "0x1.fffffffffffffffep16383", "0x1.ffffffffffffffffp16383",
	"0x1p16384", "0x1p-16445", "0x1.8p-16446", "0x1p-16446", "0x1p-16382", "0x0.fffffffffffffffep-16382",
	"0x1.00000000000000008p0", "0x1.00000000000000018p0", "inf", "-inf", "Infinity", "INF", "nan",
	"NaN", "-nan", " 1", "1 ", "\t1", "1e", "1e+", "1e-", ".5", "5.", ".", "+.5e-3", "-.5E+3", "0x",
	"0x.", "0x.8", "0X1P-2", "0x1p", "0x1.8", "0xg", "1_000", "1,5", "++1", "+-1", "infinit",
	"infinityy", "", "1\x00", "\x00", "0.000003814697265625", "1.000003814697265625",
	"0.000000000000000005", "0.000000000000000015", "0.000000000000000025", "123456789012345678901234567890",
	"9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551617",
	"0.1", "0.3", "-0.1", "1e-17", "5e-18", "1.5e-17", "2.5e-17", "1e19", "1e20", "1e21",
}

// randFloatString draws edges, plain decimals, and numbers with many digits.
func randFloatString(r *rand.Rand) string {
	switch r.IntN(5) {
	case 0:
		return floatEdges[r.IntN(len(floatEdges))]
	case 1:
		return strconv.FormatFloat((r.Float64()-0.5)*1000, 'f', r.IntN(6), 64)
	case 2:
		return strconv.FormatFloat(r.NormFloat64()*1e10, 'g', -1, 64)
	case 3:
		// Many digits, so that the long double rounding shows.
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(byte('1' + r.IntN(9)))
		for range r.IntN(30) {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		b.WriteByte('.')
		for range r.IntN(25) {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(3) == 0 {
			b.WriteString("e" + strconv.Itoa(r.IntN(80)-40))
		}
		return b.String()
	}
	// Hex floats and exponents near the ends of the range.
	if r.IntN(2) == 0 {
		return "0x" + strconv.FormatUint(r.Uint64(), 16) + "p" + strconv.Itoa(r.IntN(32900)-16450-64)
	}
	return strconv.Itoa(r.IntN(10)) + "." + strconv.Itoa(r.IntN(1000)) + "e" + strconv.Itoa(r.IntN(9900)-4950)
}

func TestIncrByFloatDifferential(t *testing.T) {
	rc := startRedis(t)
	r := rand.New(rand.NewPCG(3, 4))
	type pair struct {
		cur, incr string
		found     bool
	}
	var pairs []pair
	for _, a := range floatEdges {
		pairs = append(pairs, pair{"", a, false}, pair{a, "0", true}, pair{"1", a, true})
	}
	for range 3000 {
		a, b := randFloatString(r), randFloatString(r)
		if r.IntN(4) == 0 && a != "" && a[0] != '-' {
			// Near cancellation exposes how both sides were rounded.
			b = "-" + a
			if len(a) > 3 {
				b = b[:len(b)-1] + strconv.Itoa(r.IntN(10))
			}
		}
		pairs = append(pairs, pair{a, b, true})
	}
	long := strings.Repeat("0", maxFloatLen-1) + "1"
	pairs = append(pairs, pair{long, "1", true}, pair{"0" + long, "1", true})

	var cmds [][]any
	for _, p := range pairs {
		if p.found {
			cmds = append(cmds, []any{"SET", "k", p.cur})
		} else {
			cmds = append(cmds, []any{"DEL", "k"})
		}
		cmds = append(cmds, []any{"INCRBYFLOAT", "k", p.incr})
	}
	replies := rc.pipeline(cmds)
	bad, errs := 0, 0
	for i, p := range pairs {
		got, err := IncrByFloat([]byte(p.cur), p.found, []byte(p.incr))
		s := bulk(got)
		if err != nil {
			s = errReply(err)
			errs++
		}
		if want := replies[2*i+1].String(); s != want {
			if bad++; bad <= 30 {
				t.Errorf("cur %q (found %v) INCRBYFLOAT %q:\nredis %.200s\nours  %.200s", p.cur, p.found, p.incr, want, s)
			}
		}
	}
	t.Logf("%d INCRBYFLOAT cases (%d of them errors) compared with redis-server, %d differ", len(pairs), errs, bad)
}
