// Package list holds the intrusive doubly linked list the eviction policies
// build their recency queues from (LRU's one list, ARC's two, W-TinyLFU's
// window, probation and protected segments).
//
// The list is intrusive: the cache embeds one Node in every entry, so linking,
// unlinking and moving an entry to the front cost a few pointer writes and
// never allocate. A policy keeps its most recently used entry at the front
// and takes victims from the back. The package knows nothing about keys (a
// Node only carries the caller's hash of one), maps or locks; the policy
// that owns a List, under its shard's lock, decides when accesses are
// applied to it.
package list

// Node is one element of a List. Embed it in the value you want to order; the
// type parameter only keeps nodes of different lists apart, and the Node
// holds no pointer back to that value (the embedding caller finds its value
// from the node, as the shard does through its table). A Node belongs to at
// most one List at a time. The zero Node is unlinked and ready to use.
type Node[T any] struct {
	// Hash is the caller's hash of the value's key, kept here so that a
	// caller walking a list (an eviction policy comparing a victim's
	// popularity, or remembering it as a ghost) finds it without a second
	// object; the List never reads it.
	Hash uint64

	prev, next *Node[T]
	list       *List[T]
}

// Linked reports whether n is currently in a List.
func (n *Node[T]) Linked() bool { return n.list != nil }

// Forget unlinks n without touching the List it was in, for a caller that
// discards that whole List (a shard switching policies): the List's other
// nodes and its length are left as they were, so the List must not be
// used again.
func (n *Node[T]) Forget() { n.prev, n.next, n.list = nil, nil, nil }

// In reports whether n is currently in l. A caller that keeps nodes in
// several lists can ask where a node is without a field of its own.
func (n *Node[T]) In(l *List[T]) bool { return n.list == l }

// Prev returns the node after which n was last used more recently (towards
// the front), or nil if n is the front or is unlinked.
func (n *Node[T]) Prev() *Node[T] {
	if n.list == nil || n.prev == &n.list.root {
		return nil
	}
	return n.prev
}

// Next returns the node used less recently than n (towards the back), or nil
// if n is the back or is unlinked.
func (n *Node[T]) Next() *Node[T] {
	if n.list == nil || n.next == &n.list.root {
		return nil
	}
	return n.next
}

// List is a doubly linked recency list: front is most recently used, back is
// least recently used. The zero List is empty and ready to use. A List must
// not be copied after first use.
//
// List is not safe for concurrent use; the cache calls it only under its
// shard's write lock. Every method is O(1) and allocation free.
type List[T any] struct {
	root Node[T] // sentinel: root.next is the front, root.prev the back
	len  int
}

func (l *List[T]) lazyInit() {
	if l.root.next == nil {
		l.root.next = &l.root
		l.root.prev = &l.root
	}
}

// Len returns the number of nodes in l.
func (l *List[T]) Len() int { return l.len }

// Front returns the most recently used node, or nil if l is empty.
func (l *List[T]) Front() *Node[T] {
	if l.len == 0 {
		return nil
	}
	return l.root.next
}

// Back returns the least recently used node, or nil if l is empty.
func (l *List[T]) Back() *Node[T] {
	if l.len == 0 {
		return nil
	}
	return l.root.prev
}

// PushFront links n at the front of l. If n is already in a list it is first
// removed from it.
func (l *List[T]) PushFront(n *Node[T]) {
	if n.list != nil {
		n.list.Remove(n)
	}
	l.lazyInit()
	l.insertAfter(n, &l.root)
}

// PushBack links n at the back of l. If n is already in a list it is first
// removed from it.
func (l *List[T]) PushBack(n *Node[T]) {
	if n.list != nil {
		n.list.Remove(n)
	}
	l.lazyInit()
	l.insertAfter(n, l.root.prev)
}

// MoveToFront makes n the most recently used node. It does nothing if n is
// not in l.
func (l *List[T]) MoveToFront(n *Node[T]) {
	if n.list != l || l.root.next == n {
		return
	}
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev = &l.root
	n.next = l.root.next
	n.prev.next = n
	n.next.prev = n
}

// Remove unlinks n from l. It does nothing if n is not in l.
func (l *List[T]) Remove(n *Node[T]) {
	if n.list != l {
		return
	}
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next, n.list = nil, nil, nil
	l.len--
}

// insertAfter links n after at; at must be in l.
func (l *List[T]) insertAfter(n, at *Node[T]) {
	n.prev = at
	n.next = at.next
	at.next.prev = n
	at.next = n
	n.list = l
	l.len++
}
