package strval

import (
	"bytes"
	"math/big"
)

// Redis computes INCRBYFLOAT in C's long double, which on x86-64 is the x87
// 80-bit extended format: a 64-bit significand, exponents from -16382 to
// 16383, subnormals down to 2^-16445, and round-to-nearest-even. Values here
// are *big.Float at precision 64 kept inside that range, so each operation
// rounds exactly as the FPU does; float64 would not (SET f 10.1 then
// INCRBYFLOAT f 0.2 is "10.3" in Redis, 10.299999999999999 in float64).
const (
	// ldPrec is long double's significand width in bits.
	ldPrec = 64
	// ldMaxExp is the largest big.Float exponent (x = mant × 2^exp with
	// 0.5 ≤ mant < 1) of a finite long double, just below 2^16384.
	ldMaxExp = 16384
	// ldMinNormExp is the exponent of the smallest normal, 2^-16382.
	ldMinNormExp = -16381
	// ldSubShift is the scale of the subnormal grid: every subnormal is a
	// multiple of 2^-ldSubShift.
	ldSubShift = 16445
	// maxFloatLen bounds string2ld's input: Redis copies the string into a
	// MAX_LONG_DOUBLE_CHARS (5 KiB) buffer with its NUL and refuses longer.
	maxFloatLen = 5*1024 - 1
	// maxExpDigits caps a parsed exponent; anything past it over- or
	// underflows whatever the digits are.
	maxExpDigits = 1 << 30
)

// ParseFloat parses b as Redis's string2ld does with glibc's strtold: an
// optional sign, then a decimal number with optional fraction and e-exponent,
// a hexadecimal one ("0x1.8p3"), or "inf"/"infinity" in any case. The whole
// of b must be consumed: leading spaces, trailing garbage or a NUL byte make
// it fail, as do NaN, an empty b, 5120 bytes or more, and a value that
// overflows long double or is not zero but rounds to zero. A value that
// lands among the subnormals is accepted.
//
// The result is the long double strtold returns, correctly rounded, as a
// *big.Float of precision 64 (±Inf for "inf"; -0 for "-0"). It belongs to the
// caller.
func ParseFloat(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) > maxFloatLen {
		return nil, false
	}
	neg := false
	p := b
	if p[0] == '+' || p[0] == '-' {
		neg = p[0] == '-'
		p = p[1:]
	}
	if isInf(p) {
		return new(big.Float).SetPrec(ldPrec).SetInf(neg), true
	}
	if len(p) >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') {
		return parseHex(p[2:], neg)
	}
	return parseDec(p, neg)
}

// isInf reports whether p is "inf" or "infinity", in any case.
func isInf(p []byte) bool {
	return bytes.EqualFold(p, []byte("inf")) || bytes.EqualFold(p, []byte("infinity"))
}

// parseDec parses digits[.digits][e[±]digits], at least one digit in all.
func parseDec(p []byte, neg bool) (*big.Float, bool) {
	digits := make([]byte, 0, len(p))
	i, seen := 0, false
	for ; i < len(p) && isDigit(p[i]); i++ {
		digits, seen = append(digits, p[i]), true
	}
	frac := 0
	if i < len(p) && p[i] == '.' {
		for i++; i < len(p) && isDigit(p[i]); i++ {
			digits, seen = append(digits, p[i]), true
			frac++
		}
	}
	if !seen {
		return nil, false
	}
	exp, i, ok := parseExp(p, i, 'e', 'E')
	if !ok || i != len(p) {
		return nil, false
	}
	digits = bytes.TrimLeft(digits, "0")
	if len(digits) == 0 {
		return signedZero(neg), true
	}
	e10 := exp - int64(frac)
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		e10++
	}
	// The value lies in [10^(k-1+e10), 10^(k+e10)). The largest long double
	// is about 1.19e4932 and half the smallest subnormal about 1.82e-4951.
	k := int64(len(digits))
	if k-1+e10 >= 4933 {
		return nil, false
	}
	if k+e10 <= -4952 {
		return nil, false
	}
	num, _ := new(big.Int).SetString(string(digits), 10)
	den := big.NewInt(1)
	ten := big.NewInt(10)
	if e10 >= 0 {
		num.Mul(num, new(big.Int).Exp(ten, big.NewInt(e10), nil))
	} else {
		den.Exp(ten, big.NewInt(-e10), nil)
	}
	return roundLD(num, den, neg)
}

// parseHex parses the part after "0x": hexdigits[.hexdigits][p[±]digits],
// at least one hex digit in all. strtold would stop after the "0" of a bare
// "0x", leaving "x…" unconsumed, so that fails too.
func parseHex(p []byte, neg bool) (*big.Float, bool) {
	digits := make([]byte, 0, len(p))
	i, seen := 0, false
	for ; i < len(p) && isHex(p[i]); i++ {
		digits, seen = append(digits, p[i]), true
	}
	frac := int64(0)
	if i < len(p) && p[i] == '.' {
		for i++; i < len(p) && isHex(p[i]); i++ {
			digits, seen = append(digits, p[i]), true
			frac++
		}
	}
	if !seen {
		return nil, false
	}
	exp, i, ok := parseExp(p, i, 'p', 'P')
	if !ok || i != len(p) {
		return nil, false
	}
	digits = bytes.TrimLeft(digits, "0")
	if len(digits) == 0 {
		return signedZero(neg), true
	}
	num, _ := new(big.Int).SetString(string(digits), 16)
	e2 := exp - 4*frac
	// The value lies in [2^(h-1+e2), 2^(h+e2)).
	h := int64(num.BitLen())
	if h-1+e2 >= ldMaxExp {
		return nil, false
	}
	if h+e2 < -ldSubShift-1 {
		return nil, false
	}
	den := big.NewInt(1)
	if e2 >= 0 {
		num.Lsh(num, uint(e2))
	} else {
		den.Lsh(den, uint(-e2))
	}
	return roundLD(num, den, neg)
}

