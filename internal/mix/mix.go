// Package mix holds the engine's integer hash, so that the engine, the
// policy tests and the bench module's hit-ratio harness hash integer keys
// with one function and place them in the same shards.
package mix

// Uint64 is the 64-bit finalizer of MurmurHash3: a bijection whose every
// output bit depends on every input bit, so both the low bits (the shard
// index) and the high bits (the slot in the shard's table) are well spread even for
// sequential keys. Distinct inputs never share an output. It is pure, safe
// for concurrent use, and small enough to be inlined at every call.
func Uint64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
