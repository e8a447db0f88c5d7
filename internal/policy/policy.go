// Package policy decides which entry a cache shard evicts.
//
// A shard keeps its entries in a map and hands every change in their
// lifetime to a Policy: an entry was inserted, was read (Touch, replayed
// from the shard's read buffer), left the cache, or must make room (Victim).
// The policy owns only the ordering; it never sees keys or values, only the
// Node embedded in each entry and the key's 64-bit hash, which is enough for
// ghost lists and frequency sketches. Policies are not safe for concurrent
// use: the shard calls them under its write lock.
//
// Three policies are here: LRU; ARC (Megiddo and Modha, FAST 2003), with
// an optional TinyLFU admission filter (NewARCTinyLFU); and WTinyLFU, a
// small LRU window in front of a segmented LRU main space guarded by a
// TinyLFU frequency sketch, whose window size adapts by hill climbing.
// Each is sized from the capacity of the shard that owns it.
package policy

import "github.com/shardcache/shardcache/internal/list"

// Node is a policy's handle on one cache entry: the cache embeds one in
// each entry and sets Hash to the key's hash before Insert. It is the
// recency list's own node (list.Node), so a policy walking a list finds the
// key's hash without a second object: 32 bytes per entry. It holds no
// pointer back to its entry; the cache maps the node Victim names to its
// entry itself. The zero Node is ready for Insert;
// Linked reports whether a policy holds it.
type Node[T any] = list.Node[T]

// queue is an intrusive recency list of Nodes (list.List), with holds to ask
// whether a node is in it.
type queue[T any] struct{ list.List[T] }

// holds reports whether n is in q.
func (q *queue[T]) holds(n *Node[T]) bool { return n.In(&q.List) }

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
	// Victim returns the node of the entry to evict next to make room, and
	// false when the policy holds nothing. It does not remove it: the cache
	// does, by calling Remove(n, true).
	Victim() (*Node[T], bool)
	// Len returns the number of entries held.
	Len() int
	// Resize changes the capacity the policy adapts within (0: learn it
	// from the entries held, as a policy made for capacity 0 does). It
	// keeps every entry; the shard evicts what no longer fits.
	Resize(capacity int)
}
