package frame

import (
	"encoding/binary"
	"errors"
	"io"
)

// TrailerLen is the size of a stream's trailer: tag 1, record count 8,
// CRC 4.
const TrailerLen = 13

// Writer writes a stream to an io.Writer: WriteHeader once, WriteBlock for
// each finished block, in order, and WriteTrailer once. It keeps the running
// checksum of every byte written and the count of records, which the
// trailer carries. It issues one Write per header, block and trailer and
// buffers nothing, so each block reaches the io.Writer whole.
//
// A Writer is not safe for concurrent use: one goroutine writes, however
// many build the blocks (see NewBlock). Errors from the io.Writer are
// returned unchanged, and a Write that reports fewer bytes than it was
// given but no error is returned as io.ErrShortWrite; after either, the
// stream is incomplete and the Writer should be dropped. Create one with
// NewWriter; the zero Writer is not usable.
type Writer struct {
	w     io.Writer
	crc   uint32 // CRC-32C of every byte written so far
	total uint64 // records in the blocks written
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// write writes p whole. An io.Writer that reports fewer bytes than it was
// given but no error has still not written them: that is io.ErrShortWrite,
// as bufio.Writer reports it, and the stream is incomplete.
func (fw *Writer) write(p []byte) error {
	fw.crc = Update(fw.crc, p)
	n, err := fw.w.Write(p)
	switch {
	case err != nil:
		return err
	case n < len(p):
		return io.ErrShortWrite
	case n > len(p):
		return errInvalidWrite
	}
	return nil
}

// errInvalidWrite is returned for an io.Writer that claims to have written
// more bytes than it was given.
var errInvalidWrite = errors.New("frame: invalid Write result")

// WriteHeader writes the header of a stream of format f carrying h, of
// version h.Version (0: f.Version). It panics if f.Magic is not 8 bytes, or
// if the version does not exist or cannot carry h.Meta.
func (fw *Writer) WriteHeader(f Format, h Header) error {
	var b [HeaderLen + 64]byte
	return fw.write(appendHeader(b[:0], f, h))
}

// WriteBlock writes block b, finished by CloseBlock, holding n records. The
// Writer does not keep b: the caller may reuse it as soon as WriteBlock
// returns.
func (fw *Writer) WriteBlock(b []byte, n uint32) error {
	if err := fw.write(b); err != nil {
		return err
	}
	fw.total += uint64(n)
	return nil
}

// WriteTrailer ends the stream: the record count and the checksum of every
// byte before the checksum itself.
func (fw *Writer) WriteTrailer() error {
	var b [TrailerLen]byte
	b[0] = EndTag
	binary.LittleEndian.PutUint64(b[1:], fw.total)
	binary.LittleEndian.PutUint32(b[9:], Update(fw.crc, b[:9]))
	return fw.write(b[:])
}
