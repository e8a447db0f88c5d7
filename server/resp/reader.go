package resp

import (
	"bytes"
	"errors"
	"io"
)

// Buffer sizes. A Reader asks its connection for readSize bytes at a time,
// enough for a batch of pipelined commands in one syscall. Its buffer grows
// to hold one whole command, but only as the command's bytes arrive: a
// declared length is never allocated up front, so a client cannot make the
// server allocate by claiming a large argument. A buffer grown past keepSize
// is replaced by a readSize one once the big command is consumed, so an idle
// connection does not pin it.
const (
	readSize = 16 << 10
	keepSize = 64 << 10
	keepArgs = 1024 // argument slices longer than this are dropped likewise
)

// ProtocolError is a request Redis would reject with a protocol error. Msg is
// Redis's text, such as "Protocol error: invalid bulk length"; Redis replies
// "-ERR " + Msg + "\r\n" and closes the connection. Once a Reader has
// returned a ProtocolError it returns the same error from every later call.
type ProtocolError struct {
	Msg string
}

// Error returns e.Msg.
func (e *ProtocolError) Error() string { return e.Msg }

// Redis's protocol error texts (networking.c).
const (
	msgTooBigInline   = "Protocol error: too big inline request"
	msgUnbalanced     = "Protocol error: unbalanced quotes in request"
	msgTooBigMbulk    = "Protocol error: too big mbulk count string"
	msgInvalidMbulk   = "Protocol error: invalid multibulk length"
	msgUnauthMbulk    = "Protocol error: unauthenticated multibulk length"
	msgTooBigBulk     = "Protocol error: too big bulk count string"
	msgInvalidBulk    = "Protocol error: invalid bulk length"
	msgUnauthBulk     = "Protocol error: unauthenticated bulk length"
	msgExpectedDollar = "Protocol error: expected '$', got '"
)

// errInvalidRead reports an io.Reader that broke Read's contract.
var errInvalidRead = errors.New("resp: Read returned an invalid count")

// maxEmptyReads is how many (0, nil) Reads in a row fail with io.ErrNoProgress.
const maxEmptyReads = 100

// Reader reads commands from a client connection: multibulk requests
// ("*<n>\r\n$<len>\r\n<bytes>\r\n...") and inline ones (a line of
// space-separated, optionally quoted arguments), exactly as Redis 7.0 parses
// them (networking.c processMultibulkBuffer and processInlineBuffer). Like
// Redis it skips empty inline lines and multibulk counts <= 0, does not check
// the two bytes that follow a length line's '\r' or a bulk's payload, and
// does not see a line end that a NUL byte precedes.
//
// A Reader belongs to one goroutine: none of its methods may be called
// concurrently. Its zero value is not usable; call NewReader. Its memory is
// one buffer that holds the command being read (at least 16 KiB while
// commands are small) and two slices of per-argument headers.
type Reader struct {
	rd     io.Reader
	lim    Limits
	unauth bool

	// buf[start:end] holds the bytes read but not yet returned: the command
	// being parsed starts at start, and pos is the next byte to parse.
	buf             []byte
	start, pos, end int

	// While the line at pos is being looked for: how many of its bytes were
	// searched without finding its end, and whether a NUL byte hides it.
	scanned int
	stuck   bool

	// Multibulk state: arguments still to read (0 between commands) and the
	// length of the pending payload (-1 while its "$" line is awaited).
	left int
	bulk int

	spans []span   // the arguments read so far, relative to start
	args  [][]byte // the last command returned, aliasing buf

	err  error // a ProtocolError, returned from then on
	rerr error // a read error that came with bytes, returned once they are parsed
}

// span locates an argument at buf[start+off : start+off+n].
type span struct{ off, n int }

// NewReader returns a Reader of commands from rd within the limits lim (zero
// fields meaning their defaults). It starts authenticated, as a client of a
// server without a password is; see SetAuthenticated.
func NewReader(rd io.Reader, lim Limits) *Reader {
	return &Reader{rd: rd, lim: lim.normalized(), bulk: -1}
}

// SetLimits replaces the Reader's limits (zero fields meaning their
// defaults). They apply to the lines and lengths parsed from then on.
func (r *Reader) SetLimits(lim Limits) { r.lim = lim.normalized() }

// SetAuthenticated says whether the client has authenticated. Until it has,
// a server with a password applies Redis's tighter limits: a multibulk count
// above 10 fails with "Protocol error: unauthenticated multibulk length" and
// a bulk length above 16384 with "Protocol error: unauthenticated bulk
// length", checked after the general limits as Redis does. A server without a
// password never calls SetAuthenticated(false).
func (r *Reader) SetAuthenticated(ok bool) { r.unauth = !ok }

