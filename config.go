package shardcache

import (
	"fmt"
	"math/bits"
	"runtime"
	"time"
)

// Config configures a Cache. The zero value is valid: an unbounded cache with
// the default shard count, no expiry and no callbacks. Every field's zero
// value means "the default".
type Config[K comparable, V any] struct {
	// Shards is the number of lock stripes, rounded up to a power of two.
	// 0 picks DefaultShards(). More shards mean less contention and a
	// slightly less exact global LRU order (each shard evicts its own least
	// recently used entry). A bounded cache never gets more shards than it
	// has entries (or cost units) to share among them.
	Shards int

	// MaxEntries bounds the number of entries; 0 means no bound. It is split
	// into per-shard budgets that sum to it exactly, so Len never exceeds it.
	MaxEntries int

	// MaxCost bounds the sum of entry costs; 0 means no bound. It is split
	// into per-shard budgets like MaxEntries. An entry whose cost exceeds its
	// shard's budget (about MaxCost/Shards) is not stored at all; Stats
	// counts it as Rejected. Use Cost with MaxCost for a byte budget.
	MaxCost int64

	// Cost returns an entry's cost, for example len(key)+len(value) for a
	// byte budget. nil: every entry costs 1. It is called once per write,
	// outside any lock. An entry with a negative cost is not stored.
	Cost func(key K, value V) int64

	// DefaultTTL is the time to live Set gives an entry; 0 means no expiry.
	DefaultTTL time.Duration

	// OnRemove, if set, is called once for every entry that leaves the
	// cache, with the reason. It is never called under a shard lock, so it
	// may call the cache; it runs on the goroutine whose call removed the
	// entry (the background expiry goroutine for ReasonExpired, most of the
	// time), so it should be quick. Close does not call it.
	OnRemove func(key K, value V, reason RemoveReason)

	// Hasher maps a key to 64 bits; the low bits pick the shard and the
	// whole hash keys the shard's map. nil picks xxhash for string keys, a
	// fast bijective mixer for integer keys and hash/maphash otherwise. A
	// custom Hasher may collide: keys with equal hashes are still kept apart,
	// but many collisions make lookups slower.
	Hasher func(key K) uint64
}

// maxShards bounds Config.Shards.
const maxShards = 1 << 16

// DefaultShards returns the shard count New uses when Config.Shards is 0:
// 16 per logical CPU (GOMAXPROCS), rounded up to a power of two, at least
// 64. docs/design.md shows the benchmark behind this choice.
func DefaultShards() int {
	return max(64, ceilPow2(16*runtime.GOMAXPROCS(0)))
}

func ceilPow2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}

// validate checks cfg and returns the shard count to use.
func (cfg *Config[K, V]) validate() (int, error) {
	switch {
	case cfg.Shards < 0:
		return 0, invalid("Shards is negative (%d)", cfg.Shards)
	case cfg.Shards > maxShards:
		return 0, invalid("Shards is %d, more than the maximum %d", cfg.Shards, maxShards)
	case cfg.MaxEntries < 0:
		return 0, invalid("MaxEntries is negative (%d)", cfg.MaxEntries)
	case cfg.MaxCost < 0:
		return 0, invalid("MaxCost is negative (%d)", cfg.MaxCost)
	case cfg.DefaultTTL < 0:
		return 0, invalid("DefaultTTL is negative (%v)", cfg.DefaultTTL)
	}
	n := cfg.Shards
	if n == 0 {
		n = DefaultShards()
	}
	n = ceilPow2(n)
	// Every shard must be able to hold something: with fewer entries (or
	// cost units) than shards some shards would get a budget of zero and
	// silently refuse every key that hashes to them.
	for n > 1 && ((cfg.MaxEntries > 0 && n > cfg.MaxEntries) || (cfg.MaxCost > 0 && int64(n) > cfg.MaxCost)) {
		n /= 2
	}
	return n, nil
}

// split divides total into n budgets that sum to total exactly; 0 stays 0
// (unbounded).
func split[T int | int64](total T, n, i int) T {
	if total == 0 {
		return 0
	}
	b := total / T(n)
	if T(i) < total%T(n) {
		b++
	}
	return b
}
