package resp

import (
	"fmt"
	"strings"
	"testing"
)

type benchCase struct {
	name string
	in   []byte // one op's worth of requests
	n    int    // commands in in
}

func multibulk(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

func benchCases() []benchCase {
	get := multibulk("GET", "key:000000000001")
	set := multibulk("SET", "key:000000000001", strings.Repeat("v", 64))
	var pipe strings.Builder
	for i := range 16 {
		if i%4 == 0 {
			pipe.WriteString(set)
		} else {
			pipe.WriteString(get)
		}
	}
	return []benchCase{
		{"cmd=get", []byte(get), 1},
		{"cmd=set-64B", []byte(set), 1},
		{"cmd=set-16KiB", []byte(multibulk("SET", "key:000000000001", strings.Repeat("v", 16<<10))), 1},
		{"cmd=inline-get", []byte("GET key:000000000001\r\n"), 1},
		{"pipeline=16", []byte(pipe.String()), 16},
	}
}

// BenchmarkReader reads commands from an endless stream; ns/op is per
// command batch (one command, or 16 for pipeline=16).
func BenchmarkReader(b *testing.B) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			r := NewReader(&repeatReader{b: bc.in}, Limits{})
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				for range bc.n {
					if _, err := r.ReadCommand(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
	// 1 MiB SETs. Back to back (pipelined), the buffer stays large; alone
	// (each read stops at the end of the command, as when a client waits for
	// the reply), the buffer grows for each and is given back after it.
	in := []byte(multibulk("SET", "key:000000000001", strings.Repeat("v", 1<<20)))
	for _, pipelined := range []bool{true, false} {
		name := "cmd=set-1MiB/pipelined"
		if !pipelined {
			name = "cmd=set-1MiB/alone"
		}
		b.Run(name, func(b *testing.B) {
			r := NewReader(&repeatReader{b: in, stop: !pipelined}, Limits{})
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.ReadCommand(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriter encodes replies and flushes them to a discarding writer;
// ns/op is per batch (one reply, or 16 for pipeline=16).
func BenchmarkWriter(b *testing.B) {
	val64 := []byte(strings.Repeat("v", 64))
	val1M := []byte(strings.Repeat("v", 1<<20))
	str1M := string(val1M)
	cases := []struct {
		name  string
		write func(w *Writer)
	}{
		{"reply=ok", func(w *Writer) { w.SimpleString("OK") }},
		{"reply=int", func(w *Writer) { w.Int(1234567) }},
		{"reply=bulk-64B", func(w *Writer) { w.Bulk(val64) }},
		{"reply=double", func(w *Writer) { w.Double(3.141592653589793) }},
		{"reply=bulk-1MiB", func(w *Writer) { w.Bulk(val1M) }},
		{"reply=bulkstring-1MiB", func(w *Writer) { w.BulkString(str1M) }}, // copied through the buffer
		{"pipeline=16", func(w *Writer) {
			for range 16 {
				w.Bulk(val64)
			}
		}},
	}
	for _, proto := range []int{2, 3} {
		for _, bc := range cases {
			b.Run(fmt.Sprintf("resp=%d/%s", proto, bc.name), func(b *testing.B) {
				w := NewWriter(discard{})
				w.SetProtocol(proto)
				b.ReportAllocs()
				for b.Loop() {
					bc.write(w)
					if err := w.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
