package strval

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestGetRange(t *testing.T) {
	for _, tc := range []struct {
		v          string
		start, end int64
		want       string
	}{
		{"Hello World", 0, 4, "Hello"},
		{"Hello World", -5, -1, "World"},
		{"Hello World", 6, 100, "World"},
		{"Hello World", -100, 2, "Hel"},
		{"Hello World", 5, 2, ""},
		{"Hello World", -1, -5, ""}, // both negative, start > end
		{"Hello World", -100, -50, "H"},
		{"Hello World", 11, 20, ""},
		{"Hello World", math.MinInt64, math.MaxInt64, "Hello World"},
		{"", 0, -1, ""},
		{"", 0, 0, ""},
	} {
		t.Run(tc.v+"/"+strconv.FormatInt(tc.start, 10)+"/"+strconv.FormatInt(tc.end, 10), func(t *testing.T) {
			if got := GetRange([]byte(tc.v), tc.start, tc.end); string(got) != tc.want {
				t.Errorf("GetRange = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestSetRange(t *testing.T) {
	for _, tc := range []struct {
		name    string
		v       []byte
		offset  int64
		val     string
		maxLen  int64
		want    string
		changed bool
		err     error
	}{
		{"overwrite", []byte("Hello World"), 6, "Redis", 0, "Hello Redis", true, nil},
		{"pad", nil, 3, "ab", 0, "\x00\x00\x00ab", true, nil},
		{"extend", []byte("abc"), 2, "xyz", 0, "abxyz", true, nil},
		{"empty val on missing", nil, 100, "", 0, "", false, nil},
		{"empty val ignores size", []byte("abc"), math.MaxInt64, "", 0, "abc", false, nil},
		{"negative", []byte("abc"), -1, "", 0, "", false, ErrOffsetRange},
		{"at limit", nil, 8, "ab", 10, "\x00\x00\x00\x00\x00\x00\x00\x00ab", true, nil},
		{"past limit", nil, 9, "ab", 10, "", false, ErrStringTooLong},
		{"overflow", []byte("abc"), math.MaxInt64, "ab", math.MaxInt64, "", false, ErrStringTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := SetRange(tc.v, tc.offset, []byte(tc.val), tc.maxLen)
			if !errors.Is(err, tc.err) || changed != tc.changed || (err == nil && string(got) != tc.want) {
				t.Errorf("SetRange = %q, %v, %v; want %q, %v, %v", got, changed, err, tc.want, tc.changed, tc.err)
			}
		})
	}
	v := []byte("abc")
	SetRange(v, 0, []byte("x"), 0)
	if string(v) != "abc" {
		t.Errorf("SetRange modified its input: %q", v)
	}
}

func TestAppend(t *testing.T) {
	if got, err := Append([]byte("ab"), true, []byte("cd"), 0); err != nil || string(got) != "abcd" {
		t.Errorf("Append = %q, %v", got, err)
	}
	if _, err := Append([]byte("ab"), true, []byte("cd"), 3); err != ErrStringTooLong {
		t.Errorf("Append past maxLen: %v", err)
	}
	if got, err := Append(nil, false, []byte("cd"), 1); err != nil || string(got) != "cd" {
		t.Errorf("Append to a missing key = %q, %v", got, err)
	}
}

func randValue(r *rand.Rand, maxLen int) []byte {
	if r.IntN(5) == 0 {
		return strconv.AppendInt(nil, r.Int64N(1e6)-5e5, 10) // int-encoded in Redis
	}
	b := make([]byte, r.IntN(maxLen+1))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

func randIndex(r *rand.Rand, n int) int64 {
	switch r.IntN(10) {
	case 0:
		return math.MinInt64 + r.Int64N(3)
	case 1:
		return math.MaxInt64 - r.Int64N(3)
	}
	return r.Int64N(int64(2*n+6)) - int64(n+3)
}

func TestGetRangeDifferential(t *testing.T) {
	rc := startRedis(t)
	r := rand.New(rand.NewPCG(5, 6))
	type tc struct {
		v          []byte
		start, end int64
	}
	var cases []tc
	var cmds [][]any
	for range 2000 {
		c := tc{v: randValue(r, 12)}
		c.start, c.end = randIndex(r, len(c.v)), randIndex(r, len(c.v))
		cases = append(cases, c)
		cmds = append(cmds, []any{"SET", "k", c.v}, []any{"GETRANGE", "k", c.start, c.end})
	}
	replies := rc.pipeline(cmds)
	for i, c := range cases {
		if got, want := bulk(GetRange(c.v, c.start, c.end)), replies[2*i+1].String(); got != want {
			t.Errorf("GETRANGE %q %d %d: redis %s, ours %s", c.v, c.start, c.end, want, got)
		}
	}
	t.Logf("%d GETRANGE cases agree with redis-server", len(cases))
}

func TestSetRangeDifferential(t *testing.T) {
	rc := startRedis(t)
	const maxLen = 1 << 20 // the smallest proto-max-bulk-len Redis accepts
	if got := rc.do("CONFIG", "SET", "proto-max-bulk-len", maxLen).String(); got != "+OK" {
		t.Fatalf("CONFIG SET proto-max-bulk-len: %s", got)
	}
	r := rand.New(rand.NewPCG(7, 8))
	type tc struct {
		v      []byte // nil: missing
		offset int64
		val    []byte
	}
	var cases []tc
	var cmds [][]any
	for range 1500 {
		c := tc{offset: r.Int64N(30) - 3, val: randValue(r, 6)}
		if r.IntN(4) > 0 {
			c.v = randValue(r, 12)
		}
		switch r.IntN(12) {
		case 0:
			c.offset = maxLen - int64(len(c.val)) + r.Int64N(3) - 1
		case 1:
			c.offset = math.MaxInt64 - r.Int64N(3)
		}
		if c.offset > 1000 && len(c.val) > 0 && int64(len(c.val))+c.offset <= maxLen {
			c.offset = 1000 // keep the replies small
		}
		cases = append(cases, c)
		if c.v == nil {
			cmds = append(cmds, []any{"DEL", "k"})
		} else {
			cmds = append(cmds, []any{"SET", "k", c.v})
		}
		cmds = append(cmds, []any{"SETRANGE", "k", c.offset, c.val}, []any{"GET", "k"})
	}
	replies := rc.pipeline(cmds)
	for i, c := range cases {
		got, changed, err := SetRange(c.v, c.offset, c.val, maxLen)
		var reply, value string
		switch {
		case err != nil:
			reply, value = errReply(err), bulkOrNil(c.v)
		case !changed:
			reply, value = integer(int64(len(c.v))), bulkOrNil(c.v)
		default:
			reply, value = integer(int64(len(got))), bulk(got)
		}
		if want := replies[3*i+1].String(); reply != want {
			t.Errorf("SETRANGE on %q at %d %q: redis %s, ours %s", c.v, c.offset, c.val, want, reply)
		}
		if want := replies[3*i+2].String(); value != want {
			t.Errorf("SETRANGE on %q at %d %q: redis leaves %s, ours %s", c.v, c.offset, c.val, want, value)
		}
	}
	t.Logf("%d SETRANGE cases agree with redis-server", len(cases))

	// APPEND at the size limit.
	big := bytes.Repeat([]byte("a"), maxLen-2)
	cmds = [][]any{{"SET", "k", big}, {"APPEND", "k", "bc"}, {"SET", "k", big}, {"APPEND", "k", "abc"}, {"DEL", "k"}, {"APPEND", "k", "xyz"}}
	replies = rc.pipeline(cmds)
	for i, c := range []struct {
		v     []byte
		found bool
		val   string
	}{{big, true, "bc"}, {big, true, "abc"}, {nil, false, "xyz"}} {
		got, err := Append(c.v, c.found, []byte(c.val), maxLen)
		s := errReplyOr(err, integer(int64(len(got))))
		if want := replies[2*i+1].String(); s != want {
			t.Errorf("APPEND %d bytes + %q: redis %s, ours %s", len(c.v), c.val, want, s)
		}
	}
}

func bulkOrNil(v []byte) string {
	if v == nil {
		return "$nil"
	}
	return bulk(v)
}

func errReplyOr(err error, s string) string {
	if err != nil {
		return errReply(err)
	}
	return s
}
