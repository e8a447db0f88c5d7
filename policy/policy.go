// Package policy decides which entry a cache shard evicts.
//
// A shard keeps its entries in a map and hands every change in their
// lifetime to a Policy: an entry was inserted, was read (Touch, replayed
// from the shard's read buffer), left the cache, or must make room (Victim).
// The policy owns only the ordering; it never sees keys or values, only the
// Node embedded in each entry and the key's 64-bit hash, which is enough for
// ghost lists and frequency sketches. Policies are not safe for concurrent
// use: the shard calls them under its write lock.
package policy

import "github.com/shardcache/shardcache/lru"

// Node is a policy's handle on one cache entry; the cache embeds one in
// each entry and points Value back at the entry. The zero Node is ready for
// Insert.
type Node[T any] struct {
	lru.Node[T] // links in whichever list the policy keeps the entry in

	// Hash is the entry's key hash, set by the cache before Insert.
	Hash uint64
	// where is the policy's own note of which of its lists holds the node.
	where uint8
}

// Policy orders the entries of one shard. Every method is O(1) amortised and
// does not allocate, except where a policy documents otherwise.
type Policy[T any] interface {
	// Insert adds a new entry.
	Insert(n *Node[T])
	// Touch records a hit on an entry the policy holds.
	Touch(n *Node[T])
	// Remove forgets an entry the policy holds. evicted is true when the
	// entry leaves because Victim named it, false for deletions, expiry and
	// replacement; a policy may remember evicted keys (ARC's ghosts).
	Remove(n *Node[T], evicted bool)
	// Victim returns the entry to evict next to make room, and false when
	// the policy holds nothing. It does not remove it: the cache does, by
	// calling Remove(n, true).
	Victim() (T, bool)
	// Len returns the number of entries held.
	Len() int
}
