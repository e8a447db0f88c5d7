package strval

import (
	"math"
	"strconv"
)

// maxIntLen is the longest string ParseInt looks at: Redis's LONG_STR_SIZE,
// one more than the 20 bytes of "-9223372036854775808".
const maxIntLen = 21

// ParseInt parses b as Redis's string2ll does: an optional '-' and decimal
// digits, nothing else. No '+', no spaces, no leading zeros ("0" is the only
// way to write zero; "-0" and "007" are refused), at most 21 bytes, and the
// value must fit in an int64.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > maxIntLen {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	p := b
	if neg {
		p = p[1:]
		if len(p) == 0 {
			return 0, false
		}
	}
	if p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true // -(1<<63) wraps to itself, which is right
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// ParseIntArg is ParseInt for a command argument: it returns ErrNotInteger
// where ParseInt returns false.
func ParseIntArg(b []byte) (int64, error) {
	v, ok := ParseInt(b)
	if !ok {
		return 0, ErrNotInteger
	}
	return v, nil
}

// IncrBy is INCR, INCRBY and DECR's arithmetic: it adds delta to the integer
// stored in cur (zero when found is false) and returns the new value both as
// the bytes to store and as the number to reply with. A stored value that
// ParseInt refuses gives ErrNotInteger; a sum outside int64 gives
// ErrOverflow. The result is always stored with the "int" encoding.
func IncrBy(cur []byte, found bool, delta int64) ([]byte, int64, error) {
	var v int64
	if found {
		var ok bool
		if v, ok = ParseInt(cur); !ok {
			return nil, 0, ErrNotInteger
		}
	}
	if (delta < 0 && v < 0 && delta < math.MinInt64-v) ||
		(delta > 0 && v > 0 && delta > math.MaxInt64-v) {
		return nil, 0, ErrOverflow
	}
	v += delta
	return strconv.AppendInt(nil, v, 10), v, nil
}

// DecrBy is DECRBY: IncrBy with -delta, except that a delta of -2^63 gives
// ErrDecrementOverflow whatever the key holds (Redis checks the argument
// before it looks the key up).
func DecrBy(cur []byte, found bool, delta int64) ([]byte, int64, error) {
	if delta == math.MinInt64 {
		return nil, 0, ErrDecrementOverflow
	}
	return IncrBy(cur, found, -delta)
}
