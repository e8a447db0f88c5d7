package policy

// LRU evicts the least recently used entry: Insert and Touch move an entry
// to the front of one list, Victim is its back.
type LRU[T any] struct {
	list queue[T]
}

// NewLRU returns an empty LRU policy.
func NewLRU[T any]() *LRU[T] { return &LRU[T]{} }

// Insert makes n the most recently used entry.
func (p *LRU[T]) Insert(n *Node[T]) { p.list.PushFront(n) }

// Touch makes n the most recently used entry.
func (p *LRU[T]) Touch(n *Node[T]) { p.list.MoveToFront(n) }

// Remove unlinks n.
func (p *LRU[T]) Remove(n *Node[T], _ bool) { p.list.Remove(n) }

// Victim returns the least recently used entry.
func (p *LRU[T]) Victim() (*Node[T], bool) {
	if b := p.list.Back(); b != nil {
		return b, true
	}
	return nil, false
}

// Len returns the number of entries held.
func (p *LRU[T]) Len() int { return p.list.Len() }

// Resize does nothing: LRU's order does not depend on its capacity.
func (p *LRU[T]) Resize(int) {}
