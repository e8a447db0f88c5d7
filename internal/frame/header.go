package frame

import (
	"encoding/binary"
	"fmt"
)

// HeaderLen is the size of a stream's header: magic 8, version 4, flags 4,
// count 8, created 8, CRC 4.
const HeaderLen = 36

// Format names a stream format: what its header must start with. A Format
// is a plain value, safe to share; its zero value is not a valid format.
type Format struct {
	// Magic is the header's first 8 bytes, exactly 8 (the snapshot's is
	// "\x89SCSNAP\n": the high bit and the newline catch a file mangled
	// by a text-mode transfer).
	Magic string
	// Version is the only version a Reader accepts.
	Version uint32
	// Name is what errors call the format: "not a <Name> (magic ...)".
	Name string
}

// Header is what a stream's header carries besides its format. The header's
// flags field is always 0: none is defined, and a Reader refuses any other
// value rather than guess what it means.
type Header struct {
	// Count is the number of records the writer expected to write: a hint
	// for sizing, which the checksum vouches for but nothing compares
	// against the records. The trailer's count is authoritative.
	Count uint64
	// Created is when the stream was begun, Unix nanoseconds.
	Created int64
}

// check panics if f cannot be a header's format: that is a bug in the
// caller, not bad input.
func (f Format) check() {
	if len(f.Magic) != 8 {
		panic(fmt.Sprintf("frame: magic %q is not 8 bytes", f.Magic))
	}
}

// appendHeader appends f's header carrying h, checksum included.
func appendHeader(dst []byte, f Format, h Header) []byte {
	f.check()
	start := len(dst)
	dst = append(dst, f.Magic...)
	dst = binary.LittleEndian.AppendUint32(dst, f.Version)
	dst = binary.LittleEndian.AppendUint32(dst, 0) // flags: none defined
	dst = binary.LittleEndian.AppendUint64(dst, h.Count)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(h.Created))
	return binary.LittleEndian.AppendUint32(dst, Checksum(dst[start:]))
}

// parseHeader checks that b is an intact header of format f and returns
// what it carries. The magic is checked first, so that input of another
// kind is reported as such rather than as a checksum mismatch.
func parseHeader(b *[HeaderLen]byte, f Format) (Header, error) {
	if string(b[:8]) != f.Magic {
		return Header{}, corrupt("not a %s (magic %q)", f.Name, b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != f.Version {
		return Header{}, corrupt("format version %d, this build reads version %d", v, f.Version)
	}
	if Checksum(b[:HeaderLen-4]) != binary.LittleEndian.Uint32(b[HeaderLen-4:]) {
		return Header{}, corrupt("header checksum mismatch")
	}
	if fl := binary.LittleEndian.Uint32(b[12:]); fl != 0 {
		return Header{}, corrupt("unknown header flags %#x", fl)
	}
	return Header{
		Count:   binary.LittleEndian.Uint64(b[16:]),
		Created: int64(binary.LittleEndian.Uint64(b[24:])),
	}, nil
}
