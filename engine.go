package shardcache

import (
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

// Cache is a sharded, bounded, expiring in-memory cache. Create one with New;
// the zero Cache is not usable. All methods are safe for concurrent use.
//
// Get costs one hash, one shard read lock, one table lookup and either one
// record in a lock-free access buffer or, for an entry promoted moments ago
// and for a miss, one striped counter increment; it never allocates. Writes take one
// shard's write lock. See the package documentation for the design.
type Cache[K comparable, V any] struct {
	shards     []shard[K, V]
	mask       uint64
	hash       func(K) uint64
	cost       func(K, V) int64
	onRemove   func(K, V, RemoveReason)
	defaultTTL time.Duration
	clock      *clock
	flights    []flights[K, V] // GetOrLoad calls in progress, one table per shard
	hits       counter         // Get hits not counted by a read buffer: see Get
	misses     counter         // Get misses

	// The janitor goroutine: refreshes the clock and expires entries. It
	// and the snapshot goroutine hold only a weak pointer to the Cache and
	// these channels, so that a Cache dropped without Close is collected;
	// cleanup then closes done, which stops them (see New).
	idle        atomic.Bool   // the janitor sleeps until wake: no shard has a timer
	wake        chan struct{} // capacity 1
	done        chan struct{} // closed by Close, or by cleanup
	janitorDone chan struct{} // closed when the janitor returns; nil without one
	cleanup     runtime.Cleanup
	closed      atomic.Bool
	// inCallback is set while the janitor runs OnRemove, so that a Close
	// called from that callback does not wait for the janitor to return
	// from it (it would wait for itself).
	inCallback atomic.Bool

	snap snapshotter[K, V] // codecs and snapshot settings (snapshot.go)

	budget budget // MaxEntries and MaxCost, for the cache as a whole (budget.go)

	// tune serialises SetPolicy and SetMaxEntries, which both change every
	// shard's policy, a shard at a time.
	tune sync.Mutex
}

// New returns a cache configured by cfg and starts its background expiry
// goroutine (and, with SnapshotEvery, its periodic snapshot goroutine), which
// Close stops. A cache dropped without Close does not leak them: once the
// garbage collector finds the Cache unreachable they exit (without the
// final snapshot Close would save).
//
// New returns an error wrapping ErrInvalidConfig, with a message naming the
// field, when:
//   - Shards is negative or above 65536;
//   - MaxEntries, MaxCost or DefaultTTL is negative;
//   - Policy or Admission is not one of the named constants, or Policy is
//     NoEviction with AdmitTinyLFU;
//   - SnapshotEvery is negative, or set without SnapshotPath;
//   - RestoreSnapshot is set without SnapshotPath;
//   - SnapshotPath is a directory, or its directory is missing;
//   - SnapshotPath is set for a key type compared by identity (a pointer,
//     a channel, ...: see SaveTo), which no snapshot can hold; the error
//     also wraps ErrUnsupportedKey.
//
// With RestoreSnapshot, it also returns the error of loading SnapshotPath
// (as LoadFile returns it: wrapping ErrCorruptSnapshot, ErrSnapshotType, a
// read error, ...), except that a missing file starts the cache empty.
func New[K comparable, V any](cfg Config[K, V]) (*Cache[K, V], error) {
	c, err := newCache(cfg, newClock())
	if err != nil {
		return nil, err
	}
	if cfg.RestoreSnapshot {
		// Before any goroutine starts: a cache that fails here is dropped.
		if err := c.LoadFile(cfg.SnapshotPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("shardcache: restore %s: %w", cfg.SnapshotPath, err)
		}
	}
	wp := weak.Make(c)
	c.janitorDone = make(chan struct{})
	go janitor(wp, c.done, c.wake, c.janitorDone)
	c.startSnapshots(wp) // periodic snapshots, if configured (snapshot.go)
	// Close stops this cleanup before it closes done itself.
	c.cleanup = runtime.AddCleanup(c, func(done chan struct{}) { close(done) }, c.done)
	return c, nil
}

// newCache builds a cache without starting its goroutine; tests drive a
// manual clock through it.
func newCache[K comparable, V any](cfg Config[K, V], clk *clock) (*Cache[K, V], error) {
	n, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	c := &Cache[K, V]{
		shards:     make([]shard[K, V], n),
		flights:    make([]flights[K, V], n),
		mask:       uint64(n - 1),
		hash:       cfg.Hasher,
		cost:       cfg.Cost,
		onRemove:   cfg.OnRemove,
		defaultTTL: cfg.DefaultTTL,
		clock:      clk,
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	if c.hash == nil {
		c.hash = defaultHasher[K]()
	}
	c.budget.maxEntries.Store(int64(cfg.MaxEntries))
	c.budget.maxCost.Store(cfg.MaxCost)
	for i := range c.shards {
		// A policy is sized from its shard's fair share of MaxEntries; the
		// shard may hold more or less of the cache-wide budget.
		share := split(cfg.MaxEntries, n, i)
		c.shards[i].init(&c.budget, c.shards, i, newPolicy[*entry[K, V]](cfg.Policy, cfg.Admission, share))
	}
	c.snap.init(&cfg) // pick the codecs once (snapshot.go)
	if cfg.SnapshotPath != "" && c.snap.keyRule.err != nil {
		// Close would fail to save, after the entries are gone.
		return nil, fmt.Errorf("%w: SnapshotPath is set, but no snapshot can hold these keys: %w", ErrInvalidConfig, c.snap.keyRule.err)
	}
	return c, nil
}

func (c *Cache[K, V]) shardFor(h uint64) *shard[K, V] {
	return &c.shards[h&c.mask]
}

// collector returns r to collect OnRemove calls in, or nil when there is no
// OnRemove to call.
func (c *Cache[K, V]) collector(r *removals[K, V]) *removals[K, V] {
	if c.onRemove == nil {
		return nil
	}
	return r
}

// Get returns the value stored for key and whether it was found. An entry
// whose deadline has passed is never returned (to the resolution of the
// cache clock, one millisecond).
//
// Get takes only its shard's read lock and never allocates: the access is
// recorded in a lock-free buffer and applied to the eviction policy by the
// next writer, unless the entry was promoted so recently that it is still in the
// most recent quarter of its shard (see the package documentation).
func (c *Cache[K, V]) Get(key K) (V, bool) {
	h := c.hash(key)
	v, r := c.shardFor(h).get(h, key, c.clock)
	switch r {
	case getMiss:
		c.misses.add()
		return v, false
	case getFresh:
		c.hits.add() // a recorded hit is counted by the read buffer
	}
	return v, true
}

// Set stores value for key with the configured DefaultTTL, replacing any
// previous value, and reports whether it stored it. It counts as an access
// to the key in its shard's eviction policy (with LRU: it becomes the most
// recently used, unless it was promoted so recently that it is still in the
// most recent quarter of its shard, as on Get), and evicts the policies'
// victims, from any shard, to keep the cache within MaxEntries and MaxCost.
//
// Set stores nothing and returns false, counting the write in
// Stats.Rejected, when the entry's cost is negative or above MaxCost, or
// when AdmitTinyLFU judges the new key less popular than the entries it
// would displace; an older value for the key is then removed
// (ReasonReplaced) so that Get never returns it. After Close, Set does
// nothing and returns false.
func (c *Cache[K, V]) Set(key K, value V) bool {
	return c.set(key, value, c.defaultTTL, false)
}

// SetWithTTL is Set with an explicit time to live: ttl > 0 expires the entry
// after ttl, ttl == 0 never expires it, and ttl < 0 deletes the key (like
// Delete) and returns false.
func (c *Cache[K, V]) SetWithTTL(key K, value V, ttl time.Duration) bool {
	if ttl < 0 {
		c.Delete(key)
		return false
	}
	return c.set(key, value, ttl, false)
}

// SetIfAbsent stores value for key with the configured DefaultTTL, as Set
// does, only if no live entry holds the key, and reports whether it stored
// it. The check and the store are one atomic step: of many goroutines
// calling SetIfAbsent for one absent key, at most one stores.
func (c *Cache[K, V]) SetIfAbsent(key K, value V) bool {
	return c.set(key, value, c.defaultTTL, true)
}

// SetIfAbsentWithTTL is SetIfAbsent with an explicit time to live, read as
// SetWithTTL reads it; a negative ttl stores nothing and returns false.
func (c *Cache[K, V]) SetIfAbsentWithTTL(key K, value V, ttl time.Duration) bool {
	if ttl < 0 {
		return false
	}
	return c.set(key, value, ttl, true)
}

func (c *Cache[K, V]) set(key K, value V, ttl time.Duration, ifAbsent bool) bool {
	h := c.hash(key)
	cost := c.costOf(key, value)
	now, d := c.deadlineAfter(ttl)
	var buf removals[K, V]
	rm := c.collector(&buf)
	stored := c.shardFor(h).set(h, key, value, cost, d, now, ifAbsent, rm)
	if stored && d != 0 && c.idle.Load() {
		c.wakeJanitor()
	}
	rm.run(c.onRemove)
	return stored
}

// setAt is set with a deadline already on the cache clock (0: none), for
// LoadFrom.
func (c *Cache[K, V]) setAt(key K, value V, d int64) bool {
	h := c.hash(key)
	cost := c.costOf(key, value)
	now := c.clock.Now()
	var buf removals[K, V]
	rm := c.collector(&buf)
	stored := c.shardFor(h).set(h, key, value, cost, d, now, false, rm)
	if stored && d != 0 && c.idle.Load() {
		c.wakeJanitor()
	}
	rm.run(c.onRemove)
	return stored
}

// costOf returns the cost of an entry: Config.Cost, or 1 without one.
func (c *Cache[K, V]) costOf(key K, value V) int64 {
	if c.cost == nil {
		return 1
	}
	return c.cost(key, value)
}

// deadlineAfter returns the current clock time and the deadline of an entry
// with the given ttl (0 for none).
func (c *Cache[K, V]) deadlineAfter(ttl time.Duration) (now, d int64) {
	now = c.clock.Now()
	if ttl <= 0 {
		return now, 0
	}
	if c.idle.Load() {
		now = c.clock.refresh() // the janitor sleeps, so the clock is stale
	}
	return now, deadline(now, ttl)
}

// Update replaces the value of a live key, keeping its deadline, and counts
// as an access (as Set does). It returns false, storing nothing, if the key
// is absent or expired. If the new value is too costly for the shard, the
// key is removed (ReasonReplaced) and Update returns false.
func (c *Cache[K, V]) Update(key K, value V) bool {
	h := c.hash(key)
	cost := c.costOf(key, value)
	var buf removals[K, V]
	rm := c.collector(&buf)
	stored := c.shardFor(h).update(h, key, value, cost, c.clock, rm)
	rm.run(c.onRemove)
	return stored
}

// Delete removes key and reports whether a live entry was removed. An
// expired entry still held is reclaimed (ReasonExpired) and reported as
// absent.
func (c *Cache[K, V]) Delete(key K) bool {
	h := c.hash(key)
	var buf removals[K, V]
	rm := c.collector(&buf)
	live := c.shardFor(h).delete(h, key, c.clock, rm)
	rm.run(c.onRemove)
	return live
}

// TTL returns the time key has left to live. It returns (0, true) for a live
// key without expiry and (0, false) for an absent or expired key. It does
// not count as an access.
func (c *Cache[K, V]) TTL(key K) (time.Duration, bool) {
	h := c.hash(key)
	_, d, ok := c.shardFor(h).peek(h, key)
	if !ok {
		return 0, false
	}
	if d == 0 {
		return 0, true
	}
	now := c.clock.Now()
	if d <= now {
		return 0, false
	}
	return time.Duration(d - now), true
}

// Peek returns the value stored for key and whether a live entry holds it,
// like Get, but is not an access: the eviction policy does not see it and
// Stats does not count it.
func (c *Cache[K, V]) Peek(key K) (V, bool) {
	h := c.hash(key)
	v, d, ok := c.shardFor(h).peek(h, key)
	if !ok || expiredAt(d, c.clock.Now()) {
		var zero V
		return zero, false
	}
	return v, true
}

// Entry is what the cache holds for one key, as GetEntry (and Tx.Get and
// Tx.Peek) read it.
type Entry[V any] struct {
	Value V
	// TTL is the time the entry has left to live; 0: it never expires.
	TTL time.Duration
	// Deadline is the wall-clock time at which it expires (TTL from the
	// moment of the read); the zero Time: never.
	Deadline time.Time
	// Cost is the entry's cost, as Config.Cost gave it (1 without one).
	Cost int64
}

// GetEntry returns the value, the expiry and the cost of key's live entry,
// read together under one lock, and whether there is one. Like Peek, it is
// not an access.
func (c *Cache[K, V]) GetEntry(key K) (Entry[V], bool) {
	h := c.hash(key)
	v, d, cost, ok := c.shardFor(h).entry(h, key)
	now := c.clock.Now()
	if !ok || expiredAt(d, now) {
		return Entry[V]{}, false
	}
	e := Entry[V]{Value: v, Cost: cost}
	if d != 0 {
		e.TTL = time.Duration(d - now)
		e.Deadline = c.clock.wall(d)
	}
	return e, true
}

// Len returns the number of entries held. It may count entries whose
// deadline passed less than two clock ticks ago and that the background
// expiry has not reclaimed yet; Get never returns those.
func (c *Cache[K, V]) Len() int {
	return int(c.budget.entries.Load())
}

// Cost returns the sum of the costs of the entries held (their count
// without Config.Cost), as Stats.Cost does, but with one atomic load: cheap
// enough to call before every write, as a server's memory check does. Like
// Len, it includes entries that expired less than two clock ticks ago and
// are not reclaimed yet, and it saturates at math.MaxInt64.
func (c *Cache[K, V]) Cost() int64 {
	return c.budget.cost.Load()
}

// Clear removes every entry, calling OnRemove with ReasonCleared for each.
// Statistics are kept.
func (c *Cache[K, V]) Clear() {
	var buf removals[K, V]
	rm := c.collector(&buf)
	for i := range c.shards {
		c.shards[i].clear(ReasonCleared, rm)
		rm.run(c.onRemove)
	}
}

// All returns an iterator over the live entries, in no particular order. It
// copies one shard's entries at a time under that shard's read lock and
// yields them with no lock held, so the loop body may call the cache, and
// writes that happen during the iteration may or may not be seen. It does
// not count as an access.
func (c *Cache[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		var batch []pair[K, V]
		for i := range c.shards {
			batch = c.shards[i].collect(batch[:0], c.clock)
			for _, p := range batch {
				if !yield(p.key, p.value) {
					return
				}
			}
			clear(batch)
		}
	}
}

// Keys returns an iterator over the keys of the live entries, as All
// iterates them.
func (c *Cache[K, V]) Keys() iter.Seq[K] {
	return func(yield func(K) bool) {
		for k := range c.All() {
			if !yield(k) {
				return
			}
		}
	}
}

// Values returns an iterator over the values of the live entries, as All
// iterates them.
func (c *Cache[K, V]) Values() iter.Seq[V] {
	return func(yield func(V) bool) {
		for _, v := range c.All() {
			if !yield(v) {
				return
			}
		}
	}
}

// Stats returns the cache's counters. It is cheap enough to poll but walks
// every shard.
func (c *Cache[K, V]) Stats() Stats {
	st := Stats{Hits: c.hits.load(), Misses: c.misses.load()}
	for i := range c.shards {
		c.shards[i].addStats(&st)
	}
	// The budget's counters are the cache's own: exact, and saturating
	// where the shards' sums would overflow.
	st.Entries = int(c.budget.entries.Load())
	st.Cost = c.budget.cost.Load()
	return st
}

// Close stops the background goroutines and drops every entry without
// calling OnRemove (call Clear first to have it called). Afterwards Get
// misses and writes do nothing. Close is idempotent.
//
// If Config.SnapshotPath is set, Close first saves a final snapshot there
// (as SaveFile), after any periodic snapshot in progress, and returns that
// save's error; otherwise it returns nil. Writes that other goroutines make
// while Close runs may miss the snapshot.
//
// Close waits for the background goroutines to exit, except for one that
// is running a callback, OnRemove for an expired entry or OnSnapshotError
// (Close may be called from that very callback): Close does not wait for
// it, and it exits as soon as the callback returns.
//
// A cache that is dropped without Close stops its goroutines once it is
// garbage collected, but saves no final snapshot and calls nothing.
func (c *Cache[K, V]) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	// c is reachable here, so the cleanup cannot have run: once stopped,
	// it never will, and done is closed exactly once.
	c.cleanup.Stop()
	close(c.done)
	if c.janitorDone != nil && !c.inCallback.Load() {
		<-c.janitorDone
	}
	err := c.finalSnapshot() // before anything is dropped (snapshot.go)
	for i := range c.shards {
		c.shards[i].close()
	}
	return err
}
