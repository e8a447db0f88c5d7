package servertest

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		name, in, want string // want: Reply.String()
	}{
		{"simple", "+OK\r\n", `"OK"`},
		{"error", "-ERR syntax error\r\n", `(error) "ERR syntax error"`},
		{"integer", ":-42\r\n", "(:) -42"},
		{"bulk", "$5\r\nhe\r\no\r\n", `"he\r\no"`},
		{"empty bulk", "$0\r\n\r\n", `""`},
		{"null bulk", "$-1\r\n", "(nil)"},
		{"null array", "*-1\r\n", "(nil)"},
		{"array", "*3\r\n:1\r\n$1\r\na\r\n*0\r\n", `[(:) 1, "a", []]`},
		{"null", "_\r\n", "(nil)"},
		{"double", ",3.5\r\n", "(,) 3.5"},
		{"double inf", ",-inf\r\n", "(,) -inf"},
		{"boolean", "#t\r\n", "(#) t"},
		{"blob error", "!9\r\nSYNTAX ab\r\n", `(error) "SYNTAX ab"`},
		{"verbatim", "=7\r\ntxt:a b\r\n", `"txt:a b"`},
		{"big number", "(-123456789012345678901234567890\r\n", "(() -123456789012345678901234567890"},
		{"map", "%2\r\n+a\r\n:1\r\n+b\r\n_\r\n", `{"a": (:) 1, "b": (nil)}`},
		{"set", "~2\r\n+a\r\n+b\r\n", `~{"a", "b"}`},
		{"push", ">2\r\n+message\r\n$1\r\nx\r\n", `>["message", "x"]`},
		{"attribute", "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", `|{"ttl": (:) 3} "v"`},
		{"nested", "*2\r\n%1\r\n+k\r\n~1\r\n:1\r\n*1\r\n*1\r\n_\r\n", `[{"k": ~{(:) 1}}, [[(nil)]]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in + "+next\r\n" // a reply must not read past its end
			r := bufio.NewReaderSize(strings.NewReader(in), 16)
			got, err := ReadReply(r)
			if err != nil {
				t.Fatalf("ReadReply(%q): %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Errorf("ReadReply(%q) = %s, want %s", tt.in, got, tt.want)
			}
			if string(got.Raw) != tt.in {
				t.Errorf("Raw = %q, want %q", got.Raw, tt.in)
			}
			if enc := string(got.Encode()); enc != tt.in {
				t.Errorf("Encode() = %q, want %q", enc, tt.in)
			}
			if next, err := ReadReply(r); err != nil || next.Str != "next" {
				t.Errorf("reply after it = %s, %v; want \"next\"", next, err)
			}
		})
	}
}

func TestReadReplySubRaw(t *testing.T) {
	in := "*2\r\n$3\r\nabc\r\n%1\r\n+k\r\n:7\r\n"
	got, err := ReadReply(bufio.NewReaderSize(strings.NewReader(in), 16))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := string(got.Elems[0].Raw), string(got.Elems[1].Raw); a != "$3\r\nabc\r\n" || b != "%1\r\n+k\r\n:7\r\n" {
		t.Errorf("element Raw = %q, %q", a, b)
	}
}

func TestReadReplyErrors(t *testing.T) {
	protocol := []string{
		"?\r\n", "+OK\n", ":12x\r\n", "#x\r\n", ",abc\r\n", "(12a\r\n", "$-2\r\n",
		"$3\r\nabcd\r\n", "*?\r\n", "$?\r\n", "%-1\r\n", "=3\r\nabc\r\n", "\r\n", "_x\r\n",
		"|1\r\n+a\r\n+b\r\n|1\r\n+a\r\n+b\r\n+c\r\n",
	}
	for _, in := range protocol {
		if _, err := ReadReply(bufio.NewReader(strings.NewReader(in))); !errors.Is(err, ErrProtocol) {
			t.Errorf("ReadReply(%q) error = %v, want ErrProtocol", in, err)
		}
	}
	if _, err := ReadReply(bufio.NewReader(strings.NewReader(""))); err != io.EOF {
		t.Errorf("ReadReply(\"\") error = %v, want io.EOF", err)
	}
	for _, in := range []string{"+OK", "$5\r\nab", "*2\r\n:1\r\n"} {
		if _, err := ReadReply(bufio.NewReader(strings.NewReader(in))); err != io.ErrUnexpectedEOF {
			t.Errorf("ReadReply(%q) error = %v, want io.ErrUnexpectedEOF", in, err)
		}
	}
}

func TestEncodeCommand(t *testing.T) {
	got := string(EncodeCommand("SET", "k", ""))
	if want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"; got != want {
		t.Errorf("EncodeCommand = %q, want %q", got, want)
	}
}
