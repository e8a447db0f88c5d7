package servertest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The type bytes of RESP2 and RESP3 replies; Reply.Kind holds one of them.
const (
	KindSimple    = '+' // simple string
	KindError     = '-' // simple error
	KindInteger   = ':' // integer
	KindBulk      = '$' // bulk string; $-1 is RESP2's null
	KindArray     = '*' // array; *-1 is RESP2's null array
	KindNull      = '_' // RESP3 null
	KindDouble    = ',' // RESP3 double
	KindBoolean   = '#' // RESP3 boolean
	KindBlobError = '!' // RESP3 bulk error
	KindVerbatim  = '=' // RESP3 verbatim string ("txt:" prefix included in Str)
	KindBigNumber = '(' // RESP3 big number
	KindMap       = '%' // RESP3 map
	KindSet       = '~' // RESP3 set
	KindPush      = '>' // RESP3 push
	KindAttribute = '|' // RESP3 attribute; never a Reply's Kind, see Reply.Attrs
)

// Limits on what ReadReply accepts, so that a garbled stream fails fast
// instead of allocating without bound.
const (
	maxBulk  = 512 << 20
	maxElems = 1 << 24
	maxDepth = 64
)

// Reply is one parsed RESP reply with the exact bytes it was read from.
// A Reply is a plain value: safe to share between goroutines once read.
type Reply struct {
	// Kind is the reply's type byte, one of the Kind constants.
	Kind byte
	// Str is the payload of every non-aggregate reply: the text of simple
	// strings, errors, integers, doubles, booleans ("t"/"f") and big
	// numbers, and the body of bulk strings, bulk errors and verbatim
	// strings (whose "txt:" prefix stays in Str).
	Str string
	// Nil is set for RESP3's null and for RESP2's null bulk string and null
	// array ($-1, *-1); Kind tells which.
	Nil bool
	// Elems holds the elements of arrays, sets and pushes, and the keys and
	// values of maps, alternating (key, value, key, value...).
	Elems []Reply
	// Attrs holds the keys and values, alternating, of a RESP3 attribute
	// that preceded this reply; nil without one.
	Attrs []Reply
	// Raw is the reply exactly as it came off the wire, attribute included.
	Raw []byte

	start, end int // offsets of Raw in the parser's buffer while parsing
}

// IsError reports whether r is a simple or bulk error.
func (r Reply) IsError() bool { return r.Kind == KindError || r.Kind == KindBlobError }

// IsAggregate reports whether r holds elements (array, set, push or map).
func (r Reply) IsAggregate() bool {
	switch r.Kind {
	case KindArray, KindSet, KindPush, KindMap:
		return !r.Nil
	}
	return false
}

// Int returns the value of an integer reply.
func (r Reply) Int() (int64, error) {
	if r.Kind != KindInteger {
		return 0, fmt.Errorf("servertest: %s is not an integer reply", r)
	}
	return strconv.ParseInt(r.Str, 10, 64)
}

// String renders r for humans, roughly as redis-cli does: a Go-quoted string
// for strings and errors, brackets for aggregates.
func (r Reply) String() string {
	var b strings.Builder
	r.format(&b)
	return b.String()
}

func (r Reply) format(b *strings.Builder) {
	if len(r.Attrs) > 0 {
		b.WriteString("|")
		Reply{Kind: KindMap, Elems: r.Attrs}.format(b)
		b.WriteString(" ")
	}
	switch {
	case r.Nil:
		b.WriteString("(nil)")
	case r.IsAggregate():
		open, close := "[", "]"
		switch r.Kind {
		case KindMap:
			open, close = "{", "}"
		case KindSet:
			open, close = "~{", "}"
		case KindPush:
			open, close = ">[", "]"
		}
		b.WriteString(open)
		for i, e := range r.Elems {
			if i > 0 {
				if r.Kind == KindMap && i%2 == 1 {
					b.WriteString(": ")
				} else {
					b.WriteString(", ")
				}
			}
			e.format(b)
		}
		b.WriteString(close)
	case r.Kind == KindError || r.Kind == KindBlobError:
		fmt.Fprintf(b, "(error) %q", r.Str)
	case r.Kind == KindInteger || r.Kind == KindDouble || r.Kind == KindBigNumber || r.Kind == KindBoolean:
		fmt.Fprintf(b, "(%c) %s", r.Kind, r.Str)
	default:
		fmt.Fprintf(b, "%q", r.Str)
	}
}

