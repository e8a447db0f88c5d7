package shardcache

import (
	"hash/maphash"

	"github.com/cespare/xxhash/v2"
	"github.com/shardcache/shardcache/internal/mix"
)

// defaultHasher picks the hash function for K when Config.Hasher is nil:
// xxhash for strings, a bijective integer mixer for the built-in integer
// types (so distinct integer keys never share a hash), and hash/maphash for
// every other comparable type, named string and integer types included.
//
// The type switch runs once, in New; the returned closure converts the key
// back with a type assertion the compiler resolves without allocating.
func defaultHasher[K comparable]() func(K) uint64 {
	var zero K
	switch any(zero).(type) {
	case string:
		return func(k K) uint64 { return xxhash.Sum64String(any(k).(string)) }
	case int:
		return func(k K) uint64 { return mix64(uint64(any(k).(int))) }
	case int64:
		return func(k K) uint64 { return mix64(uint64(any(k).(int64))) }
	case int32:
		return func(k K) uint64 { return mix64(uint64(any(k).(int32))) }
	case int16:
		return func(k K) uint64 { return mix64(uint64(any(k).(int16))) }
	case int8:
		return func(k K) uint64 { return mix64(uint64(any(k).(int8))) }
	case uint:
		return func(k K) uint64 { return mix64(uint64(any(k).(uint))) }
	case uint64:
		return func(k K) uint64 { return mix64(any(k).(uint64)) }
	case uint32:
		return func(k K) uint64 { return mix64(uint64(any(k).(uint32))) }
	case uint16:
		return func(k K) uint64 { return mix64(uint64(any(k).(uint16))) }
	case uint8:
		return func(k K) uint64 { return mix64(uint64(any(k).(uint8))) }
	case uintptr:
		return func(k K) uint64 { return mix64(uint64(any(k).(uintptr))) }
	}
	seed := maphash.MakeSeed()
	return func(k K) uint64 { return maphash.Comparable(seed, k) }
}

// mix64 is mix.Uint64, the engine's integer mixer (MurmurHash3's finalizer);
// it lives in package mix so that the policy tests and the bench module's
// hit-ratio harness hash keys exactly as the engine does.
func mix64(x uint64) uint64 { return mix.Uint64(x) }
