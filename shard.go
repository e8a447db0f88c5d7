package shardcache

import (
	"sync"
	"sync/atomic"

	"github.com/shardcache/shardcache/internal/expiry"
	"github.com/shardcache/shardcache/internal/policy"
)

// shard is one lock stripe of the cache: a table from key hash to entries,
// the eviction policy that orders them, the timing wheel that expires them, and the
// budget they must fit in.
//
// Get touches only the shard's header (the lock, the table header and the
// stripe count, padded to two cache lines so that no field a writer changes
// shares them), the table slot and entry it finds, and one read-buffer
// stripe. Everything else is guarded by the write lock or the policy lock.
type shard[K comparable, V any] struct {
	mu      spinRWMutex   // hot paths spin before they sleep (spinlock.go)
	m       table[K, V]   // keyed by the hash already computed for sharding
	stripes atomic.Uint32 // active read-buffer stripes, a power of two
	// promotions counts the policy's inserts and promotions, and fresh is
	// freshFor(len): an entry promoted fewer than fresh promotions ago is
	// still among the most recent quarter of the shard, and a Get that
	// finds it does not record the hit (see isFresh). fresh is written
	// under mu.
	promotions atomic.Uint64
	fresh      uint64
	_          [40]byte // 24 + 40 + 4 (+4 alignment) + 8 + 8 + 40 = 128: see TestShardHeaderLayout

	// pmu guards the policy and the consumption of the read buffer. Writers
	// take it inside mu (lock/unlock); a reader that finds its ring full
	// takes only pmu, so draining never blocks the other readers of the
	// shard, who hold mu's read side and never touch the policy.
	pmu         sync.Mutex
	policy      policy.Policy[*entry[K, V]]
	wheel       *expiry.Wheel[*entry[K, V]] // created on the first deadline
	len         int
	cost        int64
	maxEntries  int   // 0: unbounded
	maxCost     int64 // 0: unbounded
	closed      bool
	sets        uint64
	rejected    uint64
	evictions   uint64
	expirations uint64
	nextDue     atomic.Int64                  // earliest time the wheel has work, noDue if empty; read by the janitor unlocked
	bigCosts    map[*entry[K, V]]int64        // costs of entries whose cost field holds bigCost; nil until one does
	spare       *entry[K, V]                  // the last evicted entry, cleared, for the next insert (newEntry)
	timers      []*expiry.Timer[*entry[K, V]] // timers of entries that left, for the next deadlines (newTimer)

	buf readBuffer[K, V]
}

func (s *shard[K, V]) init(maxEntries int, maxCost int64, p policy.Policy[*entry[K, V]]) {
	s.policy = p
	s.m.init(min(maxEntries, 1<<16))
	s.maxEntries = maxEntries
	s.maxCost = maxCost
	s.stripes.Store(1)
	s.nextDue.Store(noDue)
}

// lock takes the shard for writing: the map and entries (mu) and the
// policy (pmu), in that order.
func (s *shard[K, V]) lock() {
	s.mu.spinLock()
	s.pmu.Lock()
}

// unlock releases what lock took.
func (s *shard[K, V]) unlock() {
	s.pmu.Unlock()
	s.mu.Unlock()
}

// lookup returns the entry for key, or nil. Callers hold the lock, read or
// write.
func (s *shard[K, V]) lookup(h uint64, key K) *entry[K, V] {
	return s.m.lookup(h, key)
}

// The shard's door: the operations the cache calls, each taking the lock it
// needs. Code outside the shard's files calls only methods, never fields.

// getResult says how shard.get found its key and who counts the hit.
type getResult uint8

const (
	getMiss     getResult = iota // no live entry; the cache counts the miss
	getFresh                     // hit on a fresh entry, not recorded: the cache counts it
	getRecorded                  // hit recorded in the read buffer, which counts it
)

