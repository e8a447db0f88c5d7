package shardcache

import (
	"fmt"
	"slices"
	"time"
)

// Tx is the cache as the function passed to Atomic or AtomicAll sees it:
// every operation on it runs under shard write locks that the Atomic call
// holds for the whole function, so that what fn reads and writes, over
// keys of different shards, is one atomic step for every other goroutine
// (Redis's MULTI/EXEC, MSETNX, RENAME, SET with NX/XX/GET/KEEPTTL).
//
// A Tx is valid only inside that function, on its goroutine: it must not
// be retained, shared with another goroutine or used after fn returns (a
// Tx is reused by later Atomic calls; using one after its function
// returned panics when it can be detected, and races otherwise). Using it
// on a key whose shard its Atomic did not lock panics with a message
// naming the key. Its methods cost what the cache's own methods cost,
// minus the locking: one hash and one table lookup each.
//
// Changes are not rolled back: if fn panics (or calls runtime.Goexit),
// what it changed so far stays changed, as in Redis's EXEC; the locks are
// released, the OnRemove calls owed so far are made, and the panic goes on
// to Atomic's caller.
type Tx[K comparable, V any] struct {
	c         *Cache[K, V]
	buf       removals[K, V] // OnRemove calls owed, made after the locks are released
	now       int64          // the clock time the transaction reads (moved forward only by a new deadline)
	all       bool           // AtomicAll: every shard is locked
	active    bool           // inside fn
	iterating bool           // inside Keys's function: the tables must not change
	scheduled bool           // a deadline was set: the janitor may need waking
}

// inlineTxShards is how many keys Atomic sorts in an array on its stack;
// more cost one allocation.
const inlineTxShards = 8

// Atomic locks the shards of keys for writing, runs fn with a Tx that reads
// and writes those keys, unlocks, then makes the OnRemove calls for what fn
// removed (replaced, evicted, expired, deleted), with no lock held. Other
// goroutines see everything fn did at once or nothing of it: Gets of those
// shards wait for fn to return. A typical use moves a value between two
// keys:
//
//	c.Atomic([]string{from, to}, func(tx *shardcache.Tx[string, int]) {
//		if e, ok := tx.Get(from); ok && tx.Set(to, e.Value, e.TTL) {
//			tx.Delete(from)
//		}
//	})
//
// keys may repeat and may hold keys of the same shard; fn may use any key
// whose shard is locked, not only those listed, but should not rely on it.
// The shards are locked in ascending index order, so Atomic calls over
// overlapping keys cannot deadlock each other or any other method, and
// nothing else in the cache holds one shard's lock while waiting for
// another's.
//
// fn runs under the locks: it must be quick, must not call the cache (not
// even Get: the lock is not reentrant, so that deadlocks) and must not
// start another Atomic. Config.Cost and Config.Hasher are called under the
// locks too, by the Tx's methods. After Close, fn still runs, but finds no
// key and stores nothing.
//
// Atomic allocates nothing for up to 8 keys (one slice of 4 bytes per key
// beyond), once the shards have been used by an Atomic before: write the
// key list as a literal, c.Atomic([]K{key}, func...), and neither the
// slice nor the closure escapes to the heap. Its cost beyond fn is one
// hash per key, the sort of their shard indices, and one lock and unlock
// per shard.
func (c *Cache[K, V]) Atomic(keys []K, fn func(tx *Tx[K, V])) {
	var inline [inlineTxShards]uint32
	idx := inline[:0]
	if len(keys) > len(inline) {
		idx = make([]uint32, 0, len(keys))
	}
	for _, k := range keys {
		idx = append(idx, uint32(c.hash(k)&c.mask))
	}
	if len(idx) > 1 {
		slices.Sort(idx)
		idx = slices.Compact(idx)
	}
	c.atomic(idx, false, fn)
}

