package strval

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestBits(t *testing.T) {
	v := []byte{0b1010_0000, 0xff}
	for off, want := range []int{1, 0, 1, 0, 0, 0, 0, 0, 1, 1} {
		if got := GetBit(v, uint64(off)); got != want {
			t.Errorf("GetBit(%d) = %d; want %d", off, got, want)
		}
	}
	if GetBit(v, 1<<40) != 0 {
		t.Error("GetBit past the end is not 0")
	}
	got, old := SetBit(nil, 7, 1)
	if string(got) != "\x01" || old != 0 {
		t.Errorf("SetBit(nil, 7, 1) = %q, %d", got, old)
	}
	got, old = SetBit(v, 0, 0)
	if string(got) != "\x20\xff" || old != 1 || v[0] != 0b1010_0000 {
		t.Errorf("SetBit(v, 0, 0) = %q, %d (v now %q)", got, old, v)
	}
	got, _ = SetBit(v, 23, 1)
	if string(got) != "\xa0\xff\x01" {
		t.Errorf("SetBit grows to %q", got)
	}

	for _, tc := range []struct {
		in     string
		maxLen int64
		ok     bool
	}{
		{"0", 0, true}, {"4294967295", 0, true}, {"4294967296", 0, false}, {"-1", 0, false},
		{"+1", 0, false}, {"01", 0, false}, {"x", 0, false}, {"8388607", 1 << 20, true}, {"8388608", 1 << 20, false},
	} {
		if _, err := ParseBitOffset([]byte(tc.in), tc.maxLen); (err == nil) != tc.ok {
			t.Errorf("ParseBitOffset(%q, %d): %v", tc.in, tc.maxLen, err)
		}
	}
	for in, ok := range map[string]bool{"0": true, "1": true, "2": false, "-1": false, "01": false, "": false} {
		if _, err := ParseBit([]byte(in)); (err == nil) != ok {
			t.Errorf("ParseBit(%q): %v", in, err)
		}
	}
}

func TestBitCount(t *testing.T) {
	v := []byte("foobar")
	for _, tc := range []struct {
		args []string
		want int64
		err  error
	}{
		{nil, 26, nil},
		{[]string{"0", "0"}, 4, nil},
		{[]string{"1", "1"}, 6, nil},
		{[]string{"1", "1", "BYTE"}, 6, nil},
		{[]string{"5", "30", "bit"}, 17, nil},
		{[]string{"-1", "-5"}, 0, nil},
		{[]string{"-1", "-5", "nonsense"}, 0, nil}, // answered before the unit is read
		{[]string{"0"}, 0, ErrSyntax},
		{[]string{"1", "1", "nonsense"}, 0, ErrSyntax},
		{[]string{"0", "1", "bit", "x"}, 0, ErrSyntax},
		{[]string{"a", "1"}, 0, ErrNotInteger},
		{[]string{"1", "a", "bit"}, 0, ErrNotInteger},
	} {
		r, err := ParseBitCountArgs(byteArgs(tc.args...))
		if err != tc.err {
			t.Errorf("ParseBitCountArgs(%q) error %v; want %v", tc.args, err, tc.err)
			continue
		}
		if err == nil {
			if got := BitCount(v, r.Start, r.End, r.Bit); got != tc.want {
				t.Errorf("BITCOUNT foobar %q = %d; want %d", tc.args, got, tc.want)
			}
		}
	}
}

func byteArgs(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i := range s {
		out[i] = []byte(s[i])
	}
	return out
}

