package server

import (
	"strconv"
	"strings"

	"github.com/shardcache/shardcache/server/config"
	"github.com/shardcache/shardcache/server/internal/strval"
)

// argKeys returns args[1:] as lookup keys.
func argKeys(args [][]byte) []string {
	keys := make([]string, len(args)-1)
	for i, a := range args[1:] {
		keys[i] = lookupKey(a)
	}
	return keys
}

// cmdDel serves DEL and UNLINK (memory is the garbage collector's either
// way, so UNLINK has nothing to do in the background).
func cmdDel(c *client, args [][]byte) {
	keys := argKeys(args)
	n := 0
	c.atomic(keys, func(t *etx) {
		for _, k := range keys {
			if t.Delete(k) {
				n++
				c.changed(k, 1)
			}
		}
	})
	c.w.Int(int64(n))
}

func cmdExists(c *client, args [][]byte) {
	n := 0
	for _, a := range args[1:] {
		if c.exists(lookupKey(a)) {
			n++
		}
	}
	c.w.Int(int64(n))
}

// exists reports whether key is live, without counting as an access.
func (c *client) exists(key string) bool {
	if c.tx != nil {
		_, ok := c.tx.t.Get(key)
		return ok
	}
	_, ok := c.srv.cache.Peek(key)
	return ok
}

func cmdType(c *client, args [][]byte) {
	if c.exists(lookupKey(args[1])) {
		c.w.SimpleString("string")
		return
	}
	c.w.SimpleString("none")
}

func cmdTouch(c *client, args [][]byte) {
	n := 0
	for _, a := range args[1:] {
		if _, ok := c.get(lookupKey(a)); ok {
			n++
		}
	}
	c.w.Int(int64(n))
}

func cmdCopy(c *client, args [][]byte) {
	replace := false
	for i := 3; i < len(args); i++ {
		switch {
		case strings.EqualFold(string(args[i]), "REPLACE"):
			replace = true
		case strings.EqualFold(string(args[i]), "DB") && i+1 < len(args):
			db, ok := parseInt(args[i+1])
			if !ok {
				c.errorReply(errNotInteger)
				return
			}
			if db != 0 {
				c.errorReply("ERR DB index is out of range")
				return
			}
			i++
		default:
			c.errorReply(errSyntax)
			return
		}
	}
	src, dst := lookupKey(args[1]), lookupKey(args[2])
	if src == dst {
		c.errorReply("ERR source and destination objects are the same")
		return
	}
	copied := false
	c.atomic([]string{src, dst}, func(t *etx) {
		e, ok := t.Get(src)
		if !ok {
			return
		}
		if _, exists := t.Get(dst); exists && !replace {
			return
		}
		t.Set(ownKey(args[2]), e.Value, e.TTL)
		if !e.Deadline.IsZero() {
			t.ExpireAt(dst, e.Deadline)
		}
		copied = true
		c.changed(dst, 1)
	})
	c.int01(copied)
}

// rename serves RENAME and RENAMENX (nx).
func rename(nx bool) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		src, dst := lookupKey(args[1]), lookupKey(args[2])
		msg := ""
		done := false
		c.atomic([]string{src, dst}, func(t *etx) {
			e, ok := t.Get(src)
			if !ok {
				msg = errNoSuchKey
				return
			}
			if src == dst {
				done = !nx
				return
			}
			if _, exists := t.Get(dst); exists && nx {
				return
			}
			t.Set(ownKey(args[2]), e.Value, e.TTL)
			if !e.Deadline.IsZero() {
				t.ExpireAt(dst, e.Deadline)
			}
			t.Delete(src)
			c.changed(src, 1)
			c.changed(dst, 1)
			done = true
		})
		switch {
		case msg != "":
			c.errorReply(msg)
		case nx:
			c.int01(done)
		default:
			c.w.SimpleString("OK")
		}
	}
}

