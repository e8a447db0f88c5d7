package policy

// None keeps no order: it is the policy of a cache that never evicts
// (shardcache's NoEviction). Insert and Remove only count, Touch does
// nothing, and Victim never names an entry, so a shard over its budget
// refuses new entries instead of making room. It is not safe for
// concurrent use; the shard calls it under its write lock.
type None[T any] struct{ n int }

// NewNone returns an empty None policy.
func NewNone[T any]() *None[T] { return &None[T]{} }

// Insert counts n.
func (p *None[T]) Insert(*Node[T]) { p.n++ }

// Touch does nothing: no order is kept.
func (p *None[T]) Touch(*Node[T]) {}

// Remove uncounts n.
func (p *None[T]) Remove(*Node[T], bool) { p.n-- }

// Victim names no entry: None never evicts.
func (p *None[T]) Victim() (*Node[T], bool) { return nil, false }

// Len returns the number of entries held.
func (p *None[T]) Len() int { return p.n }

// Resize does nothing.
func (p *None[T]) Resize(int) {}