// parseExp parses an optional exponent at p[i:] introduced by lo or up. An
// exponent marker without digits is not part of the number (strtold stops
// before it), which the caller sees as i < len(p). ok is false only for
// malformed input the caller must refuse anyway. The value saturates at
// ±maxExpDigits.
func parseExp(p []byte, i int, lo, up byte) (exp int64, next int, ok bool) {
	if i >= len(p) || (p[i] != lo && p[i] != up) {
		return 0, i, true
	}
	j := i + 1
	neg := false
	if j < len(p) && (p[j] == '+' || p[j] == '-') {
		neg = p[j] == '-'
		j++
	}
	if j >= len(p) || !isDigit(p[j]) {
		return 0, i, true
	}
	for ; j < len(p) && isDigit(p[j]); j++ {
		if exp < maxExpDigits {
			exp = exp*10 + int64(p[j]-'0')
		}
	}
	if neg {
		exp = -exp
	}
	return exp, j, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func signedZero(neg bool) *big.Float {
	z := new(big.Float).SetPrec(ldPrec)
	if neg {
		z.Neg(z)
	}
	return z
}

// roundLD rounds num/den (both positive) to the nearest long double, ties to
// even, and applies the sign. It fails where strtold reports ERANGE and
// Redis refuses: overflow, or a non-zero value that rounds to zero.
func roundLD(num, den *big.Int, neg bool) (*big.Float, bool) {
	r := new(big.Float).SetPrec(ldPrec).Quo(new(big.Float).SetInt(num), new(big.Float).SetInt(den))
	e := r.MantExp(nil)
	if e > ldMaxExp {
		return nil, false
	}
	if e <= ldMinNormExp {
		// Below 2^-16381 the spacing of long doubles is 2^-16445 all the way
		// down (the subnormals, then the first binade of normals), so round
		// once on that grid rather than at 64 bits, which would keep bits
		// the FPU has no room for.
		q, rem := new(big.Int).QuoRem(new(big.Int).Lsh(num, ldSubShift), den, new(big.Int))
		switch c := rem.Lsh(rem, 1).Cmp(den); {
		case c > 0, c == 0 && q.Bit(0) == 1:
			q.Add(q, big.NewInt(1))
		}
		if q.Sign() == 0 {
			return nil, false
		}
		r.SetInt(q)
		r.SetMantExp(r, -ldSubShift)
	}
	if neg {
		r.Neg(r)
	}
	return r, true
}

// FormatFloat formats f as Redis's ld2string in LD_STR_HUMAN mode: printf's
// "%.17Lf" (exact decimal, rounded half to even at 17 fractional digits),
// then the trailing zeros of the fraction and a bare '.' dropped, and "-0"
// written "0". So 10.3 stays "10.3", 1e-20 becomes "0" and 1e300 is written
// out in its 301 integer digits. Infinities are "inf" and "-inf".
func FormatFloat(f *big.Float) []byte {
	if f.IsInf() {
		if f.Signbit() {
			return []byte("-inf")
		}
		return []byte("inf")
	}
	b := f.Append(nil, 'f', 17)
	if bytes.IndexByte(b, '.') >= 0 {
		b = bytes.TrimRight(b, "0")
		b = bytes.TrimSuffix(b, []byte("."))
	}
	if string(b) == "-0" {
		b = b[1:]
	}
	return b
}

// IncrByFloat is INCRBYFLOAT's arithmetic: it parses the stored value cur
// (zero when found is false) and incr with ParseFloat, adds them in long
// double and returns the sum formatted by FormatFloat, which is both what
// Redis stores and what it replies. A side ParseFloat refuses gives
// ErrNotFloat (the stored value is checked first); an infinite operand or a
// sum that overflows gives ErrNaNOrInfinity.
//
// Ordinary values cost a few small big.Int and big.Float operations; inputs
// of thousands of digits or near the ends of long double's range take up to
// about a millisecond.
func IncrByFloat(cur []byte, found bool, incr []byte) ([]byte, error) {
	v := new(big.Float).SetPrec(ldPrec)
	if found {
		var ok bool
		if v, ok = ParseFloat(cur); !ok {
			return nil, ErrNotFloat
		}
	}
	d, ok := ParseFloat(incr)
	if !ok {
		return nil, ErrNotFloat
	}
	if v.IsInf() || d.IsInf() {
		return nil, ErrNaNOrInfinity
	}
	// Subnormal sums need no care: two multiples of 2^-16445 add to one,
	// and a sum that small fits in 64 bits exactly.
	sum := new(big.Float).SetPrec(ldPrec).Add(v, d)
	if !sum.IsInf() && sum.Sign() != 0 && sum.MantExp(nil) > ldMaxExp {
		return nil, ErrNaNOrInfinity
	}
	return FormatFloat(sum), nil
}