// AtomicAll is Atomic over every key: it locks every shard (in ascending
// order), so fn may use any key, count, list and clear the whole cache
// (Tx.Keys, Tx.Clear), and evict from any shard to make room. Every Get
// and write of the cache waits until fn returns: use it for what must see
// the whole cache at once (EXEC containing FLUSHALL, KEYS or DBSIZE). It
// costs one lock and unlock per shard, and allocates nothing once shard 0
// has been used by an Atomic.
func (c *Cache[K, V]) AtomicAll(fn func(tx *Tx[K, V])) {
	c.atomic(nil, true, fn)
}

// atomic locks the shards named by idx (sorted, distinct), or every shard
// if all, and runs fn with the lowest shard's Tx.
func (c *Cache[K, V]) atomic(idx []uint32, all bool, fn func(tx *Tx[K, V])) {
	n := len(idx)
	if all {
		n = len(c.shards)
	}
	var tx *Tx[K, V]
	locked := 0
	// Deferred, so that a panicking fn still releases the locks and the
	// OnRemove calls it owes are made.
	defer func() { c.release(tx, idx, all, locked) }()
	for locked < n {
		c.txShard(idx, all, locked).lock()
		locked++
	}
	if n == 0 {
		tx = new(Tx[K, V]) // no shard to keep one: the rare Atomic(nil, fn)
	} else {
		// The lowest shard's lock guards its Tx: the Atomic holding it is
		// the only one using it.
		s := c.txShard(idx, all, 0)
		if s.tx == nil {
			s.tx = new(Tx[K, V])
		}
		tx = s.tx
	}
	*tx = Tx[K, V]{c: c, all: all, active: true, now: c.clock.Now()}
	for i := range n {
		c.txShard(idx, all, i).txOwner.Store(tx)
	}
	fn(tx)
}

// txShard returns the i-th shard an atomic call locks.
func (c *Cache[K, V]) txShard(idx []uint32, all bool, i int) *shard[K, V] {
	if all {
		return &c.shards[i]
	}
	return &c.shards[idx[i]]
}

// release ends an atomic call: it retires tx, unlocks the first locked
// shards of idx (or of the cache, if all), wakes the janitor for a new
// deadline, and makes the OnRemove calls tx collected, with no lock held.
func (c *Cache[K, V]) release(tx *Tx[K, V], idx []uint32, all bool, locked int) {
	var owed removals[K, V]
	scheduled := false
	if tx != nil {
		tx.active, tx.iterating = false, false
		// Moved out before unlocking: the next Atomic may reuse tx at once.
		owed, tx.buf = tx.buf, removals[K, V]{}
		scheduled = tx.scheduled
	}
	for i := locked - 1; i >= 0; i-- {
		s := c.txShard(idx, all, i)
		s.txOwner.Store(nil)
		s.unlock()
	}
	if scheduled && c.idle.Load() {
		c.wakeJanitor()
	}
	owed.run(c.onRemove)
}

// rm returns where the Tx's operations collect OnRemove calls (nil without
// OnRemove).
func (tx *Tx[K, V]) rm() *removals[K, V] { return tx.c.collector(&tx.buf) }

// shard returns key's shard and hash, panicking if tx is not in force or
// does not hold that shard.
func (tx *Tx[K, V]) shard(key K) (*shard[K, V], uint64) {
	tx.check()
	h := tx.c.hash(key)
	s := tx.c.shardFor(h)
	if s.txOwner.Load() != tx {
		panic(fmt.Sprintf("shardcache: Tx used on key %v, whose shard its Atomic did not lock: list every key the function uses in Atomic's keys", key))
	}
	return s, h
}

// writable is shard for an operation that may change the shard's table,
// which Keys's function must not do.
func (tx *Tx[K, V]) writable(key K) (*shard[K, V], uint64) {
	s, h := tx.shard(key)
	if tx.iterating {
		panic("shardcache: Tx changed the cache inside the function passed to Tx.Keys")
	}
	return s, h
}

