package frame

import "encoding/binary"

// A record is a deadline and two length-prefixed fields, a key and a value:
//
//	record = deadline:i64 keylen:uvarint key[keylen] valuelen:uvarint value[valuelen]
//
// The deadline is wall-clock Unix nanoseconds, 0 for none, never negative.
// The functions below work on the caller's slices only and are safe for
// concurrent use on distinct ones.

// AppendDeadline begins a record: it appends the deadline, which must not
// be negative. The key field and the value field follow (OpenField,
// CloseField).
func AppendDeadline(dst []byte, deadline int64) []byte {
	return binary.LittleEndian.AppendUint64(dst, uint64(deadline))
}

// OpenField begins a length-prefixed field at the end of dst: it appends
// one byte of room for the length. The caller appends the field's bytes
// after it, then calls CloseField(dst, at) with at the length of dst before
// OpenField. An encoder can thus append a key or value straight into the
// block, with no intermediate buffer and, for a field shorter than 128
// bytes, no copy.
func OpenField(dst []byte) []byte { return append(dst, 0) }

// FieldLen returns the length of the field OpenField opened at offset at of
// dst: the bytes after its length byte. It is negative if dst was cut back
// before that byte (an encoder that dropped bytes it was given). A writer
// checks it against MaxKeyLen or MaxValueLen before CloseField.
func FieldLen(dst []byte, at int) int { return len(dst) - at - 1 }

// CloseField ends the field OpenField opened at offset at of dst, whose
// FieldLen must not be negative, by writing its length as a uvarint, and
// returns dst with the finished field. A length of 128 or more takes more
// than the byte OpenField reserved, so the field's bytes are shifted to
// make room.
func CloseField(dst []byte, at int) []byte {
	n := len(dst) - at - 1
	if n < 0x80 {
		dst[at] = byte(n)
		return dst
	}
	return closeLongField(dst, at, n)
}

// closeLongField is CloseField for a length n of 128 or more.
func closeLongField(dst []byte, at, n int) []byte {
	var l [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(l[:], uint64(n))
	dst = append(dst, l[:k-1]...)
	copy(dst[at+k:], dst[at+1:at+1+n])
	copy(dst[at:], l[:k])
	return dst
}

// SplitRecord splits the first record off a block payload: its deadline,
// its key and value (sub-slices of p) and the rest of p. A length beyond
// MaxKeyLen or MaxValueLen or beyond p, a malformed uvarint and a negative
// deadline are errors matching ErrCorrupt.
func SplitRecord(p []byte) (deadline int64, key, value, rest []byte, err error) {
	if len(p) < 8 {
		return 0, nil, nil, nil, corrupt("truncated deadline")
	}
	deadline = int64(binary.LittleEndian.Uint64(p))
	if deadline < 0 {
		return 0, nil, nil, nil, corrupt("negative deadline %d", deadline)
	}
	if key, p, err = splitField(p[8:], MaxKeyLen, "key"); err != nil {
		return 0, nil, nil, nil, err
	}
	if value, p, err = splitField(p, MaxValueLen, "value"); err != nil {
		return 0, nil, nil, nil, err
	}
	return deadline, key, value, p, nil
}

// splitField splits a uvarint-length-prefixed field off p, refusing a
// length beyond limit or beyond p.
func splitField(p []byte, limit int, what string) (field, rest []byte, err error) {
	n, k := binary.Uvarint(p)
	switch {
	case k <= 0:
		return nil, nil, corrupt("bad %s length", what)
	case n > uint64(limit):
		return nil, nil, corrupt("%s length %d exceeds the limit %d", what, n, limit)
	case n > uint64(len(p)-k):
		return nil, nil, corrupt("%s length %d runs past the block", what, n)
	}
	return p[k : k+int(n)], p[k+int(n):], nil
}
