package resp

import (
	"io"
	"math"
	"net"
	"strconv"
)

// Writer sizes. Replies accumulate in one buffer written out by Flush; a
// buffer that reaches flushSize is written out at once, so a long batch of
// replies costs at most about 2*flushSize of memory. A bulk payload of at
// least directSize bytes is not copied: it is written straight from the
// caller's slice, together with what is buffered, in one vectored write.
const (
	flushSize  = 64 << 10
	directSize = 64 << 10
)

// Writer encodes replies in RESP2 or RESP3, appending them to a reused
// buffer; Flush writes the buffer to the connection in one Write. Writing a
// reply allocates nothing once the buffer has grown to its working size.
//
// The connection is written before Flush when the buffer reaches 64 KiB and
// for a Bulk of 64 KiB or more; an error from such a write is kept and
// returned by the next Flush, and the methods that encode replies report no
// errors themselves.
//
// A Writer belongs to one goroutine: none of its methods may be called
// concurrently. Its zero value is not usable; call NewWriter.
type Writer struct {
	w     io.Writer
	buf   []byte
	proto int
	err   error

	vec  [2][]byte   // the buffer and a direct payload,
	bufs net.Buffers // handed to one writev
}

// NewWriter returns a Writer of RESP2 replies to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, proto: 2}
}

// SetProtocol selects the protocol of the replies encoded from then on: 2
// (the default) or 3, as the client's HELLO asked. It panics on any other
// version: the caller validates HELLO's argument.
func (w *Writer) SetProtocol(v int) {
	if v != 2 && v != 3 {
		panic("resp: SetProtocol(" + strconv.Itoa(v) + "): the protocol is 2 or 3")
	}
	w.proto = v
}

// Protocol returns the protocol the Writer encodes: 2 or 3.
func (w *Writer) Protocol() int { return w.proto }

// Buffered returns the number of bytes encoded but not yet written.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes the buffered replies to the connection in one Write. After a
// write has failed, Flush discards what is buffered and returns that error.
func (w *Writer) Flush() error {
	if w.err == nil && len(w.buf) > 0 {
		n, err := w.w.Write(w.buf)
		if err == nil && n < len(w.buf) {
			err = io.ErrShortWrite
		}
		w.err = err
	}
	w.buf = w.buf[:0]
	return w.err
}

// Reset discards what is buffered and any error, and makes the Writer write
// RESP2 replies to w, as a new Writer would.
func (w *Writer) Reset(to io.Writer) {
	w.w, w.buf, w.proto, w.err = to, w.buf[:0], 2, nil
}

// SimpleString writes the status reply "+s", such as "+OK". A CR or LF in s
// is written as a space, so that no reply can break the protocol.
func (w *Writer) SimpleString(s string) {
	w.buf = append(w.buf, '+')
	w.line(s)
}

// Error writes the error reply "-msg". msg starts with the error code, as in
// "ERR unknown command" or "WRONGTYPE Operation against a key holding the
// wrong kind of value". A CR or LF in msg is written as a space, as Redis's
// addReplyErrorFormat does.
func (w *Writer) Error(msg string) {
	w.buf = append(w.buf, '-')
	w.line(msg)
}

// line appends s with CR and LF replaced by spaces, then CRLF.
func (w *Writer) line(s string) {
	n := len(w.buf)
	w.buf = append(w.buf, s...)
	for i, c := range w.buf[n:] {
		if c == '\r' || c == '\n' {
			w.buf[n+i] = ' '
		}
	}
	w.buf = append(w.buf, '\r', '\n')
	w.spill()
}

// Int writes the integer reply ":n".
func (w *Writer) Int(n int64) { w.header(':', n) }

// Bulk writes b as a bulk string. A b of 64 KiB or more is written to the
// connection at once, without a copy; a shorter one is copied, so the caller
// may change b as soon as Bulk returns either way.
func (w *Writer) Bulk(b []byte) {
	w.header('$', int64(len(b)))
	if len(b) < directSize {
		w.buf = append(w.buf, b...)
		w.buf = append(w.buf, '\r', '\n')
		w.spill()
		return
	}
	if w.err == nil {
		w.vec = [2][]byte{w.buf, b}
		w.bufs = w.vec[:]
		if len(w.buf) == 0 {
			w.bufs = w.vec[1:]
		}
		if _, err := w.bufs.WriteTo(w.w); err != nil {
			w.err = err
		}
		w.vec = [2][]byte{} // keep no reference to b
	}
	w.buf = append(w.buf[:0], '\r', '\n')
}

