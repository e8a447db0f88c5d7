package frame

// Limits a Reader and SplitRecord enforce before trusting a length read
// from the input, so that a forged length is refused before anything is
// allocated for it. A writer must stay within them too: a key or value
// longer than its limit could not be read back.
const (
	// MaxKeyLen is the longest key field: 1 MiB.
	MaxKeyLen = 1 << 20
	// MaxValueLen is the longest value field: 256 MiB.
	MaxValueLen = 256 << 20
	// MaxBlockLen is the longest block payload: a full block (BlockTarget)
	// plus one record of the largest size, rounded up.
	MaxBlockLen = 512 << 20
	// MinRecordLen is the shortest record: a deadline and two empty fields.
	// A block claiming more records than its length holds at this size is
	// refused before its payload is read.
	MinRecordLen = 8 + 1 + 1
)