// get is Get's work on the shard: it returns the live value for key and how
// it was found. It takes only the read lock and never allocates or writes
// shared memory beyond one read-buffer record: a hit on an entry promoted
// moments ago is not recorded at all (isFresh), and a full buffer is
// drained only if its policy lock is free (recordFull).
func (s *shard[K, V]) get(h uint64, key K, clk *clock) (v V, r getResult) {
	s.mu.spinRLock()
	e := s.m.lookup(h, key)
	if e == nil || e.expired(clk.Now()) {
		s.mu.RUnlock()
		return v, getMiss
	}
	v = e.value
	if s.isFresh(e) {
		// Promoting e again would not change the eviction order: skip
		// the record and its cost (BenchmarkGet).
		s.mu.RUnlock()
		return v, getFresh
	}
	full := s.record(e)
	s.mu.RUnlock()
	if full {
		s.recordFull(e, key)
	}
	return v, getRecorded
}

// peek returns the value and deadline stored for key, live or expired, and
// whether an entry is held, under the read lock. It is not an access: no
// promotion, no statistics.
func (s *shard[K, V]) peek(h uint64, key K) (v V, deadline int64, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.lookup(h, key)
	if e == nil {
		return v, 0, false
	}
	return e.value, e.deadline, true
}

// set is Set's work on the shard: put under the write lock. It reports
// whether the value was stored; after close it stores nothing.
func (s *shard[K, V]) set(h uint64, key K, value V, cost, d, now int64, rm *removals[K, V]) bool {
	s.lock()
	defer s.unlock()
	if s.closed {
		return false
	}
	s.drainReads()
	return s.put(h, key, value, cost, d, now, rm)
}

// update replaces the value of a live entry for key, keeping its deadline,
// and reports whether it did. An expired entry is reclaimed; a value too
// costly for the shard removes the entry (ReasonReplaced) and counts as
// rejected.
func (s *shard[K, V]) update(h uint64, key K, value V, cost int64, clk *clock, rm *removals[K, V]) bool {
	s.lock()
	defer s.unlock()
	e := s.lookup(h, key)
	if e == nil || s.closed {
		return false
	}
	now := clk.Now()
	switch {
	case e.expired(now):
		s.remove(e, ReasonExpired, rm)
		return false
	case !s.fits(cost):
		s.remove(e, ReasonReplaced, rm)
		s.rejected++
		return false
	}
	s.drainReads()
	rm.add(e.key, e.value, ReasonReplaced)
	e.value = value
	s.recost(e, cost)
	s.promote(e)
	s.evict(now, rm)
	return true
}

// delete removes the entry for key and reports whether it was live; an
// expired one is reclaimed with ReasonExpired.
func (s *shard[K, V]) delete(h uint64, key K, clk *clock, rm *removals[K, V]) bool {
	s.lock()
	defer s.unlock()
	e := s.lookup(h, key)
	if e == nil {
		return false
	}
	live := !e.expired(clk.Now())
	why := ReasonDeleted
	if !live {
		why = ReasonExpired
	}
	s.remove(e, why, rm)
	return live
}

// size returns the number of entries held, expired ones not yet reclaimed
// included.
func (s *shard[K, V]) size() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.len
}

// addStats adds the shard's counters to st.
func (s *shard[K, V]) addStats(st *Stats) {
	st.Hits += s.buf.hits()
	s.mu.RLock()
	defer s.mu.RUnlock()
	st.Sets += s.sets
	st.Rejected += s.rejected
	st.Evictions += s.evictions
	st.Expirations += s.expirations
	st.Entries += s.len
	st.Cost += s.cost
}

// pair is one key and its value, as collect copies them.
type pair[K comparable, V any] struct {
	key   K
	value V
}

// collect appends the shard's live entries to dst under the read lock, in
// table order, and returns it.
func (s *shard[K, V]) collect(dst []pair[K, V], clk *clock) []pair[K, V] {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := clk.Now()
	s.m.each(func(e *entry[K, V]) bool {
		if !e.expired(now) {
			dst = append(dst, pair[K, V]{e.key, e.value})
		}
		return true
	})
	return dst
}

// clear removes every entry, reporting each to rm with why.
func (s *shard[K, V]) clear(why RemoveReason, rm *removals[K, V]) {
	s.lock()
	defer s.unlock()
	s.removeAll(why, rm)
}

