package strval

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSetExpireMillis(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	for _, tc := range []struct {
		n        int64
		unit     Unit
		absolute bool
		want     int64
		ok       bool
	}{
		{10, Seconds, false, 1_700_000_010_000, true},
		{10, Millis, false, 1_700_000_000_010, true},
		{10, Seconds, true, 10_000, true},
		{0, Seconds, false, 0, false},
		{-1, Millis, true, 0, false},
		{math.MaxInt64 / 1000, Seconds, true, math.MaxInt64 / 1000 * 1000, true},
		{math.MaxInt64/1000 + 1, Seconds, true, 0, false},
		{math.MaxInt64 / 1000, Seconds, false, 0, false}, // now pushes it past 2^63
		{math.MaxInt64 - 1_700_000_000_000, Millis, false, math.MaxInt64, true},
		{math.MaxInt64 - 1_699_999_999_999, Millis, false, 0, false},
	} {
		got, err := SetExpireMillis("SET", now, tc.n, tc.unit, tc.absolute)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("SetExpireMillis(%d, %v, %v) = %d, %v", tc.n, tc.unit, tc.absolute, got, err)
		}
		if err != nil && (err.Error() != "ERR invalid expire time in 'set' command" || !errors.Is(err, ErrInvalidExpireTime)) {
			t.Errorf("error %q", err)
		}
	}
}

func TestExpireMillis(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	for _, tc := range []struct {
		n        int64
		unit     Unit
		absolute bool
		want     int64
		ok       bool
	}{
		{-10, Seconds, false, 1_699_999_990_000, true},
		{0, Millis, true, 0, true},
		{math.MinInt64, Millis, false, math.MinInt64 + 1_700_000_000_000, true},
		{math.MinInt64 / 1000, Seconds, true, math.MinInt64 / 1000 * 1000, true},
		{math.MinInt64/1000 - 1, Seconds, true, 0, false},
		{math.MaxInt64, Millis, true, math.MaxInt64, true},
		{math.MaxInt64 - 1_700_000_000_000 + 1, Millis, false, 0, false},
	} {
		got, err := ExpireMillis("pexpire", now, tc.n, tc.unit, tc.absolute)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ExpireMillis(%d, %v, %v) = %d, %v", tc.n, tc.unit, tc.absolute, got, err)
		}
	}
}

func TestExpireFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want ExpireFlags
		err  string
	}{
		{nil, 0, ""},
		{[]string{"nx"}, ExpireNX, ""},
		{[]string{"XX", "gt"}, ExpireXX | ExpireGT, ""},
		{[]string{"NX", "NX"}, ExpireNX, ""},
		{[]string{"nx", "xx"}, 0, ErrExpireNXAndOthers.Error()},
		{[]string{"gt", "LT"}, 0, ErrExpireGTAndLT.Error()},
		{[]string{"nx", "gt", "lt"}, 0, ErrExpireNXAndOthers.Error()},
		{[]string{"nx", "Foo", "xx"}, 0, "ERR Unsupported option Foo"},
	} {
		f, err := ParseExpireFlags(byteArgs(tc.args...))
		if f != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("ParseExpireFlags(%q) = %v, %v", tc.args, f, err)
		}
	}
	for _, tc := range []struct {
		f             ExpireFlags
		hasTTL        bool
		current, when int64
		applies       bool
	}{
		{0, false, 0, 5, true},
		{ExpireNX, true, 10, 5, false},
		{ExpireNX, false, 0, 5, true},
		{ExpireXX, false, 0, 5, false},
		{ExpireGT, false, 0, 5, false}, // no TTL is infinite: nothing is greater
		{ExpireLT, false, 0, 5, true},  // …and anything is less
		{ExpireGT, true, 10, 10, false},
		{ExpireGT, true, 10, 11, true},
		{ExpireLT, true, 10, 10, false},
		{ExpireLT | ExpireXX, true, 10, 9, true},
	} {
		if got := tc.f.Applies(tc.hasTTL, tc.current, tc.when); got != tc.applies {
			t.Errorf("%v.Applies(%v, %d, %d) = %v", tc.f, tc.hasTTL, tc.current, tc.when, got)
		}
	}
}

