package shardcache

// A snapshot reaches into a shard through these two methods only: a save
// reads the table's slots under the read lock, a load sizes an empty table
// before filling it through the ordinary Set path.

// readSlots calls fn with the slots of the shard's table and the number of
// entries they hold, under the shard's read lock: a save copies the live
// entries out of them (see shardEncoder.copy). Gets proceed meanwhile;
// writes to the shard wait until fn returns. fn must only read, must not
// keep slots, and must not call the shard or the cache.
func (s *shard[K, V]) readSlots(fn func(slots []slot[K, V], entries int)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(s.m.slots, s.len)
}

// reserve gives the table of an empty, open shard room for n entries (at
// most MaxEntries), so that loading many entries does not
// grow it step by step. A shard that holds entries or is closed is left as
// it is.
func (s *shard[K, V]) reserve(n int) {
	if maxEntries := s.b.maxEntries.Load(); maxEntries > 0 {
		n = int(min(int64(n), maxEntries))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.len == 0 && !s.closed {
		s.m.init(n)
	}
}
