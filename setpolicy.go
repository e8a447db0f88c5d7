package shardcache

// SetPolicy changes the eviction policy and admission filter of a running
// cache, as CONFIG SET maxmemory-policy does in Redis. The new policy
// starts from the entries held, in no particular order (the table's): it
// learns recency and frequency from the accesses that follow, so the first
// evictions after a switch pick among the entries not used since, not the
// least recently used of them all. Switching to NoEviction drops the
// order; switching from it builds one, and the bounds are then enforced at
// once, by evicting as SetMaxEntries does.
//
// Each shard's write lock is held while its entries join the new policy,
// for a time proportional to the entries the shard holds, so its readers
// and writers wait that long; the shards switch one after the other, and
// a write meanwhile follows the policy its shard has at that moment (a
// shard still under NoEviction refuses a new key that another would evict
// for). It returns an error wrapping ErrInvalidConfig, changing nothing,
// for a combination New refuses. It is safe to call concurrently with
// every method; concurrent calls leave one of their choices in place.
func (c *Cache[K, V]) SetPolicy(p Policy, a Admission) error {
	if err := checkPolicy(p, a); err != nil {
		return err
	}
	c.tune.Lock()
	defer c.tune.Unlock()
	maxEntries := int(c.budget.maxEntries.Load())
	for i := range c.shards {
		s := &c.shards[i]
		s.lock()
		s.drainReads() // records name nodes of the old policy
		np := newPolicy[*entry[K, V]](p, a, split(maxEntries, len(c.shards), i))
		s.m.each(func(e *entry[K, V]) bool {
			e.node.Forget() // the old policy is dropped whole
			np.Insert(&e.node)
			return true
		})
		s.usePolicy(np)
		s.unlock()
	}
	c.shrink()
	return nil
}