// Encode writes r in RESP form from its fields (not from Raw): what a
// server would send for it. Tests that rewrite parts of a reply compare
// Encode's output. Attributes are written before the reply.
func (r Reply) Encode() []byte {
	var b bytes.Buffer
	r.encode(&b)
	return b.Bytes()
}

func (r Reply) encode(b *bytes.Buffer) {
	if len(r.Attrs) > 0 {
		fmt.Fprintf(b, "|%d\r\n", len(r.Attrs)/2)
		for _, e := range r.Attrs {
			e.encode(b)
		}
	}
	switch r.Kind {
	case KindNull:
		b.WriteString("_\r\n")
	case KindBulk, KindBlobError, KindVerbatim:
		if r.Nil {
			fmt.Fprintf(b, "%c-1\r\n", r.Kind)
			return
		}
		fmt.Fprintf(b, "%c%d\r\n%s\r\n", r.Kind, len(r.Str), r.Str)
	case KindArray, KindSet, KindPush, KindMap:
		if r.Nil {
			fmt.Fprintf(b, "%c-1\r\n", r.Kind)
			return
		}
		n := len(r.Elems)
		if r.Kind == KindMap {
			n /= 2
		}
		fmt.Fprintf(b, "%c%d\r\n", r.Kind, n)
		for _, e := range r.Elems {
			e.encode(b)
		}
	default:
		fmt.Fprintf(b, "%c%s\r\n", r.Kind, r.Str)
	}
}

// ErrProtocol is wrapped by every error ReadReply returns for bytes that
// are not a valid RESP reply (as opposed to I/O errors).
var ErrProtocol = errors.New("servertest: protocol error")

// ReadReply reads exactly one reply (with its attribute, if any) from r.
// Errors wrap ErrProtocol for malformed input; I/O errors, io.EOF included,
// are returned as they are (a stream that ends inside a reply gives
// io.ErrUnexpectedEOF). Streamed RESP3 strings and aggregates ($?, *?) are
// not supported: Redis never sends them.
func ReadReply(r *bufio.Reader) (Reply, error) {
	p := parser{r: r}
	rep, err := p.reply(0)
	if err != nil {
		if errors.Is(err, io.EOF) && len(p.buf) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return Reply{}, err
	}
	p.fixRaw(&rep)
	return rep, nil
}

