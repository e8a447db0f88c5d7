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
	// txOwner is the Tx holding the shard's lock, if an Atomic does: its
	// makeRoom may evict from the other shards that Tx holds (steal). It
	// is written under the write lock and read by steal without it. It and
	// tx fill part of the header's padding, where they cost Get nothing
	// (they change only while the write lock keeps readers out) and leave
	// the shard's size, and so the layout of the shards array, as it was.
	txOwner atomic.Pointer[Tx[K, V]]
	tx      *Tx[K, V] // reused by the Atomic calls whose lowest shard this is (tx.go)
	_       [24]byte  // 24 + 40 + 4 (+4 alignment) + 8 + 8 + 8 + 8 + 24 = 128: see TestShardHeaderLayout

	// pmu guards the policy and the consumption of the read buffer. Writers
	// take it inside mu (lock/unlock); a reader that finds its ring full
	// takes only pmu, so draining never blocks the other readers of the
	// shard, who hold mu's read side and never touch the policy.
	pmu         sync.Mutex
	policy      policy.Policy[*entry[K, V]]
	wheel       *expiry.Wheel[*entry[K, V]] // created on the first deadline
	len         int
	cost        int64         // the sum of the entries' costs, saturating at math.MaxInt64
	b           *budget       // the cache's bounds, shared by every shard
	peers       []shard[K, V] // every shard of the cache, this one included, for makeRoom
	index       int           // this shard's index in peers
	nextPeer    int           // where steal looks first
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

