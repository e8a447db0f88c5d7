package strval

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLCS(t *testing.T) {
	a, b := []byte("ohmytext"), []byte("mynewtext")
	res, err := LCS(a, b, LCSOptions{})
	if err != nil || string(res.String) != "mytext" || res.Len != 6 {
		t.Fatalf("LCS = %q, %d, %v", res.String, res.Len, err)
	}
	res, _ = LCS(a, b, LCSOptions{Len: true})
	if res.Len != 6 || res.String != nil {
		t.Fatalf("LCS LEN = %+v", res)
	}
	// The example of Redis's documentation.
	res, _ = LCS(a, b, LCSOptions{Idx: true})
	want := []LCSMatch{{4, 7, 5, 8, 4}, {2, 3, 0, 1, 2}}
	if len(res.Matches) != 2 || res.Matches[0] != want[0] || res.Matches[1] != want[1] || res.Len != 6 {
		t.Fatalf("LCS IDX = %+v", res)
	}
	res, _ = LCS(a, b, LCSOptions{Idx: true, MinMatchLen: 4})
	if len(res.Matches) != 1 || res.Matches[0] != want[0] {
		t.Fatalf("LCS IDX MINMATCHLEN 4 = %+v", res)
	}
	if _, err := LCS(make([]byte, 511), make([]byte, 511), LCSOptions{MaxLen: 1 << 20}); err != nil {
		t.Errorf("LCS at the memory limit: %v", err)
	}
	if _, err := LCS(make([]byte, 511), make([]byte, 512), LCSOptions{MaxLen: 1 << 20}); err != ErrLCSMemory {
		t.Errorf("LCS past the memory limit: %v", err)
	}

	for _, tc := range []struct {
		args []string
		want LCSOptions
		err  error
	}{
		{nil, LCSOptions{}, nil},
		{[]string{"len"}, LCSOptions{Len: true}, nil},
		{[]string{"IDX", "MINMATCHLEN", "-5", "WithMatchLen"}, LCSOptions{Idx: true, WithMatchLen: true}, nil},
		{[]string{"IDX", "MINMATCHLEN", "3", "MINMATCHLEN", "2"}, LCSOptions{Idx: true, MinMatchLen: 2}, nil},
		{[]string{"LEN", "IDX"}, LCSOptions{}, ErrLCSLenAndIdx},
		{[]string{"MINMATCHLEN"}, LCSOptions{}, ErrSyntax},
		{[]string{"MINMATCHLEN", "x"}, LCSOptions{}, ErrNotInteger},
		{[]string{"LEN", "IDX", "foo"}, LCSOptions{}, ErrSyntax}, // words first, then the conflict
		{[]string{"STRANGE"}, LCSOptions{}, ErrSyntax},
	} {
		got, err := ParseLCSArgs(byteArgs(tc.args...))
		if err != tc.err || got != tc.want {
			t.Errorf("ParseLCSArgs(%q) = %+v, %v; want %+v, %v", tc.args, got, err, tc.want, tc.err)
		}
	}
}

// lcsReply is the RESP2 reply Redis sends for LCS with opts.
func lcsReply(res LCSResult, opts LCSOptions) string {
	switch {
	case opts.Idx:
		var ms []string
		for _, m := range res.Matches {
			s := "*[*[" + integer(m.AStart) + " " + integer(m.AEnd) + "] *[" + integer(m.BStart) + " " + integer(m.BEnd) + "]"
			if opts.WithMatchLen {
				s += " " + integer(m.Len)
			}
			ms = append(ms, s+"]")
		}
		return "*[" + bulk([]byte("matches")) + " *[" + strings.Join(ms, " ") + "] " + bulk([]byte("len")) + " " + integer(res.Len) + "]"
	case opts.Len:
		return integer(res.Len)
	}
	return bulk(res.String)
}

func TestLCSDifferential(t *testing.T) {
	rc := startRedis(t)
	r := rand.New(rand.NewPCG(13, 14))
	optionSets := [][]string{
		nil, {"LEN"}, {"len"}, {"IDX"}, {"IDX", "WITHMATCHLEN"}, {"withmatchlen", "idx"},
		{"IDX", "MINMATCHLEN", "2"}, {"IDX", "MINMATCHLEN", "3", "WITHMATCHLEN"}, {"MINMATCHLEN", "-1", "IDX"},
		{"IDX", "MINMATCHLEN", "0"}, {"LEN", "MINMATCHLEN", "2"}, {"WITHMATCHLEN"}, {"LEN", "IDX"},
		{"IDX", "LEN"}, {"MINMATCHLEN"}, {"IDX", "MINMATCHLEN"}, {"MINMATCHLEN", "x", "IDX"},
		{"IDX", "foo"}, {"LEN", "IDX", "foo"}, {"IDX", "MINMATCHLEN", "99999999999999999999"},
	}
	randStr := func() []byte {
		alphabet := []string{"ab", "abc", "abcdefgh"}[r.IntN(3)]
		b := make([]byte, r.IntN(13))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return b
	}
	type tc struct {
		a, b []byte // nil: missing
		args []string
	}
	var cases []tc
	var cmds [][]any
	for i := range 3000 {
		c := tc{a: randStr(), b: randStr(), args: optionSets[i%len(optionSets)]}
		if r.IntN(15) == 0 {
			c.a = nil
		}
		if r.IntN(15) == 0 {
			c.b = nil
		}
		cases = append(cases, c)
		for _, kv := range []struct {
			k string
			v []byte
		}{{"a", c.a}, {"b", c.b}} {
			if kv.v == nil {
				cmds = append(cmds, []any{"DEL", kv.k})
			} else {
				cmds = append(cmds, []any{"SET", kv.k, kv.v})
			}
		}
		cmd := []any{"LCS", "a", "b"}
		for _, a := range c.args {
			cmd = append(cmd, a)
		}
		cmds = append(cmds, cmd)
	}
	replies := rc.pipeline(cmds)
	for i, c := range cases {
		opts, err := ParseLCSArgs(byteArgs(c.args...))
		var got string
		if err != nil {
			got = errReply(err)
		} else {
			res, err := LCS(c.a, c.b, opts)
			got = errReplyOr(err, lcsReply(res, opts))
		}
		if want := replies[3*i+2].String(); got != want {
			t.Errorf("LCS %q %q %q:\nredis %s\nours  %s", c.a, c.b, c.args, want, got)
		}
	}

	// The memory guard, at proto-max-bulk-len 1mb: 512*512 cells of 4
	// bytes are exactly 1 MiB.
	rc.do("CONFIG", "SET", "proto-max-bulk-len", 1<<20)
	sizes := [][2]int{{511, 511}, {511, 512}, {600, 600}, {0, 262143}, {0, 262144}, {1, 131071}, {1, 131072}}
	for _, s := range sizes {
		a, b := bytes.Repeat([]byte("ab"), s[0])[:s[0]], bytes.Repeat([]byte("ba"), s[1])[:s[1]]
		replies := rc.pipeline([][]any{{"SET", "a", a}, {"SET", "b", b}, {"LCS", "a", "b", "LEN"}})
		res, err := LCS(a, b, LCSOptions{Len: true, MaxLen: 1 << 20})
		got := errReplyOr(err, integer(res.Len))
		if want := replies[2].String(); got != want {
			t.Errorf("LCS of %d and %d bytes: redis %s, ours %s", s[0], s[1], want, got)
		}
	}
	t.Logf("%d LCS cases agree with redis-server", len(cases)+len(sizes))
}