func TestBitsDifferential(t *testing.T) {
	rc := startRedis(t)
	r := rand.New(rand.NewPCG(9, 10))

	// Offsets and bits as GETBIT and SETBIT parse them, default limit.
	offsets := []string{"0", "7", "4294967295", "4294967296", "-1", "+1", "01", " 1", "x", "",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808"}
	bitArgs := []string{"0", "1", "2", "-1", "01", "+1", "", "true", "9223372036854775808"}
	var cmds [][]any
	for _, o := range offsets {
		cmds = append(cmds, []any{"GETBIT", "nokey", o})
	}
	for _, b := range bitArgs {
		cmds = append(cmds, []any{"SETBIT", "sb", "3", b}, []any{"SETBIT", "sb", "-1", b})
	}
	replies := rc.pipeline(cmds)
	cases := 0
	for i, o := range offsets {
		_, err := ParseBitOffset([]byte(o), DefaultMaxLen)
		if got, want := errReplyOr(err, integer(0)), replies[i].String(); got != want {
			t.Errorf("GETBIT nokey %q: redis %s, ours %s", o, want, got)
		}
		cases++
	}
	for i, b := range bitArgs {
		_, err := ParseBit([]byte(b))
		want := replies[len(offsets)+2*i].String()
		if got := errReplyOr(err, want); err != nil && got != want || err == nil && want[0] == '-' {
			t.Errorf("SETBIT sb 3 %q: redis %s, ours %s", b, want, got)
		}
		// A bad offset is reported before a bad bit.
		if want := replies[len(offsets)+2*i+1].String(); want != errReply(ErrBitOffset) {
			t.Errorf("SETBIT sb -1 %q: redis %s", b, want)
		}
		cases += 2
	}

	// The limit follows proto-max-bulk-len.
	replies = rc.pipeline([][]any{{"CONFIG", "SET", "proto-max-bulk-len", 1 << 20},
		{"GETBIT", "nokey", 8388607}, {"GETBIT", "nokey", 8388608},
		{"CONFIG", "SET", "proto-max-bulk-len", DefaultMaxLen}})
	for i, o := range []int64{8388607, 8388608} {
		_, err := ParseBitOffset(strconv.AppendInt(nil, o, 10), 1<<20)
		if got, want := errReplyOr(err, integer(0)), replies[1+i].String(); got != want {
			t.Errorf("GETBIT nokey %d with a 1mb limit: redis %s, ours %s", o, want, got)
		}
		cases++
	}

	// Random SETBIT and GETBIT sequences.
	cmds = cmds[:0]
	type op struct {
		set    bool
		offset uint64
		bit    int
	}
	var ops []op
	var starts [][]byte
	const rounds, perRound = 100, 20
	for range rounds {
		v := []byte(nil)
		if r.IntN(3) > 0 {
			v = randValue(r, 8)
			cmds = append(cmds, []any{"SET", "k", v})
		} else {
			cmds = append(cmds, []any{"DEL", "k"})
		}
		starts = append(starts, v)
		for range perRound {
			o := op{set: r.IntN(2) == 0, offset: uint64(r.IntN(100)), bit: r.IntN(2)}
			ops = append(ops, o)
			if o.set {
				cmds = append(cmds, []any{"SETBIT", "k", o.offset, o.bit})
			} else {
				cmds = append(cmds, []any{"GETBIT", "k", o.offset})
			}
		}
		cmds = append(cmds, []any{"GET", "k"}, []any{"OBJECT", "ENCODING", "k"})
	}
	replies = rc.pipeline(cmds)
	k := 0
	for round := range rounds {
		v := starts[round]
		k++ // SET or DEL
		raw := false
		for j := range perRound {
			o := ops[round*perRound+j]
			var got int
			if o.set {
				v, got = SetBit(v, o.offset, o.bit)
				raw = true
			} else {
				got = GetBit(v, o.offset)
			}
			if want := replies[k].String(); integer(int64(got)) != want {
				t.Errorf("round %d op %d %+v: redis %s, ours %d", round, j, o, want, got)
			}
			k++
			cases++
		}
		if want := replies[k].String(); bulkOrNil(v) != want {
			t.Errorf("round %d: redis holds %s, ours %s", round, want, bulkOrNil(v))
		}
		if v != nil {
			if want := replies[k+1].String(); "+"+Encoding(v, raw) != want && "$"+`"`+Encoding(v, raw)+`"` != want {
				t.Errorf("round %d: redis encodes %s, ours %s", round, want, Encoding(v, raw))
			}
		}
		k += 2
	}

	// BITCOUNT over random values and argument lists.
	cmds = cmds[:0]
	type bc struct {
		v    []byte
		args []string
	}
	var bcs []bc
	units := []string{"BIT", "byte", "Bit", "BYTE", "bits", ""}
	for range 2000 {
		c := bc{v: randValue(r, 10)}
		if r.IntN(20) == 0 {
			c.v = nil
		}
		n := int64(len(c.v))
		if r.IntN(2) == 0 {
			n *= 8
		}
		idx := func() string { return strconv.FormatInt(randIndex(r, int(n)), 10) }
		switch r.IntN(8) {
		case 0:
		case 1:
			c.args = []string{idx()}
		case 2, 3:
			c.args = []string{idx(), idx()}
		case 4, 5, 6:
			c.args = []string{idx(), idx(), units[r.IntN(len(units))]}
		default:
			c.args = []string{idx(), randIntString(r), "BIT", "x"}[:2+r.IntN(3)]
		}
		bcs = append(bcs, c)
		if c.v == nil {
			cmds = append(cmds, []any{"DEL", "k"})
		} else {
			cmds = append(cmds, []any{"SET", "k", c.v})
		}
		cmd := []any{"BITCOUNT", "k"}
		for _, a := range c.args {
			cmd = append(cmd, a)
		}
		cmds = append(cmds, cmd)
	}
	replies = rc.pipeline(cmds)
	for i, c := range bcs {
		got := integer(0) // a missing key is 0 whatever the arguments
		if c.v != nil {
			rg, err := ParseBitCountArgs(byteArgs(c.args...))
			got = errReplyOr(err, integer(BitCount(c.v, rg.Start, rg.End, rg.Bit)))
		}
		if want := replies[2*i+1].String(); got != want {
			t.Errorf("BITCOUNT %q %q: redis %s, ours %s", c.v, c.args, want, got)
		}
	}
	cases += len(bcs)
	t.Logf("%d bit cases (%d of them BITCOUNT) agree with redis-server", cases, len(bcs))
}
