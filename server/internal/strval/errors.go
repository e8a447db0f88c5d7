package strval

import "errors"

// Errors the string commands reply with. Their texts are Redis's replies,
// word for word.
var (
	// ErrNotInteger is Redis's reply to an argument or a stored value that
	// is not a 64-bit integer in canonical form.
	ErrNotInteger = errors.New("ERR value is not an integer or out of range")
	// ErrOverflow is INCR, INCRBY, DECR and DECRBY's reply when the result
	// does not fit in 64 bits.
	ErrOverflow = errors.New("ERR increment or decrement would overflow")
	// ErrDecrementOverflow is DECRBY's reply to a decrement of -2^63, which
	// cannot be negated.
	ErrDecrementOverflow = errors.New("ERR decrement would overflow")
	// ErrNotFloat is INCRBYFLOAT's reply when the stored value or the
	// increment is not a number string2ld accepts.
	ErrNotFloat = errors.New("ERR value is not a valid float")
	// ErrNaNOrInfinity is INCRBYFLOAT's reply when the sum is infinite or
	// not a number (an infinite operand, or an overflow of long double).
	ErrNaNOrInfinity = errors.New("ERR increment would produce NaN or Infinity")
	// ErrOffsetRange is SETRANGE's reply to a negative offset.
	ErrOffsetRange = errors.New("ERR offset is out of range")
	// ErrStringTooLong is the reply of SETRANGE and APPEND when the result
	// would be longer than proto-max-bulk-len.
	ErrStringTooLong = errors.New("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	// ErrBitOffset is the bit commands' reply to an offset that is not an
	// integer, is negative, or addresses a byte at or past proto-max-bulk-len.
	ErrBitOffset = errors.New("ERR bit offset is not an integer or out of range")
	// ErrBitValue is SETBIT's reply to a bit that is neither 0 nor 1.
	ErrBitValue = errors.New("ERR bit is not an integer or out of range")
	// ErrSyntax is Redis's generic reply to malformed arguments.
	ErrSyntax = errors.New("ERR syntax error")
	// ErrLCSLenAndIdx is LCS's reply when both LEN and IDX are given.
	ErrLCSLenAndIdx = errors.New("ERR If you want both the length and indexes, please just use IDX.")
	// ErrLCSTooLong is LCS's reply when a string is 2^32-2 bytes or longer.
	ErrLCSTooLong = errors.New("ERR String too long for LCS")
	// ErrLCSMemory is LCS's reply when its table of (len(a)+1)*(len(b)+1)
	// 32-bit cells would take more bytes than proto-max-bulk-len.
	ErrLCSMemory = errors.New("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
	// ErrExpireNXAndOthers is EXPIRE's reply when NX is given with XX, GT or LT.
	ErrExpireNXAndOthers = errors.New("ERR NX and XX, GT or LT options at the same time are not compatible")
	// ErrExpireGTAndLT is EXPIRE's reply when both GT and LT are given.
	ErrExpireGTAndLT = errors.New("ERR GT and LT options at the same time are not compatible")
	// ErrInvalidExpireTime matches (with errors.Is) every *ExpireTimeError.
	ErrInvalidExpireTime = errors.New("ERR invalid expire time")
)

// ExpireTimeError is the reply to an expire time that is out of range for
// its command: "ERR invalid expire time in 'set' command", the name being
// the command's, in lower case. errors.Is(err, ErrInvalidExpireTime) holds.
type ExpireTimeError struct {
	// Command is the command's name in lower case, e.g. "set" or "pexpire".
	Command string
}

// Error returns Redis's reply text.
func (e *ExpireTimeError) Error() string {
	return "ERR invalid expire time in '" + e.Command + "' command"
}

// Is reports whether target is ErrInvalidExpireTime.
func (e *ExpireTimeError) Is(target error) bool { return target == ErrInvalidExpireTime }

// UnsupportedOptionError is EXPIRE's reply to an option other than NX, XX,
// GT and LT: "ERR Unsupported option <opt>", the option as the client typed it.
type UnsupportedOptionError struct {
	// Option is the argument as given.
	Option string
}

// Error returns Redis's reply text.
func (e *UnsupportedOptionError) Error() string { return "ERR Unsupported option " + e.Option }
