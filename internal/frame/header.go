package frame

import (
	"encoding/binary"
	"fmt"
)

// HeaderLen is the size of a stream's header without metadata: magic 8,
// version 4, flags 4, count 8, created 8, CRC 4. A version that carries
// metadata (Format.MetaSince) puts its length (4 bytes) and its bytes
// before the CRC, so its header is HeaderLen+4+len(Header.Meta) bytes.
const HeaderLen = 36

// MaxMetaLen is the longest header metadata a Reader accepts: 64 KiB.
const MaxMetaLen = 64 << 10

// Format names a stream format: what its header must start with, and which
// versions of it exist. A Format is a plain value, safe to share; its zero
// value is not a valid format.
type Format struct {
	// Magic is the header's first 8 bytes, exactly 8 (the snapshot's is
	// "\x89SCSNAP\n": the high bit and the newline catch a file mangled
	// by a text-mode transfer).
	Magic string
	// Version is the version a Writer writes by default, and the newest a
	// Reader accepts.
	Version uint32
	// Oldest is the oldest version a Reader accepts; 0 means Version only.
	Oldest uint32
	// MetaSince is the first version whose header carries metadata
	// (Header.Meta); 0 means none does.
	MetaSince uint32
	// Name is what errors call the format: "not a <Name> (magic ...)".
	Name string
}

// Header is what a stream's header carries besides its format. The header's
// flags field is always 0: none is defined, and a Reader refuses any other
// value rather than guess what it means.
type Header struct {
	// Version is the stream's format version. A Reader sets it to the
	// version it read; a Writer writes it, 0 meaning Format.Version.
	Version uint32
	// Count is the number of records the writer expected to write: a hint
	// for sizing, which the checksum vouches for but nothing compares
	// against the records. The trailer's count is authoritative.
	Count uint64
	// Created is when the stream was begun, Unix nanoseconds.
	Created int64
	// Meta is what the stream says about itself, for versions that carry
	// it (Format.MetaSince): bytes the format's user defines, at most
	// MaxMetaLen, covered by the header's checksum. It must be empty for
	// a version without it.
	Meta []byte
}

// check panics if f cannot be a header's format: that is a bug in the
// caller, not bad input.
func (f Format) check() {
	if len(f.Magic) != 8 {
		panic(fmt.Sprintf("frame: magic %q is not 8 bytes", f.Magic))
	}
}

// oldest returns the oldest version a Reader accepts.
func (f Format) oldest() uint32 {
	if f.Oldest == 0 {
		return f.Version
	}
	return f.Oldest
}

// HasMeta reports whether version v of f carries metadata.
func (f Format) HasMeta(v uint32) bool { return f.MetaSince != 0 && v >= f.MetaSince }

// appendHeader appends f's header carrying h, checksum included. It panics
// for a header the format cannot carry (a version out of range, metadata
// for a version without it, or over MaxMetaLen): that is the caller's bug.
func appendHeader(dst []byte, f Format, h Header) []byte {
	f.check()
	v := h.Version
	if v == 0 {
		v = f.Version
	}
	switch {
	case v < f.oldest() || v > f.Version:
		panic(fmt.Sprintf("frame: version %d of %s does not exist", v, f.Name))
	case len(h.Meta) > 0 && !f.HasMeta(v):
		panic(fmt.Sprintf("frame: version %d of %s carries no metadata", v, f.Name))
	case len(h.Meta) > MaxMetaLen:
		panic(fmt.Sprintf("frame: %d bytes of metadata, more than %d", len(h.Meta), MaxMetaLen))
	}
	start := len(dst)
	dst = append(dst, f.Magic...)
	dst = binary.LittleEndian.AppendUint32(dst, v)
	dst = binary.LittleEndian.AppendUint32(dst, 0) // flags: none defined
	dst = binary.LittleEndian.AppendUint64(dst, h.Count)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(h.Created))
	if f.HasMeta(v) {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(h.Meta)))
		dst = append(dst, h.Meta...)
	}
	return binary.LittleEndian.AppendUint32(dst, Checksum(dst[start:]))
}

// readHeader reads and checks an intact header of format f: the magic
// first, so that input of another kind is reported as such rather than as
// a checksum mismatch, then the version, the metadata's length (against
// MaxMetaLen, before reading it), the checksum and the flags.
func (fr *Reader) readHeader(f Format) (Header, error) {
	var fixed [HeaderLen - 4]byte
	if err := fr.read(fixed[:]); err != nil {
		return Header{}, err
	}
	if string(fixed[:8]) != f.Magic {
		return Header{}, corrupt("not a %s (magic %q)", f.Name, fixed[:8])
	}
	v := binary.LittleEndian.Uint32(fixed[8:])
	if v < f.oldest() || v > f.Version {
		if f.oldest() == f.Version {
			return Header{}, corrupt("format version %d, this build reads version %d", v, f.Version)
		}
		return Header{}, corrupt("format version %d, this build reads versions %d to %d", v, f.oldest(), f.Version)
	}
	crc := Checksum(fixed[:])
	h := Header{
		Version: v,
		Count:   binary.LittleEndian.Uint64(fixed[16:]),
		Created: int64(binary.LittleEndian.Uint64(fixed[24:])),
	}
	if f.HasMeta(v) {
		var n [4]byte
		if err := fr.read(n[:]); err != nil {
			return Header{}, err
		}
		crc = Update(crc, n[:])
		size := binary.LittleEndian.Uint32(n[:])
		if size > MaxMetaLen {
			return Header{}, corrupt("header metadata length %d exceeds the limit %d", size, MaxMetaLen)
		}
		h.Meta = make([]byte, size)
		if err := fr.read(h.Meta); err != nil {
			return Header{}, err
		}
		crc = Update(crc, h.Meta)
	}
	var sum [4]byte
	if err := fr.read(sum[:]); err != nil {
		return Header{}, err
	}
	if crc != binary.LittleEndian.Uint32(sum[:]) {
		return Header{}, corrupt("header checksum mismatch")
	}
	if fl := binary.LittleEndian.Uint32(fixed[12:]); fl != 0 {
		return Header{}, corrupt("unknown header flags %#x", fl)
	}
	return h, nil
}
