package shardcache

import (
	"sync"
	"sync/atomic"

	"github.com/shardcache/shardcache/internal/expiry"
	"github.com/shardcache/shardcache/internal/policy"
)

// entry is one cached key. A shard allocates it when the key is first
// stored and, when the policy evicts it, may reuse it for the next key it
// inserts (newEntry, recycle); a record of it left in a read buffer is
// recognised by its node being unlinked, or by its key (recordFull).
//
// Its fields are ordered for Get, which reads the key, the value, the stamp
// and the deadline: the first 40 bytes with string keys. An int/int entry
// is 72 bytes and a string/int one 80, both in the 80-byte size class, as
// TestEntrySize checks. The stamp and the cost share one word to get there:
// with both 8 bytes wide, a string-keyed entry took 88 bytes and the
// 96-byte class. The timer that schedules a deadline is a separate object,
// attached only to entries that have one, and the policy node has no
// pointer back to the entry: table.owner finds the entry.
type entry[K comparable, V any] struct {
	key   K
	value V
	// stamp is the low 32 bits of the shard's promotion count just after
	// the policy last promoted e (0: never); see shard.isFresh.
	stamp atomic.Uint32
	// cost is e's cost, or bigCost when it does not fit in 32 bits and is
	// kept in shard.bigCosts instead; see shard.costOf.
	cost uint32
	// deadline is the clock time at which e expires; 0: never.
	deadline int64
	// timer schedules the deadline in the shard's wheel: nil while e has
	// never had a deadline, and given back to the shard when e leaves
	// (shard.releaseTimer).
	timer *expiry.Timer[*entry[K, V]]
	node  policy.Node[*entry[K, V]]
}

// expired reports whether e's deadline has passed at clock time now.
func (e *entry[K, V]) expired(now int64) bool {
	return e.deadline != 0 && e.deadline <= now
}

// noDue marks a shard whose wheel holds no timer.
const noDue = 1<<63 - 1

// shard is one lock stripe of the cache: a map from key hash to entries, the
// recency list that orders them, the timing wheel that expires them, and the
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

// drainReads replays every pending access record into the recency list.
// Every write-locked operation that reorders or evicts calls it first, so
// with a single goroutine the list is exactly LRU.
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

// insert stores a new entry at the front of the recency list.
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

// setDeadline gives e the deadline d (0: none) and (un)schedules its timer.
func (s *shard[K, V]) setDeadline(e *entry[K, V], d, now int64) {
	e.deadline = d
	if d == 0 {
		s.cancelTimer(e)
		return
	}
	if s.wheel == nil {
		s.wheel = expiry.New[*entry[K, V]](clockTick, now)
	}
	if e.timer == nil {
		e.timer = s.newTimer(e)
	}
	s.wheel.Schedule(e.timer, d)
	// The wheel fires a timer once the tick holding its deadline has passed.
	due := d - d%int64(clockTick) + int64(clockTick)
	if due < 0 { // overflow for deadlines near the end of time
		due = noDue - 1
	}
	if due < s.nextDue.Load() {
		s.nextDue.Store(due)
	}
}

// cancelTimer unschedules e's timer, if any. When that empties the wheel,
// the shard tells the janitor it has nothing due, so that the janitor can
// go idle instead of waking every tick until the cancelled deadline.
func (s *shard[K, V]) cancelTimer(e *entry[K, V]) {
	if e.timer == nil || !e.timer.Scheduled() {
		return
	}
	s.wheel.Cancel(e.timer)
	if s.wheel.Len() == 0 {
		s.nextDue.Store(noDue)
	}
}

// maxSpareTimers bounds how many timers of departed entries a shard keeps.
// Entries that expire or are deleted leave their timers here, and the next
// entries to get a deadline take them, so a cache whose keys come and go
// with a TTL allocates one object per new key, not two.
const maxSpareTimers = 32

// newTimer returns an unscheduled timer for e: a spare one, else a new one.
func (s *shard[K, V]) newTimer(e *entry[K, V]) *expiry.Timer[*entry[K, V]] {
	var t *expiry.Timer[*entry[K, V]]
	if n := len(s.timers); n > 0 {
		t = s.timers[n-1]
		s.timers[n-1] = nil
		s.timers = s.timers[:n-1]
	} else {
		t = new(expiry.Timer[*entry[K, V]])
	}
	t.Value = e
	return t
}

// releaseTimer unschedules e's timer, if it has one, and takes it from e
// for a later entry. e is leaving the shard: nothing reads its timer again
// (Get and the snapshot read e.deadline).
func (s *shard[K, V]) releaseTimer(e *entry[K, V]) {
	if e.timer == nil {
		return
	}
	s.cancelTimer(e)
	if len(s.timers) < maxSpareTimers {
		e.timer.Value = nil
		s.timers = append(s.timers, e.timer)
	}
	e.timer = nil
}

