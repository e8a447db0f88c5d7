package frame

import (
	"encoding/binary"
	"io"
)

// Reader reads a stream from an io.Reader: ReadHeader once, then Next until
// it returns io.EOF. It reads exactly the stream's bytes, nothing after the
// trailer, and keeps the running checksum of every byte read.
//
// A Reader never allocates for a length it has not checked against the
// limits, and grows its one reusable buffer only as bytes actually arrive:
// a forged length in a short input costs at most about twice the bytes
// present. It holds one block at a time.
//
// A Reader is not safe for concurrent use. Create one with NewReader; the
// zero Reader is not usable.
type Reader struct {
	r       io.Reader
	off     int64  // bytes read
	crc     uint32 // CRC-32C of every byte read
	buf     []byte // the last block's payload and checksum; reused
	total   uint64 // records in the blocks read
	blocks  int    // blocks read
	blockAt int64  // offset of the last block
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// read fills p from the input. Running out of input is corruption
// (truncation); any other error is the reader's and is returned as such.
func (fr *Reader) read(p []byte) error {
	n, err := io.ReadFull(fr.r, p)
	fr.crc = Update(fr.crc, p[:n])
	fr.off += int64(n)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return corrupt("truncated at byte %d", fr.off)
	case err != nil:
		return err
	}
	return nil
}

// ReadHeader reads the stream's header and checks it is an intact one of
// format f, of a version from f.Oldest to f.Version: the magic, the
// version, the metadata's length if the version has metadata, the checksum
// and the flags, in that order. The Header it returns says which version
// it read. It panics if f.Magic is not 8 bytes.
func (fr *Reader) ReadHeader(f Format) (Header, error) {
	f.check()
	return fr.readHeader(f)
}

// Next reads the next block and returns its payload, verified against its
// checksum, and its record count, at least 1. The payload is valid until
// the next call. After the trailer, which it verifies (the checksum of the
// whole stream and the record count), Next returns io.EOF.
//
// Errors for damaged or truncated input match ErrCorrupt and say which
// block and byte offset; an error of the io.Reader is returned unchanged.
func (fr *Reader) Next() (payload []byte, count int, err error) {
	at := fr.off
	var f [FrameLen]byte
	if err := fr.read(f[:1]); err != nil {
		return nil, 0, err
	}
	switch f[0] {
	case BlockTag:
		if err := fr.read(f[1:]); err != nil {
			return nil, 0, err
		}
		fr.blocks++
		fr.blockAt = at
		n := binary.LittleEndian.Uint32(f[5:])
		count := binary.LittleEndian.Uint32(f[1:])
		switch {
		case n > MaxBlockLen:
			return nil, 0, corrupt("block %d (at byte %d): length %d exceeds the limit %d", fr.blocks, at, n, MaxBlockLen)
		case count == 0 || count > n/MinRecordLen:
			return nil, 0, corrupt("block %d (at byte %d): %d records cannot fit in %d bytes", fr.blocks, at, count, n)
		}
		b, err := fr.readBlock(int(n) + 4)
		if err != nil {
			return nil, 0, err
		}
		crc := Update(Checksum(f[:]), b[:n])
		if crc != binary.LittleEndian.Uint32(b[n:]) {
			return nil, 0, corrupt("block %d (at byte %d): checksum mismatch", fr.blocks, at)
		}
		fr.total += uint64(count)
		return b[:n], int(count), nil
	case EndTag:
		var t [TrailerLen - 1]byte
		if err := fr.read(t[:8]); err != nil {
			return nil, 0, err
		}
		want := fr.crc
		if err := fr.read(t[8:]); err != nil {
			return nil, 0, err
		}
		if binary.LittleEndian.Uint32(t[8:]) != want {
			return nil, 0, corrupt("file checksum mismatch")
		}
		if n := binary.LittleEndian.Uint64(t[:]); n != fr.total {
			return nil, 0, corrupt("trailer counts %d entries, the blocks hold %d", n, fr.total)
		}
		return nil, 0, io.EOF
	}
	return nil, 0, corrupt("unknown frame tag %#02x at byte %d", f[0], at)
}

// Records returns the number of records in the blocks read so far: after
// Next returned io.EOF, the stream's verified record count.
func (fr *Reader) Records() uint64 { return fr.total }

// Block returns the number of the block Next last read, counting from 1,
// and its byte offset in the stream, for errors about its records.
func (fr *Reader) Block() (n int, offset int64) { return fr.blocks, fr.blockAt }

// readBlock reads n bytes into the reusable buffer. A length read from the
// input is only an upper bound until the bytes arrive, so a buffer too small
// for n grows by doubling as data comes in.
func (fr *Reader) readBlock(n int) ([]byte, error) {
	if n <= cap(fr.buf) {
		b := fr.buf[:n]
		return b, fr.read(b)
	}
	b := fr.buf[:0]
	for len(b) < n {
		step := min(n-len(b), max(len(b), 64<<10))
		b = append(b, make([]byte, step)...)
		fr.buf = b
		if err := fr.read(b[len(b)-step:]); err != nil {
			return nil, err
		}
	}
	return b, nil
}
