package shardcache

import "strconv"

// RemoveReason tells Config.OnRemove why an entry left the cache.
type RemoveReason uint8

const (
	// ReasonEvicted: the shard's eviction policy (Config.Policy) chose the
	// entry as its victim when the shard was over its entry or cost budget.
	ReasonEvicted RemoveReason = iota + 1
	// ReasonExpired: the entry's deadline passed. It is reported by the
	// background expiry within two wheel ticks of the deadline, or earlier by a
	// write that finds it expired.
	ReasonExpired
	// ReasonDeleted: Delete (or SetWithTTL with a negative ttl) removed it.
	ReasonDeleted
	// ReasonReplaced: Set or Update stored a new value for the key; OnRemove
	// receives the old value.
	ReasonReplaced
	// ReasonCleared: Clear removed it.
	ReasonCleared
)

// String returns the reason's lower-case name, such as "evicted".
func (r RemoveReason) String() string {
	switch r {
	case ReasonEvicted:
		return "evicted"
	case ReasonExpired:
		return "expired"
	case ReasonDeleted:
		return "deleted"
	case ReasonReplaced:
		return "replaced"
	case ReasonCleared:
		return "cleared"
	}
	return "RemoveReason(" + strconv.Itoa(int(r)) + ")"
}
