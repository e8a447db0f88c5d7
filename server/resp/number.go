package resp

import "math"

// parseInt parses a decimal integer as Redis's string2ll does, which decides
// which lengths and counts a request may carry: an optional '-', then "0"
// alone or a digit 1-9 followed by digits; no '+', no spaces, no leading
// zeros, no "-0", fewer than 21 bytes, and within int64. Anything else,
// including an overflow, is not a number (ok false).
func parseInt(b []byte) (n int64, ok bool) {
	if len(b) == 0 || len(b) >= 21 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
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
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
