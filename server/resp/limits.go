package resp

import "math"

// Limits bounds what a Reader accepts from a client. A zero or negative field
// means its default; the zero Limits is DefaultLimits.
type Limits struct {
	// MaxBulkLen is the longest argument, in bytes (Redis's
	// proto-max-bulk-len). A longer declared length fails with "Protocol
	// error: invalid bulk length". Default 512 MiB.
	MaxBulkLen int64

	// MaxInlineLen is the longest line the Reader searches for its end: an
	// inline request, or the "*<count>" or "$<length>" line of a multibulk one
	// (Redis's PROTO_INLINE_MAX_SIZE). When more than MaxInlineLen bytes
	// follow the start of a line without its end, the request fails with "too
	// big inline request", "too big mbulk count string" or "too big bulk count
	// string". Default 64 KiB.
	MaxInlineLen int

	// MaxMultibulkLen is the largest argument count of a multibulk request; a
	// larger one fails with "Protocol error: invalid multibulk length".
	// Default 1024*1024, the limit of Redis before 7.0 (Redis 7.0 accepts
	// counts up to 2^31-1).
	MaxMultibulkLen int
}

// Defaults, as in Redis.
const (
	defaultMaxBulkLen      = 512 << 20
	defaultMaxInlineLen    = 64 << 10
	defaultMaxMultibulkLen = 1024 * 1024
)

// Redis's tighter limits for a client that has yet to authenticate
// (processMultibulkBuffer's authRequired checks).
const (
	unauthMaxMultibulkLen = 10
	unauthMaxBulkLen      = 16384
)

// DefaultLimits returns Redis's defaults: 512 MiB arguments, 64 KiB lines and
// 1024*1024 arguments per command.
func DefaultLimits() Limits {
	return Limits{
		MaxBulkLen:      defaultMaxBulkLen,
		MaxInlineLen:    defaultMaxInlineLen,
		MaxMultibulkLen: defaultMaxMultibulkLen,
	}
}

// normalized replaces zero and negative fields with their defaults and clamps
// the rest so that no offset computed from them overflows an int.
func (l Limits) normalized() Limits {
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = defaultMaxBulkLen
	}
	l.MaxBulkLen = min(l.MaxBulkLen, math.MaxInt/4)
	if l.MaxInlineLen <= 0 {
		l.MaxInlineLen = defaultMaxInlineLen
	}
	l.MaxInlineLen = min(l.MaxInlineLen, math.MaxInt/4)
	if l.MaxMultibulkLen <= 0 {
		l.MaxMultibulkLen = defaultMaxMultibulkLen
	}
	l.MaxMultibulkLen = min(l.MaxMultibulkLen, math.MaxInt32)
	return l
}
