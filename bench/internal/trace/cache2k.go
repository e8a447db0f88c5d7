package trace

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ReadCache2k parses cache2k binary traces: a flat run of big-endian int32
// keys (Java's DataInputStream.readInt), no header. The key is taken as its
// 32 unsigned bits: orm-busy sets the sign bit for some object types, and the
// key is opaque anyway. A trailing partial record is an error.
func ReadCache2k(r io.Reader) ([]uint64, error) {
	var keys []uint64
	br := bufio.NewReaderSize(r, 1<<16)
	var rec [4]byte
	for {
		n, err := io.ReadFull(br, rec[:])
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: %d trailing bytes after record %d", ErrFormat, n, len(keys))
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, uint64(binary.BigEndian.Uint32(rec[:])))
	}
}
