package strval

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestEncoding(t *testing.T) {
	for _, tc := range []struct {
		v    string
		raw  bool
		want string
	}{
		{"123", false, "int"},
		{"-9223372036854775808", false, "int"},
		{"9223372036854775808", false, "embstr"},
		{"-0", false, "embstr"},
		{"007", false, "embstr"},
		{"", false, "embstr"},
		{strings.Repeat("a", 44), false, "embstr"},
		{strings.Repeat("a", 45), false, "raw"},
		{"1234", true, "raw"},
	} {
		if got := Encoding([]byte(tc.v), tc.raw); got != tc.want {
			t.Errorf("Encoding(%q, %v) = %s; want %s", tc.v, tc.raw, got, tc.want)
		}
	}
	if FloatEncoding([]byte("3")) != "embstr" || FloatEncoding([]byte(strings.Repeat("1", 45))) != "raw" {
		t.Error("FloatEncoding")
	}
}

func TestEncodingDifferential(t *testing.T) {
	rc := startRedis(t)
	a44, a45 := strings.Repeat("a", 44), strings.Repeat("a", 45)
	// Each script ends with the value whose encoding we predict; raw says
	// whether Redis built it in place.
	type script struct {
		name  string
		cmds  [][]any
		value string
		enc   func(v []byte) string
	}
	plain := func(v []byte) string { return Encoding(v, false) }
	raw := func(v []byte) string { return Encoding(v, true) }
	scripts := []script{
		{"SET int", [][]any{{"SET", "k", "123"}}, "123", plain},
		{"SET int then APPEND", [][]any{{"SET", "k", "123"}, {"APPEND", "k", "4"}}, "1234", raw},
		{"SET then APPEND", [][]any{{"SET", "k", "abc"}, {"APPEND", "k", "d"}}, "abcd", raw},
		{"APPEND to missing int", [][]any{{"APPEND", "k", "42"}}, "42", plain},
		{"APPEND to missing", [][]any{{"APPEND", "k", "ab"}}, "ab", plain},
		{"APPEND to missing long", [][]any{{"APPEND", "k", a45}}, a45, plain},
		{"SETRANGE missing", [][]any{{"SETRANGE", "k", "0", "12"}}, "12", raw},
		{"SETRANGE existing", [][]any{{"SET", "k", "abc"}, {"SETRANGE", "k", "1", "x"}}, "axc", raw},
		{"SETRANGE empty on existing", [][]any{{"SET", "k", "abc"}, {"SETRANGE", "k", "1", ""}}, "abc", plain},
		{"SETRANGE empty on raw", [][]any{{"SET", "k", "abc"}, {"SETRANGE", "k", "0", "12"}, {"SETRANGE", "k", "2", ""}}, "12c", raw},
		{"INCR of appended", [][]any{{"SET", "k", "1"}, {"APPEND", "k", "2"}, {"INCR", "k"}}, "13", plain},
		{"INCRBY missing", [][]any{{"INCRBY", "k", "5"}}, "5", plain},
		{"INCRBYFLOAT integral", [][]any{{"SET", "k", "1.5"}, {"INCRBYFLOAT", "k", "1.5"}}, "3", FloatEncoding},
		{"INCRBYFLOAT of int", [][]any{{"SET", "k", "10"}, {"INCRBYFLOAT", "k", "0.5"}}, "10.5", FloatEncoding},
		{"INCRBYFLOAT long", [][]any{{"INCRBYFLOAT", "k", "1e50"}}, "100000000000000000003583830118858923890798487404544", FloatEncoding},
		{"SET 44", [][]any{{"SET", "k", a44}}, a44, plain},
		{"SET 45", [][]any{{"SET", "k", a45}}, a45, plain},
		{"SETBIT new", [][]any{{"SETBIT", "k", "1", "1"}}, "@", raw},
		{"SETBIT unchanged", [][]any{{"SET", "k", "@"}, {"SETBIT", "k", "1", "1"}}, "@", raw},
		{"GETSET", [][]any{{"SET", "k", "x"}, {"GETSET", "k", "77"}}, "77", plain},
		{"GETSET str", [][]any{{"GETSET", "k", "ab"}}, "ab", plain},
		{"SETNX", [][]any{{"SETNX", "k", "12"}}, "12", plain},
		{"SETEX", [][]any{{"SETEX", "k", "100", "12"}}, "12", plain},
		{"MSET", [][]any{{"MSET", "k", "12"}}, "12", plain},
		{"SET GET", [][]any{{"SET", "k", "a"}, {"SET", "k", "12", "GET"}}, "12", plain},
		{"BITOP", [][]any{{"SET", "a", "1"}, {"BITOP", "OR", "k", "a"}}, "1", raw},
	}
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 300 {
		v := randIntString(r)
		if i%3 == 0 {
			v = strings.Repeat("x", 38+r.IntN(12))
		}
		scripts = append(scripts, script{"random SET", [][]any{{"SET", "k", v}}, v, plain})
	}
	for _, s := range scripts {
		cmds := append([][]any{{"DEL", "k"}}, s.cmds...)
		cmds = append(cmds, []any{"GET", "k"}, []any{"OBJECT", "ENCODING", "k"})
		replies := rc.pipeline(cmds)
		n := len(replies)
		if got := replies[n-2].String(); got != bulk([]byte(s.value)) {
			t.Errorf("%s: redis holds %s, expected %q", s.name, got, s.value)
			continue
		}
		if got, want := s.enc([]byte(s.value)), replies[n-1].String(); bulk([]byte(got)) != want {
			t.Errorf("%s (%.50q): redis encodes %s, ours %s", s.name, s.value, want, got)
		}
	}
	t.Logf("%d OBJECT ENCODING cases agree with redis-server", len(scripts))
}
