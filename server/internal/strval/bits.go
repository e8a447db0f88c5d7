package strval

import (
	"bytes"
	"math/bits"
)

// ParseBitOffset parses the offset of GETBIT and SETBIT: an integer ParseInt
// accepts, not negative, whose byte (offset/8) lies below maxLen, the
// proto-max-bulk-len (DefaultMaxLen if maxLen ≤ 0). With the default that
// is offsets below 2^32. Anything else is ErrBitOffset.
func ParseBitOffset(b []byte, maxLen int64) (uint64, error) {
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	v, ok := ParseInt(b)
	if !ok || v < 0 || v>>3 >= maxLen {
		return 0, ErrBitOffset
	}
	return uint64(v), nil
}

// ParseBit parses SETBIT's value: "0" or "1" (as ParseInt reads them), else
// ErrBitValue. Redis parses the offset first.
func ParseBit(b []byte) (int, error) {
	v, ok := ParseInt(b)
	if !ok || v&^1 != 0 {
		return 0, ErrBitValue
	}
	return int(v), nil
}

// GetBit is GETBIT: bit offset of v, where bit 0 is the most significant bit
// of the first byte. Past the end of v it is 0.
func GetBit(v []byte, offset uint64) int {
	i := offset >> 3
	if i >= uint64(len(v)) {
		return 0
	}
	return int(v[i]>>(7-offset&7)) & 1
}

// SetBit is SETBIT: a copy of v (nil for a missing key) with bit offset set
// to bit (0 or 1), grown with zero bytes to reach it, and the bit's old value
// (the reply). Redis stores the result with the "raw" encoding, even when
// the bit was already set. offset must have passed ParseBitOffset.
func SetBit(v []byte, offset uint64, bit int) (newV []byte, old int) {
	i := offset >> 3
	out := make([]byte, max(uint64(len(v)), i+1))
	copy(out, v)
	mask := byte(1) << (7 - offset&7)
	if out[i]&mask != 0 {
		old = 1
	}
	if bit != 0 {
		out[i] |= mask
	} else {
		out[i] &^= mask
	}
	return out, old
}

// BitCountRange is the range BITCOUNT counts over, as given: Start and End
// are inclusive, negative counts from the end, and Bit says they index bits
// rather than bytes.
type BitCountRange struct {
	Start, End int64
	Bit        bool
}

// ParseBitCountArgs parses the arguments of BITCOUNT after the key: none
// (the whole string), "start end", or "start end BYTE|BIT" (any case). A
// single argument or more than three is ErrSyntax, a start or end ParseInt
// refuses is ErrNotInteger (start is checked first).
//
// Redis 7.0 looks the key up before it reads these arguments: for a missing
// key BITCOUNT replies 0 whatever follows, so call this only when the key
// exists. Redis also answers 0 as soon as start and end are both negative
// with start > end, before it reads the unit word, so "BITCOUNT k -1 -2 foo"
// is 0 rather than a syntax error; this returns such ranges without error
// and BitCount counts 0 for them.
func ParseBitCountArgs(args [][]byte) (BitCountRange, error) {
	switch len(args) {
	case 0:
		return BitCountRange{Start: 0, End: -1}, nil
	case 2, 3:
	default:
		return BitCountRange{}, ErrSyntax
	}
	start, ok := ParseInt(args[0])
	if !ok {
		return BitCountRange{}, ErrNotInteger
	}
	end, ok := ParseInt(args[1])
	if !ok {
		return BitCountRange{}, ErrNotInteger
	}
	r := BitCountRange{Start: start, End: end}
	if len(args) == 2 || (start < 0 && end < 0 && start > end) {
		return r, nil
	}
	switch {
	case bytes.EqualFold(args[2], []byte("bit")):
		r.Bit = true
	case bytes.EqualFold(args[2], []byte("byte")):
	default:
		return BitCountRange{}, ErrSyntax
	}
	return r, nil
}

// BitCount is BITCOUNT: the number of set bits of v between start and end
// inclusive, in bytes or, with unitBits, in bits. Negative indexes count
// from the end; both negative with start > end counts nothing; then both are
// clamped to the string and start > end counts nothing. The whole string is
// BitCount(v, 0, -1, false).
func BitCount(v []byte, start, end int64, unitBits bool) int64 {
	if start < 0 && end < 0 && start > end {
		return 0
	}
	total := int64(len(v))
	if unitBits {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 0
	}
	if !unitBits {
		return popcount(v[start : end+1])
	}
	n := popcount(v[start>>3 : end>>3+1])
	// Take back the bits of the first and last bytes that lie outside.
	n -= int64(bits.OnesCount8(v[start>>3] & ^byte(0xff>>(start&7))))
	n -= int64(bits.OnesCount8(v[end>>3] & byte(0xff>>(end&7+1))))
	return n
}

func popcount(b []byte) int64 {
	var n int
	for _, c := range b {
		n += bits.OnesCount8(c)
	}
	return int64(n)
}