// close drops every entry without reporting it, and makes every later write
// a no-op.
func (s *shard[K, V]) close() {
	s.lock()
	defer s.unlock()
	s.closed = true
	s.removeAll(ReasonCleared, nil)
}

// isClosed reports whether close has run. Callers hold the write lock.
func (s *shard[K, V]) isClosed() bool { return s.closed }

// due returns the earliest clock time at which the shard's wheel has work,
// or noDue when it holds no timer. It takes no lock (the janitor polls it).
func (s *shard[K, V]) due() int64 { return s.nextDue.Load() }

// expireDue reclaims, under the write lock, every entry whose wheel tick
// has passed at now, reporting each to rm.
func (s *shard[K, V]) expireDue(now int64, rm *removals[K, V]) {
	s.lock()
	defer s.unlock()
	s.expire(now, rm)
}

// drainReads replays every pending access record into the policy. Every
// write-locked operation that reorders or evicts calls it first, so with a
// single goroutine the policy sees every recorded access in order.
func (s *shard[K, V]) drainReads() {
	n := s.stripes.Load()
	for i := range n {
		s.buf.stripes[i].drain(s.touch)
	}
}

// freshFor returns shard.fresh for a shard of n entries: n/4, or 0 (every
// hit is recorded, and a one-goroutine shard is exactly LRU) below 64
// entries, where one position is a large part of the shard.
func freshFor(n int) uint64 {
	if n < 64 {
		return 0
	}
	return min(uint64(n/4), 1<<31) // stamps are 32 bits wide (isFresh)
}

// touch promotes e in the policy and stamps it with the promotion count, so
// that Get can tell it is fresh. Callers hold the policy lock.
func (s *shard[K, V]) touch(e *entry[K, V]) {
	s.policy.Touch(&e.node)
	p := s.promotions.Load() + 1 // only the policy lock holder writes it
	s.promotions.Store(p)
	e.stamp.Store(uint32(p))
}

// promote records a write to e, an entry already held: like a Get hit, it
// moves e to the front of the policy unless e is still fresh, where moving
// it again would barely change what is evicted and would cost the list
// update's cache misses. Callers hold the write lock and drained the read
// buffer.
func (s *shard[K, V]) promote(e *entry[K, V]) {
	if !s.isFresh(e) {
		s.touch(e)
	}
}

// isFresh reports whether e was promoted so recently that recording a hit
// on it now would barely change what the policy evicts: fewer than fresh
// promotions ago, so that at most fresh entries went ahead of it and it is
// still in the most recent quarter of its list. A hot entry is then recorded
// about once per fresh promotions instead of on every Get, which saves the
// ring write and, above all, the drain's list update with its cache misses
// (most of a hit's cost in the peer benchmarks). The price is that the order
// within the recent quarter follows the last recorded hits, not the last
// hits: the bench module's hit-ratio simulator measured it at 0.03 point of
// LRU hit ratio on average over 55 rows (0.1 at most). Callers hold the
// read lock.
//
// Stamps keep only the low 32 bits of the count, and the difference is
// taken modulo 2³², so it stays exact across the count's wraparound. What
// wraps is an entry's age: one not promoted for 2³² promotions, or never,
// looks fresh again for fresh promotions in every 2³², a fraction below
// n/2³⁴ of its time, during which its hits go unrecorded as a fresh
// entry's do.
func (s *shard[K, V]) isFresh(e *entry[K, V]) bool {
	return uint64(uint32(s.promotions.Load())-e.stamp.Load()) < s.fresh
}

// record notes a Get hit on e. It runs under the read lock and reports
// whether the buffer was full, in which case the caller must call
// recordFull after releasing the read lock.
func (s *shard[K, V]) record(e *entry[K, V]) (full bool) {
	n := s.stripes.Load()
	ok, contended := s.buf.pick(n).record(e)
	if contended && n < maxStripes {
		s.stripes.CompareAndSwap(n, n*2)
	}
	return !ok
}

