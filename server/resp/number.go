package resp

import "github.com/shardcache/shardcache/server/internal/strval"

// parseInt parses a length or count line's number as Redis's string2ll
// does, which decides which lengths and counts a request may carry: an
// optional '-', then "0" alone or a digit 1-9 followed by digits; no '+',
// no spaces, no leading zeros, no "-0", and within int64. Anything else,
// including an overflow, is not a number (ok false). The rule is the one
// string values follow, so it is strval's.
func parseInt(b []byte) (n int64, ok bool) { return strval.ParseInt(b) }
