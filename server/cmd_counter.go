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
		if c.tx == nil && !c.srv.aofOn() {
			// Outside EXEC (and with no AOF, whose record reads the key
			// back through a Tx after the write), one Compute: one lock and one lookup, and the
			// entry keeps its deadline. fn runs under the key's shard
			// lock, as c.changed needs. The key is a copy: Compute stores
			// it if the key is new.
			c.srv.cache.Compute(ownKey(args[1]), func(old []byte, found bool) ([]byte, shardcache.ComputeOp) {
				var v []byte
				v, n, err = strval.IncrBy(old, found, d)
				if err != nil {
					return nil, shardcache.ComputeKeep
				}
				c.changed(key, 1)
				return v[:len(v):len(v)], shardcache.ComputeSet
			})
			if err != nil {
				c.errorReply(err.Error())
				return
			}
			c.w.Int(n)
			return
		}
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
		if err != nil {
			c.errorReply(err.Error())
			return
		}
		c.w.Int(n)
	}
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