// check panics if tx is used outside the function it was passed to.
func (tx *Tx[K, V]) check() {
	if !tx.active {
		panic("shardcache: Tx used after the function passed to Atomic returned")
	}
}

// checkAll panics unless tx came from AtomicAll.
func (tx *Tx[K, V]) checkAll(method string) {
	tx.check()
	if !tx.all {
		panic("shardcache: Tx." + method + " needs every shard locked: call it inside AtomicAll, not Atomic")
	}
}

// Get returns the value, the expiry and the cost of key's live entry, and
// whether there is one, as Cache.GetEntry does. Unlike GetEntry it counts
// as an access, as Cache.Get does (in Redis, a GET inside EXEC is one): the
// entry is promoted in its shard's policy and Stats counts the hit or the
// miss. Use Peek for a read that is not an access.
func (tx *Tx[K, V]) Get(key K) (Entry[V], bool) {
	s, h := tx.shard(key)
	e := s.lookup(h, key)
	if e == nil || e.expired(tx.now) {
		tx.c.misses.add()
		return Entry[V]{}, false
	}
	s.drainReads()
	s.promote(e)
	tx.c.hits.add()
	return tx.entry(s, e), true
}

// Peek is Get without the access: the policy does not see it and Stats
// does not count it (Redis's EXISTS, TTL, TYPE).
func (tx *Tx[K, V]) Peek(key K) (Entry[V], bool) {
	s, h := tx.shard(key)
	e := s.lookup(h, key)
	if e == nil || e.expired(tx.now) {
		return Entry[V]{}, false
	}
	return tx.entry(s, e), true
}

// entry returns what Get and Peek report of e.
func (tx *Tx[K, V]) entry(s *shard[K, V], e *entry[K, V]) Entry[V] {
	out := Entry[V]{Value: e.value, Cost: s.costOf(e)}
	if e.deadline != 0 {
		out.TTL = time.Duration(e.deadline - tx.now)
		out.Deadline = tx.c.clock.wall(e.deadline)
	}
	return out
}

// Set stores value for key, replacing any value, and reports whether it
// stored it, as Cache.SetWithTTL does: ttl > 0 expires the entry after
// ttl, ttl == 0 never expires it (Config.DefaultTTL does not apply), and
// ttl < 0 deletes the key and returns false. It counts as an access and
// in Stats.Sets; its cost comes from Config.Cost, called here, under the
// locks.
//
// To make room, Set evicts as Cache.Set does, from the key's shard or
// another one, but it cannot wait for a shard lock it does not hold: it
// evicts from the shards its Atomic holds (all of them in AtomicAll) and
// from others whose locks are free at that moment. When neither has room
// to give, the value is not stored and Set returns false (Stats.Rejected),
// as when its cost is above MaxCost or AdmitTinyLFU refuses the key; an
// older value for the key is then removed (ReasonReplaced). So Len and
// Cost stay within MaxEntries and MaxCost for the whole cache at every
// moment. What Set evicts may include entries fn stored before.
func (tx *Tx[K, V]) Set(key K, value V, ttl time.Duration) bool {
	s, h := tx.writable(key)
	if ttl < 0 {
		s.deleteLocked(h, key, tx.now, tx.rm())
		return false
	}
	d := int64(0)
	if ttl > 0 {
		var now int64
		now, d = tx.c.deadlineAfter(ttl)
		tx.now = max(tx.now, now)
	}
	return tx.put(s, h, key, value, d)
}

// SetKeepTTL is Set keeping the deadline of key's live entry (no expiry if
// there is none): Redis's SET with KEEPTTL, and what INCR, APPEND and
// SETRANGE do to a key's lifetime.
//
// Set and SetKeepTTL keep the key only when they insert it: a live entry
// keeps the key it was stored with and gets only the new value. So a key
// that aliases a buffer the caller will reuse (a server's read buffer) may
// be passed for a key the same Tx has just found live, with no copy.
func (tx *Tx[K, V]) SetKeepTTL(key K, value V) bool {
	s, h := tx.writable(key)
	d := int64(0)
	if e := s.lookup(h, key); e != nil && !e.expired(tx.now) {
		d = e.deadline
	}
	return tx.put(s, h, key, value, d)
}

