package aof

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// AppendCommand appends args to dst as one RESP array of bulk strings, the
// form every record of an incremental file takes.
func AppendCommand(dst []byte, args ...[]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// Limits a record must respect; a header past them is damage, not a
// record (they are Redis's request limits).
const (
	maxArgs    = 1 << 20
	maxBulkLen = 512 << 20
)

// CorruptError reports damage that is not a torn tail: bytes that are not
// a record, in the middle of a file or at its end.
type CorruptError struct {
	Offset int64 // where the bad record starts
	Msg    string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("aof: bad record at offset %d: %s", e.Offset, e.Msg)
}

// TruncatedError reports a file that ends inside a record (or inside a
// MULTI block): a write torn by a crash. Offset is the end of the last
// complete unit, where the file may be cut.
type TruncatedError struct {
	Offset int64
	Size   int64 // the file's size, when known
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("aof: truncated: last complete record ends at offset %d", e.Offset)
}

// Unwrap makes a TruncatedError match io.ErrUnexpectedEOF.
func (e *TruncatedError) Unwrap() error { return io.ErrUnexpectedEOF }

// Reader reads records from an incremental file. It is not safe for
// concurrent use.
type Reader struct {
	br  *bufio.Reader
	off int64 // bytes consumed
	buf []byte
}

// NewReader returns a Reader of the records in r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Offset is the number of bytes consumed: the end of the last record Next
// returned.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next record. Its slices are valid until the next call.
// At a clean end it returns io.EOF; inside a record, io.ErrUnexpectedEOF;
// on bytes that are not a record, a *CorruptError.
func (r *Reader) Next() ([][]byte, error) {
	start := r.off
	r.buf = r.buf[:0]
	n, err := r.header('*', start, true)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > maxArgs {
		return nil, &CorruptError{start, fmt.Sprintf("array of %d arguments", n)}
	}
	lens := make([]int, n)
	for i := range lens {
		l, err := r.header('$', start, false)
		if err != nil {
			return nil, err
		}
		if l < 0 || l > maxBulkLen {
			return nil, &CorruptError{start, fmt.Sprintf("bulk of %d bytes", l)}
		}
		lens[i] = len(r.buf)
		if err := r.bulk(int(l), start); err != nil {
			return nil, err
		}
	}
	args := make([][]byte, n)
	for i, at := range lens {
		end := len(r.buf)
		if i+1 < len(lens) {
			end = lens[i+1]
		}
		args[i] = r.buf[at:end:end]
	}
	return args, nil
}

// header reads "<kind><n>\r\n". first is true for a record's first byte:
// io.EOF there is a clean end.
func (r *Reader) header(kind byte, start int64, first bool) (int64, error) {
	line, err := r.br.ReadSlice('\n')
	r.off += int64(len(line))
	if err != nil {
		switch {
		case errors.Is(err, io.EOF) && first && len(line) == 0:
			return 0, io.EOF
		case errors.Is(err, io.EOF):
			return 0, io.ErrUnexpectedEOF
		case errors.Is(err, bufio.ErrBufferFull):
			return 0, &CorruptError{start, "header line too long"}
		}
		return 0, err
	}
	if len(line) < 3 || line[0] != kind || line[len(line)-2] != '\r' {
		return 0, &CorruptError{start, fmt.Sprintf("expected '%c', found %q", kind, clip(line))}
	}
	n, err := strconv.ParseInt(string(line[1:len(line)-2]), 10, 64)
	if err != nil {
		return 0, &CorruptError{start, fmt.Sprintf("bad length %q", clip(line))}
	}
	return n, nil
}

// bulk reads l bytes and the CRLF after them into r.buf, growing it with
// what arrives rather than with what the header claims.
func (r *Reader) bulk(l int, start int64) error {
	for l > 0 {
		chunk := min(l, 1<<20)
		at := len(r.buf)
		r.buf = append(r.buf, make([]byte, chunk)...)
		k, err := io.ReadFull(r.br, r.buf[at:])
		r.off += int64(k)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		l -= chunk
	}
	var crlf [2]byte
	k, err := io.ReadFull(r.br, crlf[:])
	r.off += int64(k)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if crlf != [2]byte{'\r', '\n'} {
		return &CorruptError{start, "bulk not followed by CRLF"}
	}
	return nil
}

func clip(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// Unit is what Scan hands on: one record, or the records of a MULTI ...
// EXEC block (without MULTI and EXEC), which must be applied together.
type Unit struct {
	Cmds  [][][]byte
	Multi bool
	// Offset is where the unit starts in the file.
	Offset int64
}

// Scan reads the records of r and calls fn for each unit, in order. It
// returns the offset at which the last complete unit ends and:
//   - nil at a clean end;
//   - a *TruncatedError if r ends inside a record or inside a MULTI block
//     (its Offset is the end of the last complete unit);
//   - a *CorruptError for anything else: garbage, a nested MULTI, an EXEC
//     without MULTI;
//   - fn's error, or the reader's.
//
// A unit's records are copies that fn may keep.
func Scan(r io.Reader, fn func(u Unit) error) (int64, error) {
	rd := NewReader(r)
	var good int64
	var block *Unit
	for {
		start := rd.Offset()
		args, err := rd.Next()
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				if block != nil {
					return good, &TruncatedError{Offset: good, Size: rd.Offset()}
				}
				return good, nil
			case errors.Is(err, io.ErrUnexpectedEOF):
				return good, &TruncatedError{Offset: good, Size: rd.Offset()}
			}
			return good, err
		}
		name := string(args[0])
		switch {
		case equalFold(name, "MULTI"):
			if block != nil {
				return good, &CorruptError{start, "MULTI inside MULTI"}
			}
			block = &Unit{Multi: true, Offset: start}
			continue
		case equalFold(name, "EXEC"):
			if block == nil {
				return good, &CorruptError{start, "EXEC without MULTI"}
			}
			u := *block
			block = nil
			if err := fn(u); err != nil {
				return good, err
			}
			good = rd.Offset()
			continue
		}
		own := make([][]byte, len(args))
		for i, a := range args {
			own[i] = append([]byte(nil), a...)
		}
		if block != nil {
			block.Cmds = append(block.Cmds, own)
			continue
		}
		if err := fn(Unit{Cmds: [][][]byte{own}, Offset: start}); err != nil {
			return good, err
		}
		good = rd.Offset()
	}
}

func equalFold(s, upper string) bool {
	if len(s) != len(upper) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

// AppendArray appends the header of a RESP array of n elements.
func AppendArray(dst []byte, n int) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '\r', '\n')
}

// AppendBulk appends b as a RESP bulk string.
func AppendBulk(dst []byte, b []byte) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// AppendBulkString appends s as a RESP bulk string.
func AppendBulkString(dst []byte, s string) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, s...)
	return append(dst, '\r', '\n')
}

// Multi and Exec are the records that open and close a transaction block.
var (
	Multi = []byte("*1\r\n$5\r\nMULTI\r\n")
	Exec  = []byte("*1\r\n$4\r\nEXEC\r\n")
)