type parser struct {
	r   *bufio.Reader
	buf []byte // every byte of the reply read so far
}

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// line reads one \r\n-terminated line and returns it without the \r\n.
func (p *parser) line() (string, error) {
	start := len(p.buf)
	for {
		chunk, err := p.r.ReadSlice('\n')
		p.buf = append(p.buf, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
		if len(p.buf)-start > maxBulk {
			return "", protoErr("line longer than %d bytes", maxBulk)
		}
	}
	s := p.buf[start:]
	if len(s) < 2 || s[len(s)-2] != '\r' {
		return "", protoErr("line %q does not end in CRLF", s)
	}
	return string(s[:len(s)-2]), nil
}

func (p *parser) length(s string, kind byte) (int, error) {
	if s == "?" {
		return 0, protoErr("streamed %c replies are not supported", kind)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 {
		return 0, protoErr("bad length %q after %c", s, kind)
	}
	return n, nil
}

func (p *parser) reply(depth int) (Reply, error) {
	if depth > maxDepth {
		return Reply{}, protoErr("replies nested deeper than %d", maxDepth)
	}
	start := len(p.buf)
	l, err := p.line()
	if err != nil {
		return Reply{}, err
	}
	if l == "" {
		return Reply{}, protoErr("empty line where a reply was expected")
	}
	kind, rest := l[0], l[1:]
	rep := Reply{Kind: kind, start: start}
	switch kind {
	case KindSimple, KindError:
		rep.Str = rest
	case KindInteger:
		if _, err := strconv.ParseInt(rest, 10, 64); err != nil {
			return Reply{}, protoErr("bad integer %q", rest)
		}
		rep.Str = rest
	case KindDouble:
		if _, err := strconv.ParseFloat(rest, 64); err != nil && rest != "inf" && rest != "-inf" && rest != "nan" {
			return Reply{}, protoErr("bad double %q", rest)
		}
		rep.Str = rest
	case KindBoolean:
		if rest != "t" && rest != "f" {
			return Reply{}, protoErr("bad boolean %q", rest)
		}
		rep.Str = rest
	case KindBigNumber:
		digits := strings.TrimPrefix(rest, "-")
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return Reply{}, protoErr("bad big number %q", rest)
		}
		rep.Str = rest
	case KindNull:
		if rest != "" {
			return Reply{}, protoErr("bad null %q", l)
		}
		rep.Nil = true
	case KindBulk, KindBlobError, KindVerbatim:
		n, err := p.length(rest, kind)
		if err != nil {
			return Reply{}, err
		}
		if n == -1 {
			if kind != KindBulk {
				return Reply{}, protoErr("null %c reply", kind)
			}
			rep.Nil = true
			break
		}
		if n > maxBulk {
			return Reply{}, protoErr("bulk of %d bytes", n)
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(p.r, body); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Reply{}, err
		}
		p.buf = append(p.buf, body...)
		if body[n] != '\r' || body[n+1] != '\n' {
			return Reply{}, protoErr("bulk of %d bytes not followed by CRLF", n)
		}
		rep.Str = string(body[:n])
		if kind == KindVerbatim && (n < 4 || rep.Str[3] != ':') {
			return Reply{}, protoErr("verbatim string %q without a format prefix", rep.Str)
		}
	case KindArray, KindSet, KindPush, KindMap, KindAttribute:
		n, err := p.length(rest, kind)
		if err != nil {
			return Reply{}, err
		}
		if n == -1 {
			if kind != KindArray {
				return Reply{}, protoErr("null %c reply", kind)
			}
			rep.Nil = true
			break
		}
		if kind == KindMap || kind == KindAttribute {
			n *= 2
		}
		if n > maxElems {
			return Reply{}, protoErr("aggregate of %d elements", n)
		}
		elems := make([]Reply, n)
		for i := range elems {
			if elems[i], err = p.reply(depth + 1); err != nil {
				return Reply{}, err
			}
		}
		if kind == KindAttribute {
			// An attribute decorates the reply that follows it.
			next, err := p.reply(depth + 1)
			if err != nil {
				return Reply{}, err
			}
			if next.Attrs != nil {
				return Reply{}, protoErr("two attributes in a row")
			}
			next.Attrs = elems
			next.start = start
			return next, nil
		}
		rep.Elems = elems
	default:
		return Reply{}, protoErr("unknown reply type %q in line %q", kind, l)
	}
	rep.end = len(p.buf)
	return rep, nil
}

// fixRaw points every Raw into the finished buffer: offsets are recorded
// while parsing because the buffer may move as it grows.
func (p *parser) fixRaw(r *Reply) {
	r.Raw = p.buf[r.start:r.end:r.end]
	for i := range r.Elems {
		p.fixRaw(&r.Elems[i])
	}
	for i := range r.Attrs {
		p.fixRaw(&r.Attrs[i])
	}
}
