package strval

// DefaultMaxLen is Redis's default proto-max-bulk-len, 512 MiB: the longest
// string SETRANGE, APPEND and SETBIT may build.
const DefaultMaxLen = 512 << 20

// GetRange is GETRANGE: the bytes of v from start to end, both inclusive.
// Negative indexes count from the end (-1 is the last byte). If both are
// negative and start > end the answer is empty before anything is clamped;
// otherwise start and end are clamped to the string, and start > end (or an
// empty v) gives an empty result. The result is a new slice, never nil.
func GetRange(v []byte, start, end int64) []byte {
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		return []byte{}
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return []byte{}
	}
	return append([]byte{}, v[start:end+1]...)
}

// SetRange is SETRANGE: v (nil for a missing key) overwritten with val at
// offset, padded with zero bytes where offset lies past its end. maxLen is
// proto-max-bulk-len (DefaultMaxLen unless configured).
//
// A negative offset is ErrOffsetRange, whether or not the key exists. An
// empty val changes nothing, and is not checked against maxLen: changed is
// false and the reply is len(v), so a missing key stays missing (reply 0)
// rather than being created empty. Otherwise an offset+len(val) beyond
// maxLen is ErrStringTooLong; else newV is the string to store (with the
// "raw" encoding) and its length is the reply.
func SetRange(v []byte, offset int64, val []byte, maxLen int64) (newV []byte, changed bool, err error) {
	if offset < 0 {
		return nil, false, ErrOffsetRange
	}
	if len(val) == 0 {
		return v, false, nil
	}
	if err := checkLen(offset, int64(len(val)), maxLen); err != nil {
		return nil, false, err
	}
	end := offset + int64(len(val))
	out := make([]byte, max(end, int64(len(v))))
	copy(out, v)
	copy(out[offset:], val)
	return out, true, nil
}

// Append is APPEND: v (nil for a missing key) followed by val. Appending to
// an existing key fails with ErrStringTooLong when the result would exceed
// maxLen; a missing key simply takes val, as Redis does, without a check.
// The result is a new slice.
func Append(v []byte, found bool, val []byte, maxLen int64) ([]byte, error) {
	if found {
		if err := checkLen(int64(len(v)), int64(len(val)), maxLen); err != nil {
			return nil, err
		}
	}
	out := make([]byte, 0, len(v)+len(val))
	return append(append(out, v...), val...), nil
}

// checkLen is Redis's checkStringLength: size+add must not pass maxLen, and
// must not overflow on the way.
func checkLen(size, add, maxLen int64) error {
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	total := int64(uint64(size) + uint64(add))
	if total > maxLen || total < size || total < add {
		return ErrStringTooLong
	}
	return nil
}