func cmdKeys(c *client, args [][]byte) {
	pattern := string(args[1])
	all := pattern == "*"
	var keys []string
	c.atomicAll(func(t *etx) {
		t.Keys(func(k string) bool {
			if all || config.Match(pattern, k, false) {
				keys = append(keys, k)
			}
			return true
		})
	})
	c.w.ArrayHeader(len(keys))
	for _, k := range keys {
		c.w.BulkString(k)
	}
}

func cmdScan(c *client, args [][]byte) {
	cursor, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		c.errorReply("ERR invalid cursor")
		return
	}
	count := 10
	var pattern string
	hasPattern, typeOK := false, true
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.errorReply(errSyntax)
			return
		}
		opt, val := args[i], args[i+1]
		switch {
		case strings.EqualFold(string(opt), "COUNT"):
			n, ok := parseInt(val)
			if !ok {
				c.errorReply(errNotInteger)
				return
			}
			if n < 1 {
				c.errorReply(errSyntax)
				return
			}
			count = int(min(n, 1<<20))
		case strings.EqualFold(string(opt), "MATCH"):
			pattern, hasPattern = string(val), string(val) != "*"
		case strings.EqualFold(string(opt), "TYPE"):
			typeOK = strings.EqualFold(string(val), "string")
		default:
			c.errorReply(errSyntax)
			return
		}
	}
	var keys []string
	var next uint64
	if c.tx != nil {
		// Inside EXEC every shard is locked already: walk the whole
		// keyspace in one step.
		c.tx.t.Keys(func(k string) bool { keys = append(keys, k); return true })
	} else {
		keys, next = c.srv.cache.Scan(cursor, count, nil)
	}
	out := keys[:0]
	for _, k := range keys {
		if typeOK && (!hasPattern || config.Match(pattern, k, false)) {
			out = append(out, k)
		}
	}
	c.w.ArrayHeader(2)
	c.w.BulkString(strconv.FormatUint(next, 10))
	c.w.ArrayHeader(len(out))
	for _, k := range out {
		c.w.BulkString(k)
	}
}

func cmdRandomKey(c *client, args [][]byte) {
	var k string
	var ok bool
	if c.tx != nil {
		c.tx.t.Keys(func(key string) bool { k, ok = key, true; return false })
	} else {
		k, ok = c.srv.cache.RandomKey()
	}
	if !ok {
		c.w.Null()
		return
	}
	c.w.BulkString(k)
}

func cmdDBSize(c *client, args [][]byte) {
	if c.tx != nil {
		c.w.Int(int64(c.tx.t.Len()))
		return
	}
	c.w.Int(int64(c.srv.cache.Len()))
}

// cmdFlush serves FLUSHDB and FLUSHALL: there is one database.
func cmdFlush(c *client, args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !strings.EqualFold(string(args[1]), "ASYNC") && !strings.EqualFold(string(args[1]), "SYNC") {
		c.errorReply(errSyntax)
		return
	}
	c.atomicAll(func(t *etx) {
		n := t.Len()
		c.srv.watch.touchExisting(func(k string) bool { _, ok := t.Get(k); return ok })
		t.Clear()
		c.srv.dirty.Add(int64(n) + 1)
		c.aofRecordFlush()
	})
	if lowerASCII(args[0]) == "flushall" && c.srv.persist.enabled() && len(c.srv.saveRules()) > 0 {
		// As Redis: FLUSHALL with save rules writes the empty dataset
		// at once, so that a restart does not bring the keys back.
		if err := c.srv.saveNow(); err == nil {
			c.srv.dirty.Store(0)
		}
	}
	c.w.SimpleString("OK")
}

// parseInt reads an integer argument with Redis's rules.
func parseInt(b []byte) (int64, bool) {
	return strval.ParseInt(b)
}

// int01 answers :1 for true and :0 for false.
func (c *client) int01(b bool) {
	if b {
		c.w.Int(1)
		return
	}
	c.w.Int(0)
}
