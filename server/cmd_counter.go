package server

import (
	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/server/internal/strval"
)

// incrBy serves INCR, DECR (delta fixed) and INCRBY, DECRBY (delta read
// from args[2], negated for DECRBY).
func incrBy(delta int64, fromArg, negate bool) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		d := delta
		if fromArg {
			n, ok := strval.ParseInt(args[2])
			if !ok {
				c.errorReply(errNotInteger)
				return
			}
			if negate {
				if n == -1<<63 {
					c.errorReply("ERR decrement would overflow")
					return
				}
				n = -n
			}
			d = n
		}
		key := lookupKey(args[1])
		var n int64
		var err error
		if c.tx == nil {
			n, err = c.incrCompute(args[1], d)
		} else {
			c.atomic1(key, func(t *etx) {
				e, found := t.Get(key)
				var v []byte
				v, n, err = strval.IncrBy(e.Value, found, d)
				if err != nil {
					return
				}
				v = v[:len(v):len(v)] // not raw (isRaw): Redis encodes counters as int
				t.SetKeepTTL(storeKey(args[1], found), v)
				c.changed(key, 1)
			})
		}
		if err != nil {
			c.errorReply(err.Error())
			return
		}
		c.w.Int(n)
	}
}

// incrCompute runs INCRBY key d outside EXEC as one ComputeEntry: one lock
// and one lookup, the entry keeps its deadline, and fn runs under the key's
// shard lock, as c.changed and the AOF's order need. With the AOF on, the
// record (the new value with the key's absolute deadline) is appended
// inside fn, under that lock. It returns the new value, or the error to
// answer with.
//
// The first try passes the argument itself as the key, uncopied: a
// present entry keeps the key it was stored with (ComputeSet's doc), so a
// counter that exists costs no copy. Only when the key is absent does a
// second try pass a copy the engine may store.
func (c *client) incrCompute(arg []byte, d int64) (n int64, err error) {
	key := lookupKey(arg)
	logged, borrowed, retry := false, true, false
	fn := func(old shardcache.Entry[[]byte], found bool) ([]byte, shardcache.ComputeOp) {
		if !found && borrowed {
			retry = true
			return nil, shardcache.ComputeKeep // the borrowed key must not be stored
		}
		var v []byte
		v, n, err = strval.IncrBy(old.Value, found, d)
		if err != nil {
			return nil, shardcache.ComputeKeep
		}
		v = v[:len(v):len(v)] // not raw (isRaw): Redis encodes counters as int
		c.changed(key, 1)     // outside Atomic: dirty count and WATCH only
		// Whether the AOF is on is read under the lock, as changed reads
		// it inside Atomic, so that turning it on cannot miss this write.
		if logged = c.srv.aofOn() && !c.aofc.replaying; logged {
			a := &c.aofc
			a.buf, a.n = a.buf[:0], 0
			c.aofRecordState(key, v, old.Deadline, true)
			c.aofCommit(false)
		}
		return v, shardcache.ComputeSet
	}
	_, stored := c.srv.cache.ComputeEntry(key, fn)
	if retry {
		borrowed = false
		_, stored = c.srv.cache.ComputeEntry(ownKey(arg), fn)
	}
	if !stored && err == nil && logged {
		// The engine refused the value (its cost is over maxmemory) after
		// its SET was logged: log the state it left, under the key's lock,
		// so that the file's last record for the key matches the keyspace.
		c.atomic1(key, func(*etx) { c.aofRecordKey(key) })
	}
	return n, err
}

func cmdIncrByFloat(c *client, args [][]byte) {
	key := lookupKey(args[1])
	var v []byte
	var err error
	c.atomic1(key, func(t *etx) {
		e, found := t.Get(key)
		v, err = strval.IncrByFloat(e.Value, found, args[2])
		if err != nil {
			return
		}
		v = markFloat(v) // Redis encodes the result embstr, even "3"
		t.SetKeepTTL(storeKey(args[1], found), v)
		c.changed(key, 1)
	})
	if err != nil {
		c.errorReply(err.Error())
		return
	}
	c.w.Bulk(v)
}