// Buffered returns the number of bytes read from the connection but not yet
// returned as commands. When it is 0 the client has nothing more in flight
// that the Reader has seen, so the connection loop flushes its replies: one
// Flush per batch of pipelined commands. A positive count may be only part
// of a command, whose rest ReadCommand will wait for.
func (r *Reader) Buffered() int {
	if r.left > 0 {
		return r.end - r.start
	}
	return r.end - r.pos
}

// ReadCommand returns the next command's arguments, reading from the
// connection as needed. args and the slices in it alias the Reader's buffer:
// they are valid only until the next call, which reuses them, so a caller
// that keeps an argument copies it. args is never empty.
//
// The error is io.EOF when the connection ends between commands,
// io.ErrUnexpectedEOF when it ends within one, a *ProtocolError for a request
// Redis would reject (sticky), or the connection's own error. After a
// connection error other than EOF, such as a deadline, a later call resumes
// where the Reader stopped.
//
// Reading a command allocates nothing unless it is larger than every earlier
// one, or than 64 KiB.
func (r *Reader) ReadCommand() (args [][]byte, err error) {
	if r.err != nil {
		return nil, r.err
	}
	r.release()
	for {
		done, err := r.parse()
		if err != nil {
			r.err = err
			return nil, err
		}
		if done {
			base := r.buf[r.start:]
			if cap(r.args) < len(r.spans) {
				r.args = make([][]byte, 0, len(r.spans))
			}
			for _, s := range r.spans {
				r.args = append(r.args, base[s.off:s.off+s.n:s.off+s.n])
			}
			return r.args, nil
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// release drops the previous command, whose arguments the caller may no
// longer use, and gives back the memory a big command made the Reader take.
func (r *Reader) release() {
	clear(r.args) // no stale reference keeps an old buffer alive
	r.args = r.args[:0]
	if r.left == 0 {
		r.start = r.pos
		if r.start == r.end {
			r.start, r.pos, r.end = 0, 0, 0
		}
		r.spans = r.spans[:0]
		if cap(r.args) > keepArgs {
			r.args, r.spans = nil, nil
		}
	}
	if len(r.buf) > keepSize && r.end-r.start <= readSize/2 {
		buf := make([]byte, readSize)
		r.end = copy(buf, r.buf[r.start:r.end])
		r.pos -= r.start
		r.start = 0
		r.buf = buf
	}
}

// parse advances through the buffered bytes. It reports true when a whole
// command is in r.spans, false when it needs more bytes.
func (r *Reader) parse() (bool, error) {
	for {
		if r.left == 0 { // between commands
			r.start = r.pos
			r.spans = r.spans[:0]
			if r.pos == r.end {
				return false, nil
			}
			if r.buf[r.pos] != '*' {
				i, ok, err := r.line('\n', msgTooBigInline)
				if !ok {
					return false, err
				}
				n := i
				if n > 0 && r.buf[r.pos+n-1] == '\r' {
					n--
				}
				if !r.splitInline(r.buf[r.pos:r.pos+n], r.pos-r.start) {
					return false, &ProtocolError{Msg: msgUnbalanced}
				}
				r.advance(i + 1)
				if len(r.spans) == 0 {
					continue // an empty line: Redis skips it
				}
				return true, nil
			}
			i, ok, err := r.lengthLine(msgTooBigMbulk)
			if !ok {
				return false, err
			}
			n, ok := parseInt(r.buf[r.pos+1 : r.pos+i])
			if !ok || n > int64(r.lim.MaxMultibulkLen) {
				return false, &ProtocolError{Msg: msgInvalidMbulk}
			}
			if n > unauthMaxMultibulkLen && r.unauth {
				return false, &ProtocolError{Msg: msgUnauthMbulk}
			}
			r.advance(i + 2)
			if n <= 0 {
				continue // "*0" and "*-1": Redis skips them
			}
			r.left, r.bulk = int(n), -1
		}
		if r.bulk < 0 {
			i, ok, err := r.lengthLine(msgTooBigBulk)
			if !ok {
				return false, err
			}
			if c := r.buf[r.pos]; c != '$' {
				return false, expectedDollar(c)
			}
			n, ok := parseInt(r.buf[r.pos+1 : r.pos+i])
			if !ok || n < 0 || n > r.lim.MaxBulkLen {
				return false, &ProtocolError{Msg: msgInvalidBulk}
			}
			if n > unauthMaxBulkLen && r.unauth {
				return false, &ProtocolError{Msg: msgUnauthBulk}
			}
			r.advance(i + 2)
			r.bulk = int(n)
		}
		if r.end-r.pos < r.bulk+2 {
			return false, nil
		}
		if len(r.spans) == cap(r.spans) {
			// Double, but never past the declared count: a client cannot
			// make the Reader allocate for arguments it has not sent.
			spans := make([]span, len(r.spans), len(r.spans)+min(max(len(r.spans), 8), r.left))
			copy(spans, r.spans)
			r.spans = spans
		}
		r.spans = append(r.spans, span{off: r.pos - r.start, n: r.bulk})
		r.advance(r.bulk + 2) // the two bytes after the payload go unchecked, as in Redis
		r.bulk = -1
		r.left--
		if r.left == 0 {
			return true, nil
		}
	}
}

// expectedDollar is Redis's error for a multibulk argument that does not
// start with '$'. Redis's addReplyErrorFormat turns CR and LF into spaces.
func expectedDollar(c byte) error {
	if c == '\r' || c == '\n' {
		c = ' '
	}
	return &ProtocolError{Msg: msgExpectedDollar + string([]byte{c}) + "'"}
}

// advance moves pos past n bytes, to the start of a new line.
func (r *Reader) advance(n int) {
	r.pos += n
	r.scanned, r.stuck = 0, false
}

// lengthLine finds the '\r' ending the "*<count>" or "$<length>" line at pos,
// returning its index relative to pos once the byte after it has arrived too
// (Redis skips that byte without looking at it).
func (r *Reader) lengthLine(tooBig string) (int, bool, error) {
	i, ok, err := r.line('\r', tooBig)
	if !ok || r.end-r.pos < i+2 {
		return 0, false, err
	}
	return i, true, nil
}

// line looks for the byte term ending the line at pos the way Redis does,
// with strchr, which stops at a NUL byte: a NUL before term hides it. It
// returns term's index relative to pos, or false while the line has not
// ended. The line fails with the protocol error tooBig once more than
// MaxInlineLen of its bytes have arrived without its end: term may be at
// index MaxInlineLen at most. (Redis checks whenever a read returns, so
// whether it accepts a longer line depends on how the bytes were split into
// reads; the Reader takes the strictest split, one byte per read, for a
// result that does not depend on timing.)
func (r *Reader) line(term byte, tooBig string) (int, bool, error) {
	limit := min(r.end, r.pos+r.lim.MaxInlineLen+1)
	if from := r.pos + r.scanned; !r.stuck && from < limit {
		i, nul := scan(r.buf[from:limit], term)
		switch {
		case nul:
			r.stuck = true
		case i >= 0:
			r.scanned = from + i - r.pos
			return r.scanned, true, nil
		default:
			r.scanned = limit - r.pos
		}
	}
	if r.end-r.pos > r.lim.MaxInlineLen {
		return 0, false, &ProtocolError{Msg: tooBig}
	}
	return 0, false, nil
}

// fill reads more bytes into the buffer, first making room: moving the
// pending command to the front, then growing the buffer if it is still
// short, doubling it but never past what the current argument is known to
// need (or a read's worth more than what is buffered). A long payload is thus
// read in ever larger reads straight into the place it is parsed from.
func (r *Reader) fill() error {
	if r.rerr != nil {
		err := r.rerr
		r.rerr = nil
		return r.readErr(err)
	}
	if r.start > 0 && len(r.buf)-r.end < readSize {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.pos -= r.start
		r.start = 0
	}
	if free := len(r.buf) - r.end; free < readSize {
		size := max(2*len(r.buf), readSize)
		need := r.end + 1
		if r.left > 0 && r.bulk >= 0 {
			need = r.pos + r.bulk + 2
			size = min(size, max(need, r.end+readSize))
		}
		// Grow only for bytes that have arrived: the buffer stays within
		// four times what it holds, however large a length was declared.
		if free == 0 || need > len(r.buf) && r.end >= len(r.buf)/2 {
			buf := make([]byte, size)
			copy(buf, r.buf[:r.end])
			r.buf = buf
			clear(r.args) // the old buffer must not stay reachable
		}
	}
	for range maxEmptyReads {
		n, err := r.rd.Read(r.buf[r.end:])
		if n < 0 || n > len(r.buf)-r.end {
			return errInvalidRead
		}
		r.end += n
		if err != nil {
			if n > 0 {
				r.rerr = err
				return nil
			}
			return r.readErr(err)
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// readErr turns the connection's io.EOF into io.ErrUnexpectedEOF when it
// cuts a command short.
func (r *Reader) readErr(err error) error {
	if err == io.EOF && (r.left > 0 || r.pos < r.end) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// scan returns the index of the first term byte in b, or -1, and whether a
// NUL byte comes before it. Lines are short, so a plain loop over the first
// bytes beats two bytes.IndexByte calls; a long line falls back to them.
func scan(b []byte, term byte) (int, bool) {
	const short = 32
	for i, c := range b[:min(len(b), short)] {
		switch c {
		case term:
			return i, false
		case 0:
			return -1, true
		}
	}
	if len(b) <= short {
		return -1, false
	}
	i := bytes.IndexByte(b[short:], term)
	upTo := b
	if i >= 0 {
		i += short
		upTo = b[:i]
	}
	if bytes.IndexByte(upTo[short:], 0) >= 0 {
		return -1, true
	}
	return i, false
}