func TestExpireDifferential(t *testing.T) {
	rc := startRedis(t)
	r := rand.New(rand.NewPCG(15, 16))
	cases := 0
	nowMs := time.Now().UnixMilli()
	const slack = 1_000_000 // ms: far more than a test's run, far less than anything we probe
	ns := []int64{0, -1, 1, 100, math.MaxInt64 / 1000, math.MaxInt64/1000 + 1, math.MaxInt64,
		math.MinInt64, math.MinInt64 / 1000, math.MinInt64/1000 - 1,
		math.MaxInt64 - nowMs - slack, math.MaxInt64 - nowMs + slack,
		(math.MaxInt64-nowMs)/1000 - slack, (math.MaxInt64-nowMs)/1000 + slack}
	for range 40 {
		ns = append(ns, r.Int64N(1e12)-1e11)
	}

	// SET EX|PX|EXAT|PXAT, SETEX, PSETEX, GETEX.
	type form struct {
		cmd      string
		unit     Unit
		absolute bool
		build    func(n int64) []any
	}
	forms := []form{
		{"set", Seconds, false, func(n int64) []any { return []any{"SET", "k", "v", "EX", n} }},
		{"set", Millis, false, func(n int64) []any { return []any{"SET", "k", "v", "px", n} }},
		{"set", Seconds, true, func(n int64) []any { return []any{"SET", "k", "v", "EXAT", n} }},
		{"set", Millis, true, func(n int64) []any { return []any{"SET", "k", "v", "PXAT", n} }},
		{"setex", Seconds, false, func(n int64) []any { return []any{"SETEX", "k", n, "v"} }},
		{"psetex", Millis, false, func(n int64) []any { return []any{"PSETEX", "k", n, "v"} }},
		{"getex", Seconds, false, func(n int64) []any { return []any{"GETEX", "k", "EX", n} }},
		{"getex", Millis, true, func(n int64) []any { return []any{"GETEX", "k", "PXAT", n} }},
	}
	check := func(what string, deadline int64, err error, reply, pexpiretime reply, now time.Time) {
		t.Helper()
		cases++
		if err != nil {
			if reply.String() != errReply(err) {
				t.Errorf("%s: redis %s, ours %s", what, reply, errReply(err))
			}
			return
		}
		if reply.kind == '-' {
			t.Errorf("%s: redis %s, ours deadline %d", what, reply, deadline)
			return
		}
		switch got := pexpiretime.num; {
		case Expired(deadline, now):
			if got != -2 && got > now.UnixMilli()+slack {
				t.Errorf("%s: ours expired (%d), redis PEXPIRETIME %d", what, deadline, got)
			}
		case got-deadline < -slack || got-deadline > slack: // both positive: no overflow
			t.Errorf("%s: redis PEXPIRETIME %d, ours %d", what, got, deadline)
		}
	}
	for _, f := range forms {
		for _, n := range ns {
			now := time.Now()
			replies := rc.pipeline([][]any{{"SET", "k", "v"}, f.build(n), {"PEXPIRETIME", "k"}})
			d, err := SetExpireMillis(f.cmd, now, n, f.unit, f.absolute)
			check(strings.Join(strings.Fields(fmtArgs(f.build(n))), " "), d, err, replies[1], replies[2], now)
		}
	}

	// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT on a key without a TTL.
	for _, f := range []struct {
		cmd      string
		unit     Unit
		absolute bool
	}{{"expire", Seconds, false}, {"pexpire", Millis, false}, {"expireat", Seconds, true}, {"pexpireat", Millis, true}} {
		for _, n := range ns {
			now := time.Now()
			replies := rc.pipeline([][]any{{"SET", "k", "v"}, {strings.ToUpper(f.cmd), "k", n}, {"PEXPIRETIME", "k"}})
			d, err := ExpireMillis(f.cmd, now, n, f.unit, f.absolute)
			check(f.cmd+" "+strconv.FormatInt(n, 10), d, err, replies[1], replies[2], now)
		}
	}

	// Flags: parsing (before the time argument), then whether they apply.
	words := []string{"nx", "XX", "gt", "Lt", "NX", "foo"}
	for range 500 {
		var args []string
		for range r.IntN(4) {
			args = append(args, words[r.IntN(len(words))])
		}
		hasTTL := r.IntN(2) == 0
		current := time.Now().UnixMilli() + 2*slack + r.Int64N(1000)
		when := current + []int64{-1, 0, 1, r.Int64N(2000) - 1000, -current}[r.IntN(5)]
		timeArg := strconv.FormatInt(when, 10)
		if r.IntN(20) == 0 {
			timeArg = "soon"
		}
		setup := []any{"SET", "k", "v"}
		if hasTTL {
			setup = []any{"SET", "k", "v", "PXAT", current}
		}
		cmd := []any{"PEXPIREAT", "k", timeArg}
		for _, a := range args {
			cmd = append(cmd, a)
		}
		replies := rc.pipeline([][]any{setup, cmd})
		fl, err := ParseExpireFlags(byteArgs(args...))
		var got string
		switch {
		case err != nil:
			got = errReply(err)
		case timeArg == "soon":
			got = errReply(ErrNotInteger)
		case fl.Applies(hasTTL, current, when):
			got = integer(1)
		default:
			got = integer(0)
		}
		if want := replies[1].String(); got != want {
			t.Errorf("PEXPIREAT k %s %q (TTL %v, at %d): redis %s, ours %s", timeArg, args, hasTTL, current, want, got)
		}
		cases++
	}
	t.Logf("%d expire cases agree with redis-server", cases)
}

func fmtArgs(args []any) string {
	var b strings.Builder
	for _, a := range args {
		switch v := a.(type) {
		case string:
			b.WriteString(v + " ")
		case int64:
			b.WriteString(strconv.FormatInt(v, 10) + " ")
		}
	}
	return b.String()
}
