package resp

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseReplyReadsWhatWriterWrites(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.SimpleString("OK")
	w.Error("ERR no such key")
	w.Int(-42)
	w.Bulk([]byte("a\r\nb"))
	w.Null()
	w.ArrayHeader(2)
	w.Bulk([]byte(""))
	w.Int(7)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []Reply{
		{Kind: KindSimple, Str: []byte("OK")},
		{Kind: KindError, Str: []byte("ERR no such key")},
		{Kind: KindInt, Int: -42},
		{Kind: KindBulk, Str: []byte("a\r\nb")},
		{Kind: KindNull},
		{Kind: KindArray, Elems: []Reply{{Kind: KindBulk, Str: []byte{}}, {Kind: KindInt, Int: 7}}},
	}
	rest := buf.Bytes()
	for i, w := range want {
		var r Reply
		var err error
		if r, rest, err = ParseReply(rest); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if !equalReply(r, w) {
			t.Fatalf("reply %d = %+v, want %+v", i, r, w)
		}
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes left over", len(rest))
	}
}

func equalReply(a, b Reply) bool {
	if a.Kind != b.Kind || !bytes.Equal(a.Str, b.Str) || a.Int != b.Int || len(a.Elems) != len(b.Elems) {
		return false
	}
	for i := range a.Elems {
		if !equalReply(a.Elems[i], b.Elems[i]) {
			return false
		}
	}
	return true
}

func TestParseReplyRefusesMalformed(t *testing.T) {
	for _, in := range []string{
		"", "+OK", "x\r\n", ":12a\r\n", "$5\r\nabc\r\n", "$3\r\nabcde", "$-2\r\n",
		"*2\r\n:1\r\n", "*99999999999\r\n", "*-5\r\n", "$9223372036854775807\r\nab\r\n",
		string(bytes.Repeat([]byte("*1\r\n"), 40)) + ":1\r\n",
	} {
		if _, _, err := ParseReply([]byte(in)); !errors.Is(err, ErrMalformedReply) {
			t.Errorf("ParseReply(%q) error = %v, want ErrMalformedReply", in, err)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n:5\r\n", "$-1\r\n", "-ERR x\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, rest, err := ParseReply(b)
		if err != nil {
			return
		}
		if len(rest) > len(b) || r.Kind == 0 {
			t.Fatalf("ParseReply(%q) = %+v, rest %q", b, r, rest)
		}
	})
}
