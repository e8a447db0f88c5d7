package resp

import (
	"bytes"
	"errors"
)

var crlf = []byte("\r\n")

// Kind is the type of a Reply.
type Kind uint8

// The kinds of RESP2 reply ParseReply reads.
const (
	KindSimple Kind = iota + 1 // +OK
	KindError                  // -ERR ...
	KindInt                    // :42
	KindBulk                   // $3 foo
	KindNull                   // $-1 or *-1
	KindArray                  // *2 ...
)

// Reply is one reply a server wrote, decoded. Str holds a simple string's,
// an error's or a bulk string's bytes (aliasing the parsed buffer), Int an
// integer, Elems an array's elements.
type Reply struct {
	Kind  Kind
	Str   []byte
	Int   int64
	Elems []Reply
}

// ErrMalformedReply is returned by ParseReply for bytes that are not one
// complete RESP2 reply.
var ErrMalformedReply = errors.New("resp: malformed reply")

// ParseReply decodes the first RESP2 reply in b and returns it with the
// bytes after it. It is the reading half of Writer for code that runs
// commands in process (the gRPC and HTTP APIs) and trusts its input: it
// checks framing, not limits. RESP3 types are not read.
func ParseReply(b []byte) (Reply, []byte, error) {
	return parseReply(b, 0)
}

func parseReply(b []byte, depth int) (Reply, []byte, error) {
	if len(b) == 0 || depth > 32 {
		return Reply{}, nil, ErrMalformedReply
	}
	i := bytes.Index(b, crlf)
	if i < 1 {
		return Reply{}, nil, ErrMalformedReply
	}
	line, rest := b[1:i], b[i+2:]
	switch b[0] {
	case '+':
		return Reply{Kind: KindSimple, Str: line}, rest, nil
	case '-':
		return Reply{Kind: KindError, Str: line}, rest, nil
	case ':':
		n, ok := parseInt(line)
		if !ok {
			return Reply{}, nil, ErrMalformedReply
		}
		return Reply{Kind: KindInt, Int: n}, rest, nil
	case '$':
		n, ok := parseInt(line)
		switch {
		case !ok || n < -1:
			return Reply{}, nil, ErrMalformedReply
		case n == -1:
			return Reply{Kind: KindNull}, rest, nil
		case n > int64(len(rest))-2 || rest[n] != '\r' || rest[n+1] != '\n':
			return Reply{}, nil, ErrMalformedReply
		}
		return Reply{Kind: KindBulk, Str: rest[:n:n]}, rest[n+2:], nil
	case '*':
		n, ok := parseInt(line)
		switch {
		case !ok || n < -1 || n > int64(len(rest)):
			return Reply{}, nil, ErrMalformedReply
		case n == -1:
			return Reply{Kind: KindNull}, rest, nil
		}
		r := Reply{Kind: KindArray, Elems: make([]Reply, n)}
		for j := range r.Elems {
			var err error
			if r.Elems[j], rest, err = parseReply(rest, depth+1); err != nil {
				return Reply{}, nil, err
			}
		}
		return r, rest, nil
	}
	return Reply{}, nil, ErrMalformedReply
}