// put stores value for key in s with deadline d (0: none), never waiting
// for a lock it does not hold.
func (tx *Tx[K, V]) put(s *shard[K, V], h uint64, key K, value V, d int64) bool {
	if s.isClosed() {
		return false
	}
	cost := tx.c.costOf(key, value)
	s.drainReads()
	stored := s.put(h, key, value, cost, d, tx.now, false, tx.rm()) == putStored
	if stored && d != 0 {
		tx.scheduled = true
	}
	return stored
}

// Expire changes the lifetime of key's live entry, as Cache.Expire does:
// ttl > 0 expires it ttl from now, 0 never, and ttl < 0 deletes it
// (ReasonDeleted). It reports whether a live entry held the key, and is
// not an access.
func (tx *Tx[K, V]) Expire(key K, ttl time.Duration) bool {
	s, h := tx.writable(key)
	now, d, drop := tx.c.lifetime(ttl)
	return tx.relife(s, h, key, now, d, drop)
}

// ExpireAt is Expire with an absolute deadline, read as Cache.ExpireAt
// reads it: the zero Time means never, a deadline that has passed deletes
// the key.
func (tx *Tx[K, V]) ExpireAt(key K, deadline time.Time) bool {
	s, h := tx.writable(key)
	now, d, drop := tx.c.lifetimeAt(deadline)
	return tx.relife(s, h, key, now, d, drop)
}

// relife gives key's live entry in s the deadline d, or removes it if
// drop, for Expire and ExpireAt; now is the clock reading d came from.
func (tx *Tx[K, V]) relife(s *shard[K, V], h uint64, key K, now, d int64, drop bool) bool {
	tx.now = max(tx.now, now)
	live := s.relife(h, key, d, drop, tx.now, tx.rm())
	if live && d != 0 {
		tx.scheduled = true
	}
	return live
}

// Delete removes key and reports whether a live entry was removed, as
// Cache.Delete does.
func (tx *Tx[K, V]) Delete(key K) bool {
	s, h := tx.writable(key)
	return s.deleteLocked(h, key, tx.now, tx.rm())
}

// Len returns the number of entries the cache holds, as Cache.Len does. In
// AtomicAll it cannot change while fn runs but by fn's own writes; in
// Atomic, writes to shards the Atomic does not hold may change it.
func (tx *Tx[K, V]) Len() int {
	tx.check()
	return tx.c.Len()
}

// Clear removes every entry (ReasonCleared), as Cache.Clear does but in
// the same atomic step as the rest of fn. It panics outside AtomicAll.
func (tx *Tx[K, V]) Clear() {
	tx.checkAll("Clear")
	if tx.iterating {
		panic("shardcache: Tx changed the cache inside the function passed to Tx.Keys")
	}
	for i := range tx.c.shards {
		tx.c.shards[i].removeAll(ReasonCleared, tx.rm())
	}
}

// Keys calls fn for the key of every live entry, in no particular order,
// until fn returns false; it is not an access. It panics outside AtomicAll.
// fn may read through the Tx (Get, Peek, Len) but must not change the
// cache: a Set, Delete, Expire or Clear from fn panics. Keys has the shape
// of an iter.Seq, so it can be ranged over:
//
//	for k := range tx.Keys { ... }
//
// It costs one visit of every table slot of every shard.
func (tx *Tx[K, V]) Keys(fn func(key K) bool) {
	tx.checkAll("Keys")
	outer := tx.iterating
	tx.iterating = true
	defer func() { tx.iterating = outer }()
	for i := range tx.c.shards {
		more := true
		tx.c.shards[i].m.each(func(e *entry[K, V]) bool {
			if !e.expired(tx.now) {
				more = fn(e.key)
			}
			return more
		})
		if !more {
			return
		}
	}
}