// BulkString writes s as a bulk string. A long s is copied through the
// buffer a part at a time, so the buffer stays small.
func (w *Writer) BulkString(s string) {
	w.header('$', int64(len(s)))
	for len(s) > flushSize {
		w.buf = append(w.buf, s[:flushSize]...)
		s = s[flushSize:]
		w.Flush()
	}
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
	w.spill()
}

// Null writes the null reply: "$-1" (RESP2's null bulk string) or "_".
func (w *Writer) Null() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
	} else {
		w.buf = append(w.buf, "$-1\r\n"...)
	}
	w.spill()
}

// NullArray writes the null array reply: "*-1" in RESP2, "_" in RESP3.
func (w *Writer) NullArray() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
	} else {
		w.buf = append(w.buf, "*-1\r\n"...)
	}
	w.spill()
}

// ArrayHeader starts an array of n replies, which the caller writes next.
func (w *Writer) ArrayHeader(n int) { w.header('*', int64(n)) }

// MapHeader starts a map of n key-value pairs, which the caller writes next
// as 2n replies: "%n" in RESP3, an array "*2n" in RESP2.
func (w *Writer) MapHeader(n int) {
	if w.proto == 3 {
		w.header('%', int64(n))
	} else {
		w.header('*', 2*int64(n))
	}
}

// SetHeader starts a set of n replies: "~n" in RESP3, an array in RESP2.
func (w *Writer) SetHeader(n int) { w.aggregate('~', n) }

// PushHeader starts an out-of-band push of n replies, such as a pub/sub
// message: ">n" in RESP3, an array in RESP2.
func (w *Writer) PushHeader(n int) { w.aggregate('>', n) }

func (w *Writer) aggregate(resp3 byte, n int) {
	if w.proto == 3 {
		w.header(resp3, int64(n))
	} else {
		w.header('*', int64(n))
	}
}

// Double writes f as Redis 7.0's addReplyDouble does: in RESP3 ",<text>", in
// RESP2 a bulk string of the same text. The text is C's "%.17g" (such as
// "0.10000000000000001", "1e+20", "-0"), with "inf", "-inf", "nan" and
// "-nan" for the values that are not finite.
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	text := appendDouble(tmp[:0], f)
	if w.proto == 3 {
		w.buf = append(w.buf, ',')
	} else {
		w.header('$', int64(len(text)))
	}
	w.buf = append(w.buf, text...)
	w.buf = append(w.buf, '\r', '\n')
	w.spill()
}

// appendDouble appends f formatted as C's printf("%.17g") formats it with
// glibc: Go's 'g' with 17 digits matches it for finite values.
func appendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		if math.Signbit(f) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// Bool writes "#t" or "#f" in RESP3, the integer 1 or 0 in RESP2.
func (w *Writer) Bool(b bool) {
	switch {
	case w.proto == 3 && b:
		w.buf = append(w.buf, "#t\r\n"...)
	case w.proto == 3:
		w.buf = append(w.buf, "#f\r\n"...)
	case b:
		w.buf = append(w.buf, ":1\r\n"...)
	default:
		w.buf = append(w.buf, ":0\r\n"...)
	}
	w.spill()
}

// Verbatim writes s as a verbatim string of the given format, such as "txt"
// or "mkd": in RESP3 "=<len>" then "fmt:" and s, where the format is cut or
// padded with spaces to three bytes as Redis does; in RESP2 a bulk string of
// s alone.
func (w *Writer) Verbatim(format, s string) {
	if w.proto != 3 {
		w.BulkString(s)
		return
	}
	w.header('=', int64(len(s))+4)
	for i := range 3 {
		c := byte(' ')
		if i < len(format) {
			c = format[i]
		}
		w.buf = append(w.buf, c)
	}
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
	w.spill()
}

// BigNumber writes the decimal integer s, which may exceed 64 bits, as
// "(s" in RESP3 and as a bulk string in RESP2. s is not checked.
func (w *Writer) BigNumber(s string) {
	if w.proto != 3 {
		w.BulkString(s)
		return
	}
	w.buf = append(w.buf, '(')
	w.line(s)
}

// header appends "<kind><n>\r\n".
func (w *Writer) header(kind byte, n int64) {
	w.buf = append(w.buf, kind)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
	w.spill()
}

// spill writes the buffer out once it has reached flushSize.
func (w *Writer) spill() {
	if len(w.buf) >= flushSize {
		w.Flush()
	}
}