// init readies the shard at index i of peers. Its table starts small and
// grows with what it holds: New allocates little whatever the bounds.
func (s *shard[K, V]) init(b *budget, peers []shard[K, V], i int, p policy.Policy[*entry[K, V]]) {
	s.usePolicy(p)
	s.m.init(0)
	s.b, s.peers, s.index = b, peers, i
	s.nextPeer = i + 1
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

// entry returns the value, deadline and cost stored for key, live or
// expired, and whether an entry is held, under the read lock; like peek, it
// is not an access.
func (s *shard[K, V]) entry(h uint64, key K) (v V, deadline, cost int64, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.lookup(h, key)
	if e == nil {
		return v, 0, 0, false
	}
	return e.value, e.deadline, s.costOf(e), true
}

// set is Set's work on the shard: put under the write lock. With ifAbsent
// it stores nothing when a live entry holds the key. It reports whether the
// value was stored; after close it stores nothing.
func (s *shard[K, V]) set(h uint64, key K, value V, cost, d, now int64, ifAbsent bool, rm *removals[K, V]) bool {
	for {
		s.lock()
		if s.closed {
			s.unlock()
			return false
		}
		if ifAbsent {
			if e := s.lookup(h, key); e != nil && !e.expired(now) {
				s.unlock()
				return false
			}
		}
		s.drainReads()
		r := s.put(h, key, value, cost, d, now, true, rm)
		s.unlock()
		if r != putWait {
			return r == putStored
		}
		// The cache is full, this shard holds nothing to evict and every
		// other shard was busy: evict elsewhere, waiting for a lock while
		// holding none, and try again.
		if !s.evictElsewhere(now, rm) {
			s.lock()
			s.rejected++
			s.unlock()
			return false
		}
	}
}

// update replaces the value of a live entry for key, keeping its deadline,
// and reports whether it did. An expired entry is reclaimed; a value too
// costly for the cache, or that no room can be made for, removes the entry
// (ReasonReplaced) and counts as rejected.
func (s *shard[K, V]) update(h uint64, key K, value V, cost int64, clk *clock, rm *removals[K, V]) bool {
	s.lock()
	defer s.unlock()
	e := s.lookup(h, key)
	if e == nil || s.closed {
		return false
	}
	now := clk.Now()
	if e.expired(now) {
		s.remove(e, ReasonExpired, rm)
		return false
	}
	s.drainReads()
	return s.replace(e, value, cost, now, false, rm) == putStored
}

// delete removes the entry for key and reports whether it was live; an
// expired one is reclaimed with ReasonExpired.
func (s *shard[K, V]) delete(h uint64, key K, clk *clock, rm *removals[K, V]) bool {
	s.lock()
	defer s.unlock()
	return s.deleteLocked(h, key, clk.Now(), rm)
}

// deleteLocked is delete for a caller that holds the write lock.
func (s *shard[K, V]) deleteLocked(h uint64, key K, now int64, rm *removals[K, V]) bool {
	e := s.lookup(h, key)
	if e == nil {
		return false
	}
	live := !e.expired(now)
	why := ReasonDeleted
	if !live {
		why = ReasonExpired
	}
	s.remove(e, why, rm)
	return live
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
	if s.wheel != nil {
		st.Expiring += s.wheel.Len()
	}
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
	if !s.ordered() {
		return // NoEviction records nothing: leave the stripes' lines alone
	}
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

// unordered is shard.fresh for a shard whose policy keeps no order
// (NoEviction): every entry is fresh, so Gets record nothing and writes
// promote nothing, with no test on the read path beyond isFresh's.
const unordered = 1 << 32

// ordered reports whether the shard's policy keeps an order, and so may
// evict.
func (s *shard[K, V]) ordered() bool { return s.fresh != unordered }

// usePolicy makes p the shard's policy, and fresh what p needs: unordered
// for NoEviction's None, freshFor(len) otherwise. Callers hold the write
// lock (or own the shard, in init) and have drained the read buffer.
func (s *shard[K, V]) usePolicy(p policy.Policy[*entry[K, V]]) {
	s.policy = p
	s.fresh = freshFor(s.len)
	if _, none := p.(*policy.None[*entry[K, V]]); none {
		s.fresh = unordered
	}
}

// setFresh updates fresh for the shard's length, unless it is unordered.
func (s *shard[K, V]) setFresh() {
	if s.ordered() {
		s.fresh = freshFor(s.len)
	}
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

// putResult is what put did.
type putResult uint8

const (
	putStored   putResult = iota
	putRejected           // too costly, or refused by the policy's admission: counted in rejected
	putWait               // no room and nothing this shard may evict now: see set
)

// put is the locked half of Set: it stores value for key with deadline d
// (0: none), replacing a present entry in place, and makes room for it
// within the cache's budget first. An entry too costly for the cache, or
// that the policy's admission refuses, is not stored, and a present entry
// for the key is removed. Callers hold the write lock and drained the read
// buffer; only a caller that can release the lock and wait (mayWait) gets
// putWait, any other is refused instead.
func (s *shard[K, V]) put(h uint64, key K, value V, cost, d, now int64, mayWait bool, rm *removals[K, V]) putResult {
	e := s.lookup(h, key)
	if e != nil {
		if e.expired(now) {
			// The old value expired: it leaves as such, and the new one
			// is a newcomer.
			s.remove(e, ReasonExpired, rm)
		} else {
			r := s.replace(e, value, cost, now, mayWait, rm)
			if r == putStored {
				s.setDeadline(e, d, now)
				s.sets++
			}
			return r
		}
	}
	if !s.b.fits(cost) {
		s.rejected++
		return putRejected
	}
	e = s.newEntry(h, key, value, cost)
	// The newcomer joins the policy before the table, so that admission
	// can judge it against the victims; the budget counts it only once
	// room is made.
	s.policy.Insert(&e.node)
	switch r := s.makeRoom(1, cost, e, false, now, mayWait, rm); r {
	case putStored:
	default:
		s.policy.Remove(&e.node, r == putRejected)
		s.discard(e)
		if r == putRejected {
			s.rejected++
		}
		return r
	}
	s.insert(e)
	s.setDeadline(e, d, now)
	s.sets++
	return putStored
}

// replace gives e, a live entry the shard holds, a new value and cost,
// making room for a cost that grew. If the value is too costly for the
// cache or no room can be made, e is removed (ReasonReplaced) and the write
// is rejected, so Get never returns the old value after a Set of a new one.
func (s *shard[K, V]) replace(e *entry[K, V], value V, cost, now int64, mayWait bool, rm *removals[K, V]) putResult {
	r := putRejected
	old := s.costOf(e)
	if s.b.fits(cost) {
		s.promote(e)
		if cost == old {
			r = putStored // the usual overwrite: no room to make, no budget to touch
		} else {
			r = s.makeRoom(0, cost-old, e, true, now, mayWait, rm)
		}
	}
	switch r {
	case putStored:
		rm.add(e.key, e.value, ReasonReplaced)
		e.value = value
		if cost != old {
			s.cost = addCostSat(s.cost, cost-old)
			s.storeCost(e, cost)
		}
	case putRejected:
		s.remove(e, ReasonReplaced, rm)
		s.rejected++
	}
	return r
}

// makeRoom evicts until the cache's budget has room for n more entries (0
// or 1) and cost more cost, and reserves it. keep is the entry the room is
// for, which must not be evicted: a newcomer already in the policy but not
// yet in the table (held false), or an entry being replaced (held true).
//
// It evicts this shard's victims while the shard holds at least half its
// fair share of the budget, and otherwise steals a victim from another
// shard whose lock is free, so that a shard that holds little (or one
// large entry's worth) is not emptied while others stay full. It never
// waits for another shard's lock while holding its own: when it would have
// to, it returns putWait (or putRejected when !mayWait).
//
// A policy with admission may name keep itself as the victim: the newcomer
// lost to the entries it would displace, and makeRoom returns putRejected.
func (s *shard[K, V]) makeRoom(n, cost int64, keep *entry[K, V], held bool, now int64, mayWait bool, rm *removals[K, V]) putResult {
	others := s.len
	if held {
		others--
	}
	// Victims this shard evicts leave their entry and cost reserved, as
	// credit for keep: a full cache that evicts one entry per Set then
	// never writes the budget's shared counters at all (a failed reserve
	// only reads them), which BenchmarkEvictingSet measures.
	var credN, credC int64
	for {
		rn, extraN := n-credN, int64(0)
		if rn < 0 {
			rn, extraN = 0, -rn
		}
		if s.b.reserve(rn, cost-credC) {
			if extraN > 0 {
				s.b.release(extraN, 0)
			}
			return putStored
		}
		if !s.ordered() {
			return putRejected // NoEviction: no shard has a victim
		}
		if !s.rich() && s.steal(now, rm) {
			continue
		}
		v, ok := s.policy.Victim()
		if ok && v != &keep.node {
			credC = addCostSat(credC, s.evictNode(v, now, rm))
			credN++
			others--
			continue
		}
		r := putRejected // admission refused keep, when others > 0
		if !ok || others <= 0 {
			// Nothing here but keep.
			if s.steal(now, rm) {
				continue
			}
			if mayWait {
				r = putWait
			}
		}
		s.b.release(credN, credC)
		return r
	}
}

// rich reports whether the shard holds at least half its fair share of a
// bound the cache enforces: its entries or cost times twice the shard
// count reach the bound.
func (s *shard[K, V]) rich() bool {
	n := int64(len(s.peers))
	if maxEntries := s.b.maxEntries.Load(); maxEntries > 0 && int64(s.len) >= maxEntries/(2*n) {
		return true
	}
	maxCost := s.b.maxCost.Load()
	return maxCost > 0 && s.cost >= maxCost/(2*n)
}

// steal evicts one victim from another shard whose locks are free at
// once, trying each in turn from where the last steal stopped, and reports
// whether it did. Callers hold this shard's write lock; a shard is only
// tried, never waited for, so two shards stealing from each other cannot
// deadlock. Inside an Atomic, the other shards the same Tx holds are the
// caller's already: they are evicted from without locking.
func (s *shard[K, V]) steal(now int64, rm *removals[K, V]) bool {
	n := len(s.peers)
	tx := s.txOwner.Load()
	for range n - 1 {
		j := s.nextPeer & (n - 1)
		s.nextPeer = j + 1
		if j == s.index {
			j = (j + 1) & (n - 1)
			s.nextPeer = j + 1
		}
		o := &s.peers[j]
		if tx != nil && o.txOwner.Load() == tx {
			if !o.closed && o.evictOne(now, rm) {
				return true
			}
			continue
		}
		if !o.tryLock() {
			continue
		}
		ok := !o.closed && o.evictOne(now, rm)
		o.unlock()
		if ok {
			return true
		}
	}
	return false
}

// evictElsewhere evicts one victim from the first other shard that has
// one, taking each shard's lock in turn, with no other lock held, and
// reports whether it did.
func (s *shard[K, V]) evictElsewhere(now int64, rm *removals[K, V]) bool {
	n := len(s.peers)
	for k := 1; k < n; k++ {
		o := &s.peers[(s.index+k)&(n-1)]
		o.lock()
		ok := !o.closed && o.evictOne(now, rm)
		o.unlock()
		if ok {
			return true
		}
	}
	return false
}

// tryLock takes the shard for writing if both its locks are free at once.
func (s *shard[K, V]) tryLock() bool {
	if !s.mu.TryLock() {
		return false
	}
	if !s.pmu.TryLock() {
		s.mu.Unlock()
		return false
	}
	return true
}

// evictOne drains the read buffer and evicts the policy's victim, and
// reports whether there was one. Callers hold the write lock.
func (s *shard[K, V]) evictOne(now int64, rm *removals[K, V]) bool {
	s.drainReads()
	v, ok := s.policy.Victim()
	if ok {
		s.b.release(1, s.evictNode(v, now, rm))
	}
	return ok
}

// evictNode removes the entry whose policy node the policy named as its
// victim (ReasonExpired if its deadline has passed) and keeps it as the
// spare entry. The victim's entry and cost stay reserved in the budget, and
// evictNode returns that cost: the caller uses it or releases it. Callers
// hold the write lock and drained the read buffer.
func (s *shard[K, V]) evictNode(n *policy.Node[*entry[K, V]], now int64, rm *removals[K, V]) int64 {
	victim := s.m.owner(n)
	why := ReasonEvicted
	if victim.expired(now) {
		why = ReasonExpired
	}
	c := s.detach(victim, why, rm)
	s.recycle(victim)
	return c
}

// insert stores a new entry, already in the policy and reserved in the
// budget.
func (s *shard[K, V]) insert(e *entry[K, V]) {
	s.m.insert(e)
	s.promotions.Store(s.promotions.Load() + 1)
	s.len++
	s.setFresh()
	s.cost = addCostSat(s.cost, s.costOf(e))
}

// remove takes e out of the shard, gives its budget back and reports it to
// rm.
func (s *shard[K, V]) remove(e *entry[K, V], why RemoveReason, rm *removals[K, V]) {
	s.b.release(1, s.detach(e, why, rm))
}

// detach is remove but for the budget: it takes e out of the shard, reports
// it to rm and returns its cost, leaving its entry and cost reserved for
// the caller to release or hand on.
func (s *shard[K, V]) detach(e *entry[K, V], why RemoveReason, rm *removals[K, V]) int64 {
	s.m.remove(e)
	s.policy.Remove(&e.node, why == ReasonEvicted)
	s.releaseTimer(e)
	s.len--
	s.setFresh()
	c := s.costOf(e)
	s.cost = addCostSat(s.cost, -c)
	s.storeCost(e, 0) // e leaves: bigCosts must not keep it
	switch why {
	case ReasonEvicted:
		s.evictions++
	case ReasonExpired:
		s.expirations++
	}
	rm.add(e.key, e.value, why)
	return c
}

// discard drops a newcomer that was never stored: no removal is reported,
// and its entry becomes the spare one.
func (s *shard[K, V]) discard(e *entry[K, V]) {
	s.storeCost(e, 0)
	s.recycle(e)
}

// removeAll empties the shard, reporting every entry to rm with why.
func (s *shard[K, V]) removeAll(why RemoveReason, rm *removals[K, V]) {
	s.drainReads()
	var cost int64
	s.m.each(func(e *entry[K, V]) bool {
		s.policy.Remove(&e.node, false)
		s.releaseTimer(e)
		cost = addCostSat(cost, s.costOf(e))
		rm.add(e.key, e.value, why)
		return true
	})
	s.b.release(int64(s.len), cost)
	s.m.reset()
	s.len = 0
	s.setFresh()
	s.cost = 0
	clear(s.bigCosts)
	s.nextDue.Store(noDue)
}

// shrink evicts up to max victims while the cache is over its budget, as
// after SetMaxEntries or SetMaxCost lowered it, and returns how many it
// evicted.
func (s *shard[K, V]) shrink(max int, now int64, rm *removals[K, V]) int {
	s.lock()
	defer s.unlock()
	n := 0
	for n < max && s.b.over() && s.evictOne(now, rm) {
		n++
	}
	return n
}

// addCostSat returns a+b clamped to [0, math.MaxInt64]; a is never
// negative.
func addCostSat(a, b int64) int64 {
	v, _ := addCost(a, b, 0)
	return v
}
