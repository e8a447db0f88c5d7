package shardcache

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
