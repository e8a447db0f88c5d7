package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"strings"
	"testing"
)

var writeTests = []struct {
	name         string
	write        func(w *Writer)
	resp2, resp3 string
}{
	{"simple", func(w *Writer) { w.SimpleString("OK") }, "+OK\r\n", "+OK\r\n"},
	{"simple-crlf", func(w *Writer) { w.SimpleString("a\r\nb") }, "+a  b\r\n", "+a  b\r\n"},
	{"error", func(w *Writer) { w.Error("ERR unknown command 'x'") }, "-ERR unknown command 'x'\r\n", "-ERR unknown command 'x'\r\n"},
	{"error-crlf", func(w *Writer) { w.Error("WRONGTYPE a\nb\rc") }, "-WRONGTYPE a b c\r\n", "-WRONGTYPE a b c\r\n"},
	{"int", func(w *Writer) { w.Int(42) }, ":42\r\n", ":42\r\n"},
	{"int-min", func(w *Writer) { w.Int(math.MinInt64) }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
	{"bulk", func(w *Writer) { w.Bulk([]byte("hello")) }, "$5\r\nhello\r\n", "$5\r\nhello\r\n"},
	{"bulk-empty", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
	{"bulk-binary", func(w *Writer) { w.Bulk([]byte("a\r\n\x00")) }, "$4\r\na\r\n\x00\r\n", "$4\r\na\r\n\x00\r\n"},
	{"bulk-string", func(w *Writer) { w.BulkString("hi") }, "$2\r\nhi\r\n", "$2\r\nhi\r\n"},
	{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
	{"null-array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
	{"array", func(w *Writer) { w.ArrayHeader(2); w.Int(1); w.Null() }, "*2\r\n:1\r\n$-1\r\n", "*2\r\n:1\r\n_\r\n"},
	{"array-empty", func(w *Writer) { w.ArrayHeader(0) }, "*0\r\n", "*0\r\n"},
	{"map", func(w *Writer) { w.MapHeader(1); w.BulkString("k"); w.Int(1) }, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
	{"map-empty", func(w *Writer) { w.MapHeader(0) }, "*0\r\n", "%0\r\n"},
	{"set", func(w *Writer) { w.SetHeader(1); w.BulkString("m") }, "*1\r\n$1\r\nm\r\n", "~1\r\n$1\r\nm\r\n"},
	{"push", func(w *Writer) { w.PushHeader(3); w.BulkString("message") }, "*3\r\n$7\r\nmessage\r\n", ">3\r\n$7\r\nmessage\r\n"},
	// Double's texts are redis-server 7.0.15's ZSCORE replies, and glibc's
	// printf("%.17g") for -0 and NaN.
	{"double", func(w *Writer) { w.Double(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
	{"double-int", func(w *Writer) { w.Double(3) }, "$1\r\n3\r\n", ",3\r\n"},
	{"double-half", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
	{"double-big", func(w *Writer) { w.Double(1e20) }, "$5\r\n1e+20\r\n", ",1e+20\r\n"},
	{"double-1e16", func(w *Writer) { w.Double(1e16) }, "$17\r\n10000000000000000\r\n", ",10000000000000000\r\n"},
	{"double-1e17", func(w *Writer) { w.Double(1e17) }, "$5\r\n1e+17\r\n", ",1e+17\r\n"},
	{"double-17-digits", func(w *Writer) { w.Double(123456789012345678) }, "$22\r\n1.2345678901234568e+17\r\n", ",1.2345678901234568e+17\r\n"},
	{"double-small", func(w *Writer) { w.Double(1e-5) }, "$22\r\n1.0000000000000001e-05\r\n", ",1.0000000000000001e-05\r\n"},
	{"double-0.000123", func(w *Writer) { w.Double(0.000123) }, "$22\r\n0.00012300000000000001\r\n", ",0.00012300000000000001\r\n"},
	{"double-denormal", func(w *Writer) { w.Double(5e-324) }, "$23\r\n4.9406564584124654e-324\r\n", ",4.9406564584124654e-324\r\n"},
	{"double-max", func(w *Writer) { w.Double(math.MaxFloat64) }, "$23\r\n1.7976931348623157e+308\r\n", ",1.7976931348623157e+308\r\n"},
	{"double-zero", func(w *Writer) { w.Double(0) }, "$1\r\n0\r\n", ",0\r\n"},
	{"double-minus-zero", func(w *Writer) { w.Double(math.Copysign(0, -1)) }, "$2\r\n-0\r\n", ",-0\r\n"},
	{"double-inf", func(w *Writer) { w.Double(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
	{"double-minus-inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
	{"double-nan", func(w *Writer) { w.Double(math.NaN()) }, "$3\r\nnan\r\n", ",nan\r\n"},
	{"double-minus-nan", func(w *Writer) { w.Double(math.Copysign(math.NaN(), -1)) }, "$4\r\n-nan\r\n", ",-nan\r\n"},
	{"bool-true", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
	{"bool-false", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
	{"verbatim", func(w *Writer) { w.Verbatim("txt", "a\r\nb") }, "$4\r\na\r\nb\r\n", "=8\r\ntxt:a\r\nb\r\n"},
	{"verbatim-short-format", func(w *Writer) { w.Verbatim("m", "x") }, "$1\r\nx\r\n", "=5\r\nm  :x\r\n"},
	{"verbatim-long-format", func(w *Writer) { w.Verbatim("markdown", "") }, "$0\r\n\r\n", "=4\r\nmar:\r\n"},
	{"big-number", func(w *Writer) { w.BigNumber("3492890328409238509324850943850943825024385") },
		"$43\r\n3492890328409238509324850943850943825024385\r\n", "(3492890328409238509324850943850943825024385\r\n"},
}

func TestWriter(t *testing.T) {
	for _, tt := range writeTests {
		t.Run(tt.name, func(t *testing.T) {
			for _, proto := range []int{2, 3} {
				var out bytes.Buffer
				w := NewWriter(&out)
				w.SetProtocol(proto)
				tt.write(w)
				if w.Buffered() == 0 || out.Len() != 0 {
					t.Fatalf("RESP%d: wrote before Flush", proto)
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				want := map[int]string{2: tt.resp2, 3: tt.resp3}[proto]
				if out.String() != want || w.Buffered() != 0 {
					t.Errorf("RESP%d: got %q, want %q", proto, out.String(), want)
				}
			}
		})
	}
}

// countingWriter records each Write.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

func TestWriterOneWritePerFlush(t *testing.T) {
	var out countingWriter
	w := NewWriter(&out)
	for range 100 {
		w.SimpleString("OK")
		w.Bulk([]byte("value"))
	}
	w.Flush()
	w.Flush() // nothing buffered: no Write
	if out.writes != 1 {
		t.Fatalf("%d Writes, want 1", out.writes)
	}
}

func TestWriterLarge(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16)
	var out countingWriter
	w := NewWriter(&out)
	w.Int(1)
	w.Bulk(big) // written at once, with ":1\r\n"
	if out.Len() != 4+len("$102400\r\n")+len(big) {
		t.Fatalf("direct Bulk wrote %d bytes", out.Len())
	}
	w.BulkString(string(big)) // through the buffer, in parts
	for range 10000 {
		w.SimpleString("OK")
	}
	if w.Buffered() >= flushSize || cap(w.buf) > 2*flushSize {
		t.Fatalf("buffer holds %d of %d bytes", w.Buffered(), cap(w.buf))
	}
	w.Flush()
	want := ":1\r\n$102400\r\n" + string(big) + "\r\n$102400\r\n" + string(big) + "\r\n" + strings.Repeat("+OK\r\n", 10000)
	if out.String() != want {
		t.Fatalf("large replies garbled (%d bytes, want %d)", out.Len(), len(want))
	}
}

type failWriter struct{ n int }

var errWrite = errors.New("write failed")

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errWrite
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriterErrors(t *testing.T) {
	f := &failWriter{}
	w := NewWriter(f)
	w.SimpleString("OK")
	if err := w.Flush(); err != errWrite {
		t.Fatalf("Flush: %v", err)
	}
	w.Bulk(make([]byte, directSize)) // no write after an error
	w.SimpleString("OK")
	if err := w.Flush(); err != errWrite || f.n != 1 || w.Buffered() != 0 {
		t.Fatalf("second Flush: %v after %d writes, %d buffered", err, f.n, w.Buffered())
	}
	var out bytes.Buffer
	w.Reset(&out)
	w.SetProtocol(3)
	w.Null()
	w.Reset(&out)
	w.Null()
	if err := w.Flush(); err != nil || out.String() != "$-1\r\n" || w.Protocol() != 2 {
		t.Fatalf("after Reset: %v, %q, RESP%d", err, out.String(), w.Protocol())
	}
	w = NewWriter(shortWriter{})
	w.SimpleString("OK")
	if err := w.Flush(); err == nil {
		t.Fatal("a short write went unreported")
	}
}

func TestWriterSetProtocolPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("SetProtocol(4) did not panic")
		}
	}()
	NewWriter(&bytes.Buffer{}).SetProtocol(4)
}

func TestWriterZeroAllocs(t *testing.T) {
	w := NewWriter(discard{})
	val := make([]byte, 64)
	big := make([]byte, directSize)
	for _, proto := range []int{2, 3} {
		w.SetProtocol(proto)
		allocs := testing.AllocsPerRun(1000, func() {
			w.SimpleString("OK")
			w.Error("ERR x")
			w.Int(123456)
			w.Bulk(val)
			w.Bulk(big)
			w.BulkString("abc")
			w.Null()
			w.NullArray()
			w.MapHeader(2)
			w.Double(3.14)
			w.Bool(true)
			w.Verbatim("txt", "hello")
			w.Flush()
		})
		if allocs != 0 {
			t.Errorf("RESP%d: %v allocs per batch", proto, allocs)
		}
	}
}

// discard is io.Discard without its ReaderFrom.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestWriterTCP sends a direct Bulk through a loopback TCP connection, whose
// vectored write is the path a server takes.
func TestWriterTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("xyz"), 1<<20)
	w := NewWriter(c)
	w.SimpleString("OK")
	w.Bulk(big)
	w.Int(7)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	want := "+OK\r\n$3145728\r\n" + string(big) + "\r\n:7\r\n"
	if b := <-got; string(b) != want {
		t.Fatalf("received %d bytes, want %d", len(b), len(want))
	}
}
