package strval

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestParseInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"-1", -1, true},
		{"123", 123, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"-0", 0, false},
		{"00", 0, false},
		{"01", 0, false},
		{"+1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"1a", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
		{"-00000000000000000001", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := ParseInt([]byte(tc.in))
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestIncrBy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cur   string
		found bool
		delta int64
		want  string
		err   error
	}{
		{"missing", "", false, 5, "5", nil},
		{"add", "10", true, -3, "7", nil},
		{"max", "9223372036854775806", true, 1, "9223372036854775807", nil},
		{"over max", "9223372036854775807", true, 1, "", ErrOverflow},
		{"min", "-9223372036854775807", true, -1, "-9223372036854775808", nil},
		{"under min", "-9223372036854775808", true, -1, "", ErrOverflow},
		{"not integer", "1.5", true, 1, "", ErrNotInteger},
		{"spaces", " 1", true, 1, "", ErrNotInteger},
		{"empty", "", true, 1, "", ErrNotInteger},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := IncrBy([]byte(tc.cur), tc.found, tc.delta)
			if !errors.Is(err, tc.err) || string(got) != tc.want {
				t.Fatalf("IncrBy = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
			if err == nil && strconv.FormatInt(n, 10) != tc.want {
				t.Fatalf("IncrBy number %d, bytes %q", n, got)
			}
		})
	}
	if _, _, err := DecrBy([]byte("x"), true, math.MinInt64); err != ErrDecrementOverflow {
		t.Errorf("DecrBy(MinInt64) = %v; want ErrDecrementOverflow", err)
	}
}

// randIntString mixes valid integers, boundary values and near misses.
func randIntString(r *rand.Rand) string {
	edges := []string{"0", "-0", "00", "+1", "-", "", " 1", "1 ", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"18446744073709551615", "18446744073709551616", "99999999999999999999",
		"-99999999999999999999", "123456789012345678901", "1\x00", "0x10", "1e3"}
	switch r.IntN(4) {
	case 0:
		return edges[r.IntN(len(edges))]
	case 1:
		return strconv.FormatInt(int64(r.Uint64()), 10)
	case 2:
		return strconv.FormatInt(r.Int64N(2000)-1000, 10)
	}
	const alphabet = "0123456789-+ "
	b := make([]byte, r.IntN(23))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func TestParseIntDifferential(t *testing.T) {
	rc := startRedis(t)
	r := rand.New(rand.NewPCG(1, 2))
	var cmds [][]any
	var vals []string
	var deltas []int64
	for range 1000 {
		v := randIntString(r)
		d := int64(r.Uint64())
		if r.IntN(2) == 0 {
			d = r.Int64N(21) - 10
		}
		vals, deltas = append(vals, v), append(deltas, d)
		cmds = append(cmds, []any{"SET", "k", v}, []any{"INCRBY", "k", d}, []any{"SET", "k", v}, []any{"DECRBY", "k", d})
	}
	// The key missing, and DECRBY's own overflow.
	cmds = append(cmds, []any{"DEL", "k"}, []any{"INCRBY", "k", int64(7)},
		[]any{"DEL", "k"}, []any{"DECRBY", "k", int64(math.MinInt64)})
	replies := rc.pipeline(cmds)
	for i, v := range vals {
		got, _, err := IncrBy([]byte(v), true, deltas[i])
		want := replies[4*i+1].String()
		if s := intReply(got, err); s != want {
			t.Errorf("SET k %q; INCRBY k %d: redis %s, ours %s", v, deltas[i], want, s)
		}
		got, _, err = DecrBy([]byte(v), true, deltas[i])
		want = replies[4*i+3].String()
		if s := intReply(got, err); s != want {
			t.Errorf("SET k %q; DECRBY k %d: redis %s, ours %s", v, deltas[i], want, s)
		}
	}
	n := 4 * len(vals)
	got, _, err := IncrBy(nil, false, 7)
	if s := intReply(got, err); s != replies[n+1].String() {
		t.Errorf("INCRBY on a missing key: redis %s, ours %s", replies[n+1], s)
	}
	got, _, err = DecrBy(nil, false, math.MinInt64)
	if s := intReply(got, err); s != replies[n+3].String() {
		t.Errorf("DECRBY -2^63: redis %s, ours %s", replies[n+3], s)
	}
	t.Logf("%d INCRBY and %d DECRBY cases agree with redis-server", len(vals)+1, len(vals)+1)
}

func intReply(v []byte, err error) string {
	if err != nil {
		return errReply(err)
	}
	n, _ := strconv.ParseInt(string(v), 10, 64)
	return integer(n)
}