// recordFull handles a hit whose stripe was full, after Get released the
// read lock: if the policy lock is free it drains the buffer and applies the
// hit directly, otherwise the record is dropped (the hit is still counted).
// A reader never waits here, and never makes other readers wait: it does
// not take the shard's write lock.
func (s *shard[K, V]) recordFull(e *entry[K, V], key K) {
	if s.pmu.TryLock() {
		s.drainReads()
		// e may have been evicted since the read lock was released, and
		// even reused for another key (recycle).
		if e.node.Linked() && e.key == key {
			s.touch(e)
		}
		s.pmu.Unlock()
	}
	s.buf.pick(s.stripes.Load()).other.Add(1)
}

// put is the locked half of Set: it stores value for key with deadline d
// (0: none), replacing a present entry in place, then evicts to stay within
// budget. An entry too costly for the shard is not stored and a present
// entry for the key is removed. It reports whether the value was stored.
// Callers hold the write lock and drained the read buffer.
func (s *shard[K, V]) put(h uint64, key K, value V, cost, d, now int64, rm *removals[K, V]) bool {
	e := s.lookup(h, key)
	if !s.fits(cost) {
		if e != nil {
			why := ReasonReplaced
			if e.expired(now) {
				why = ReasonExpired
			}
			s.remove(e, why, rm)
		}
		s.rejected++
		return false
	}
	if e != nil {
		why := ReasonReplaced
		if e.expired(now) {
			why = ReasonExpired
			s.expirations++
		}
		rm.add(e.key, e.value, why)
		e.value = value
		s.recost(e, cost)
		s.setDeadline(e, d, now)
		s.promote(e)
	} else {
		e = s.newEntry(h, key, value, cost)
		s.insert(e)
		s.setDeadline(e, d, now)
	}
	s.sets++
	s.evict(now, rm)
	return true
}

// insert stores a new entry and hands it to the policy.
func (s *shard[K, V]) insert(e *entry[K, V]) {
	s.m.insert(e)
	s.policy.Insert(&e.node)
	s.promotions.Store(s.promotions.Load() + 1)
	s.len++
	s.fresh = freshFor(s.len)
	s.cost += s.costOf(e)
}

// remove takes e out of the shard and reports it to rm.
func (s *shard[K, V]) remove(e *entry[K, V], why RemoveReason, rm *removals[K, V]) {
	s.m.remove(e)
	s.policy.Remove(&e.node, why == ReasonEvicted)
	s.releaseTimer(e)
	s.len--
	s.fresh = freshFor(s.len)
	s.cost -= s.costOf(e)
	s.storeCost(e, 0) // e leaves: bigCosts must not keep it
	switch why {
	case ReasonEvicted:
		s.evictions++
	case ReasonExpired:
		s.expirations++
	}
	rm.add(e.key, e.value, why)
}

// removeAll empties the shard, reporting every entry to rm with why.
func (s *shard[K, V]) removeAll(why RemoveReason, rm *removals[K, V]) {
	s.drainReads()
	s.m.each(func(e *entry[K, V]) bool {
		s.policy.Remove(&e.node, false)
		s.releaseTimer(e)
		rm.add(e.key, e.value, why)
		return true
	})
	s.m.reset()
	s.len = 0
	s.fresh = 0
	s.cost = 0
	clear(s.bigCosts)
	s.nextDue.Store(noDue)
}

// fits reports whether an entry of the given cost may be stored at all.
func (s *shard[K, V]) fits(cost int64) bool {
	return cost >= 0 && (s.maxCost == 0 || cost <= s.maxCost)
}

// evict removes the policy's victims until the shard is within its
// budgets. Callers drained the read buffer first.
func (s *shard[K, V]) evict(now int64, rm *removals[K, V]) {
	for (s.maxEntries > 0 && s.len > s.maxEntries) || (s.maxCost > 0 && s.cost > s.maxCost) {
		n, ok := s.policy.Victim()
		if !ok {
			return
		}
		victim := s.m.owner(n)
		why := ReasonEvicted
		if victim.expired(now) {
			why = ReasonExpired
		}
		s.remove(victim, why, rm)
		s.recycle(victim)
	}
}
