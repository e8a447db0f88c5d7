// Package shardcache is an in-memory cache for Go services: generic over key
// and value, bounded by entry count and by cost, with per-entry expiry and
// an eviction callback.
//
// # Design
//
// A key is hashed once (xxhash for strings, a bijective mixer for integers)
// and the low bits of the hash pick one of a power-of-two number of shards.
// Each shard has its own sync.RWMutex, a hash table indexed by that same
// 64-bit hash, an eviction policy (LRU by default, or ARC or W-TinyLFU) and a
// hierarchical timing wheel, and its own share of the entry and cost budgets, so
// goroutines working on different shards never touch the same lock. Get and
// the writers spin briefly (yielding) before they sleep on a shard's lock:
// its critical sections are shorter than a sleep and wake-up.
//
// Get takes only the shard's read lock. Instead of promoting the entry in
// the policy's order, which needs the write lock, it appends the entry to
// a small lock-free ring (the read buffer, after BP-Wrapper and Caffeine);
// the next goroutine that takes the write lock replays the ring before it
// reorders or evicts anything. A hit on an entry promoted so recently that it
// is still in the most recent quarter of its shard is not recorded at all
// (and a write to it does not move it either): moving it again would hardly
// change what is evicted, and skipping it spares hot keys the ring write and
// the list update. With one goroutine no access is ever lost, so the policy
// sees every access in shards under 64 entries and every one but those
// within that recent quarter in larger ones (with LRU: exact LRU, and LRU
// up to the order within the recent quarter); under contention the ring is
// striped and may drop records, so the order is approximate.
//
// Expiry never scans the keys. Each shard's timing wheel schedules and
// cancels in O(1); one background goroutine per cache refreshes a coarse
// millisecond clock and advances the wheels of the shards that have
// something due, so the work per tick is proportional to what expires. Get
// also checks the deadline itself, so an expired entry is never returned
// (to the clock's one-millisecond resolution), and the background goroutine
// reclaims it and calls OnRemove within two ticks of its deadline. When no
// entry has a deadline the goroutine sleeps.
//
// Eviction is LRU by default; Config.Policy selects ARC and Config.Admission
// adds a TinyLFU admission filter (W-TinyLFU); each shard runs its own
// instance behind one internal policy interface, fed by the same read
// buffer, while MaxEntries and MaxCost bound the cache as a whole: a full
// shard evicts its own victim or, holding little, another shard's. A shard keeps
// the entry it evicted last and fills it with the next new key, so a full
// cache takes new keys without allocating. GetOrLoad
// loads missing keys once however many goroutines ask, Compute updates one
// key atomically and Atomic several keys of different shards, Expire
// changes an entry's lifetime in place, Scan iterates with a resumable
// cursor (every key present throughout an iteration is returned once), and
// SaveFile/LoadFile persist the cache in a checksummed format that keeps
// every entry's remaining lifetime.
//
// docs/design.md in the repository has the diagram and the measurements
// behind these choices.
package shardcache
