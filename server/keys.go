package server

import (
	"unsafe"

	"github.com/shardcache/shardcache"
)

// etx is the engine's transaction over the keyspace.
type etx = shardcache.Tx[string, []byte]

// tx is EXEC's transaction: every queued command runs in it.
type tx struct {
	t *etx
}

// lookupKey views an argument as a string for a lookup, without copying.
// The string aliases the connection's read buffer: it may be passed to
// calls that only read (Get, Peek, TTL, Delete, Atomic's key list) but
// must never be stored; ownKey copies a key that will be.
func lookupKey(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// ownKey copies an argument into a string the cache may keep.
func ownKey(b []byte) string { return string(b) }

// ownValue copies an argument into a value the cache may keep. Values are
// never changed once stored (a reply may still be writing an old one):
// commands that modify a value build a new slice.
func ownValue(b []byte) []byte {
	v := make([]byte, len(b))
	copy(v, b)
	return v
}

// atomic runs fn with the shards of keys locked: inside EXEC, in EXEC's
// transaction (which already holds them); otherwise in one of its own.
func (c *client) atomic(keys []string, fn func(t *etx)) {
	if c.tx != nil {
		fn(c.tx.t)
		return
	}
	c.srv.cache.Atomic(keys, func(t *etx) { c.inAtomic(t, fn) })
}

// atomic1 is atomic for one key.
func (c *client) atomic1(key string, fn func(t *etx)) {
	if c.tx != nil {
		fn(c.tx.t)
		return
	}
	c.srv.cache.Atomic([]string{key}, func(t *etx) { c.inAtomic(t, fn) })
}

// atomicAll runs fn with every shard locked.
func (c *client) atomicAll(fn func(t *etx)) {
	if c.tx != nil {
		fn(c.tx.t)
		return
	}
	c.srv.cache.AtomicAll(func(t *etx) { c.inAtomic(t, fn) })
}

// get reads a live value without a transaction of its own when none is
// needed: a plain read is atomic by itself.
func (c *client) get(key string) ([]byte, bool) {
	if c.tx != nil {
		e, ok := c.tx.t.Get(key)
		return e.Value, ok
	}
	return c.srv.cache.Get(key)
}

// entry reads a live entry with its deadline.
func (c *client) entry(key string) (shardcache.Entry[[]byte], bool) {
	if c.tx != nil {
		return c.tx.t.Get(key)
	}
	return c.srv.cache.GetEntry(key)
}

// changed records a write to key: a change for the save rules, a touch
// for the clients WATCHing it, and the key's new state for the AOF.
// Callers hold key's shard lock (inside atomic), so that EXEC, which checks
// its watches under the same locks, sees every write that happened before
// it, and the AOF has the writes to a key in the order they were applied.
func (c *client) changed(key string, n int64) {
	c.srv.dirty.Add(n)
	c.srv.watch.touch(key)
	if c.srv.aofOn() {
		c.aofRecordKey(key)
	}
}

// storeKey is the key to pass to a Tx write of key, whose argument is arg:
// the argument itself (no copy) when the Tx found key live, since a live
// entry keeps the key it holds (Tx.SetKeepTTL's doc), a copy otherwise.
func storeKey(arg []byte, live bool) string {
	if live {
		return lookupKey(arg)
	}
	return ownKey(arg)
}
