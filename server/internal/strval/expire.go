package strval

import (
	"bytes"
	"math"
	"strings"
	"time"
)

// Unit is the unit of an expire argument.
type Unit int

const (
	// Seconds is the unit of EX, EXAT, EXPIRE, EXPIREAT and SETEX.
	Seconds Unit = iota
	// Millis is the unit of PX, PXAT, PEXPIRE, PEXPIREAT and PSETEX.
	Millis
)

// SetExpireMillis is the deadline, in Unix milliseconds, of SET's EX, PX,
// EXAT and PXAT, of SETEX and PSETEX, and of GETEX's options: n in unit,
// relative to now unless absolute. It must be positive; seconds beyond
// 2^63/1000, or a relative deadline past 2^63-1 ms, are out of range too.
// Each of those is an *ExpireTimeError naming cmd (lower-cased), the
// command Redis names in its reply ("set", "setex", "psetex", "getex").
func SetExpireMillis(cmd string, now time.Time, n int64, unit Unit, absolute bool) (int64, error) {
	if n <= 0 || (unit == Seconds && n > math.MaxInt64/1000) {
		return 0, expireErr(cmd)
	}
	if unit == Seconds {
		n *= 1000
	}
	if !absolute {
		n += now.UnixMilli() // wraps on overflow, as it does in Redis
	}
	if n <= 0 {
		return 0, expireErr(cmd)
	}
	return n, nil
}

// ExpireMillis is the deadline, in Unix milliseconds, of EXPIRE, PEXPIRE,
// EXPIREAT and PEXPIREAT: n in unit, relative to now unless absolute. Zero
// and negative values are valid (the key is deleted; see Expired); only a
// conversion to milliseconds or an addition of now that overflows int64 is
// an *ExpireTimeError naming cmd ("expire", "pexpire", "expireat",
// "pexpireat").
func ExpireMillis(cmd string, now time.Time, n int64, unit Unit, absolute bool) (int64, error) {
	if unit == Seconds {
		if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
			return 0, expireErr(cmd)
		}
		n *= 1000
	}
	var base int64
	if !absolute {
		base = now.UnixMilli()
	}
	if n > math.MaxInt64-base {
		return 0, expireErr(cmd)
	}
	return n + base, nil
}

// Expired reports whether deadlineMs (Unix ms) is already past at now, in
// which case EXPIRE deletes the key instead of setting its TTL.
func Expired(deadlineMs int64, now time.Time) bool { return deadlineMs <= now.UnixMilli() }

func expireErr(cmd string) error { return &ExpireTimeError{Command: strings.ToLower(cmd)} }

// ExpireFlags are EXPIRE's options. The zero value is none: the expire
// always applies.
type ExpireFlags uint8

const (
	// ExpireNX applies only to a key without a TTL.
	ExpireNX ExpireFlags = 1 << iota
	// ExpireXX applies only to a key with a TTL.
	ExpireXX
	// ExpireGT applies only when the new deadline is later than the
	// current one; a key without a TTL counts as never expiring, so GT never
	// applies to it.
	ExpireGT
	// ExpireLT applies only when the new deadline is earlier than the
	// current one; a key without a TTL counts as never expiring, so LT
	// always applies to it.
	ExpireLT
)

// ParseExpireFlags parses the options of EXPIRE, PEXPIRE, EXPIREAT and
// PEXPIREAT after the key and the time: NX, XX, GT, LT in any case, repeats
// allowed. Another word is an *UnsupportedOptionError (the first one met);
// NX with any other is ErrExpireNXAndOthers; GT with LT is ErrExpireGTAndLT.
// XX may go with GT or LT. Redis reads these before the time argument.
func ParseExpireFlags(args [][]byte) (ExpireFlags, error) {
	var f ExpireFlags
	for _, a := range args {
		switch {
		case bytes.EqualFold(a, []byte("nx")):
			f |= ExpireNX
		case bytes.EqualFold(a, []byte("xx")):
			f |= ExpireXX
		case bytes.EqualFold(a, []byte("gt")):
			f |= ExpireGT
		case bytes.EqualFold(a, []byte("lt")):
			f |= ExpireLT
		default:
			return 0, &UnsupportedOptionError{Option: string(a)}
		}
	}
	if f&ExpireNX != 0 && f&(ExpireXX|ExpireGT|ExpireLT) != 0 {
		return 0, ErrExpireNXAndOthers
	}
	if f&ExpireGT != 0 && f&ExpireLT != 0 {
		return 0, ErrExpireGTAndLT
	}
	return f, nil
}

// Applies reports whether an expire with flags f and the new deadline when
// (Unix ms) goes ahead on a key whose current deadline is current, or which
// has no TTL when hasTTL is false. When it does not, Redis replies 0 and
// leaves the key alone; when it does, the key gets the deadline (or is
// deleted if Expired) and the reply is 1.
func (f ExpireFlags) Applies(hasTTL bool, current, when int64) bool {
	if f&ExpireNX != 0 && hasTTL {
		return false
	}
	if f&ExpireXX != 0 && !hasTTL {
		return false
	}
	if f&ExpireGT != 0 && (!hasTTL || when <= current) {
		return false
	}
	if f&ExpireLT != 0 && hasTTL && when >= current {
		return false
	}
	return true
}