// bigCost in entry.cost marks a cost of 2³²-1 or more, kept in
// shard.bigCosts. Costs that large are rare (a byte budget with values of
// 4 GiB), so they pay a map lookup on writes and every other entry saves
// four bytes.
const bigCost = 1<<32 - 1

// costOf returns e's cost. Callers hold the write lock.
func (s *shard[K, V]) costOf(e *entry[K, V]) int64 {
	if e.cost != bigCost {
		return int64(e.cost)
	}
	return s.bigCosts[e]
}

// storeCost gives e the cost c (which fits has accepted) without touching
// the shard's total. Callers hold the write lock.
func (s *shard[K, V]) storeCost(e *entry[K, V], c int64) {
	if e.cost == bigCost {
		delete(s.bigCosts, e)
	}
	if c < bigCost {
		e.cost = uint32(c)
		return
	}
	if s.bigCosts == nil {
		s.bigCosts = make(map[*entry[K, V]]int64)
	}
	s.bigCosts[e] = c
	e.cost = bigCost
}

// recost changes the cost of e, which the shard holds, to c, keeping the
// shard's total in step. Callers hold the write lock.
func (s *shard[K, V]) recost(e *entry[K, V], c int64) {
	s.cost += c - s.costOf(e)
	s.storeCost(e, c)
}

// fits reports whether an entry of the given cost may be stored at all.
func (s *shard[K, V]) fits(cost int64) bool {
	return cost >= 0 && (s.maxCost == 0 || cost <= s.maxCost)
}

// evict removes least recently used entries until the shard is within its
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

// newEntry returns an entry for a key about to be inserted: the spare one
// if the shard has it, else a new one.
//
// Reusing evicted entries spares a Set that evicts the allocation and its
// share of garbage collection, and hands it memory the eviction has just
// brought into the processor's cache (BenchmarkEvictingSet). Callers hold the
// write lock.
func (s *shard[K, V]) newEntry(h uint64, key K, value V, cost int64) *entry[K, V] {
	e := s.spare
	if e == nil {
		e = new(entry[K, V])
	}
	s.spare = nil
	e.key, e.value = key, value
	s.storeCost(e, cost)
	e.node.Hash = h
	return e
}

// recycle keeps e, just evicted, as the shard's spare entry, cleared so
// that it holds on to none of the caller's memory. Only evict calls it,
// and every caller of evict has drained the read buffer while holding the
// write lock, so no access record can name e any more; the one pointer that
// may survive, a Get's record waiting in recordFull, is checked against
// the key there.
func (s *shard[K, V]) recycle(e *entry[K, V]) {
	var (
		zk K
		zv V
	)
	e.key, e.value = zk, zv
	e.deadline = 0
	e.stamp.Store(0)
	s.spare = e
}

// expire advances the wheel to now and removes every entry it fires.
func (s *shard[K, V]) expire(now int64, rm *removals[K, V]) {
	if s.wheel == nil {
		return
	}
	s.wheel.Advance(now, func(t *expiry.Timer[*entry[K, V]]) {
		s.remove(t.Value, ReasonExpired, rm)
	})
	if due, ok := s.wheel.NextDue(); ok {
		s.nextDue.Store(due)
	} else {
		s.nextDue.Store(noDue)
	}
}

// removal is one OnRemove call waiting for the shard lock to be released.
type removal[K comparable, V any] struct {
	key    K
	value  V
	reason RemoveReason
}

// removals collects the OnRemove calls an operation owes, so that they run
// after the shard lock is released. A nil *removals collects nothing (the
// cache has no OnRemove). The first two fit inline, so the common case of a
// Set that evicts one entry does not allocate.
type removals[K comparable, V any] struct {
	n      int
	inline [2]removal[K, V]
	more   []removal[K, V]
}

func (r *removals[K, V]) add(key K, value V, why RemoveReason) {
	if r == nil {
		return
	}
	if r.n < len(r.inline) {
		r.inline[r.n] = removal[K, V]{key, value, why}
	} else {
		r.more = append(r.more, removal[K, V]{key, value, why})
	}
	r.n++
}

// run calls fn for every collected removal, in order, and resets r.
func (r *removals[K, V]) run(fn func(K, V, RemoveReason)) {
	if r == nil || r.n == 0 {
		return
	}
	for i := 0; i < r.n && i < len(r.inline); i++ {
		fn(r.inline[i].key, r.inline[i].value, r.inline[i].reason)
		r.inline[i] = removal[K, V]{}
	}
	for i := range r.more {
		fn(r.more[i].key, r.more[i].value, r.more[i].reason)
		r.more[i] = removal[K, V]{}
	}
	r.n = 0
	r.more = r.more[:0]
}
