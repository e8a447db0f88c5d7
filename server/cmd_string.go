package server

import (
	"strings"
	"time"

	"github.com/shardcache/shardcache/server/internal/strval"
)

// Errors shared by many commands, in Redis's words.
const (
	errSyntax     = "ERR syntax error"
	errNotInteger = "ERR value is not an integer or out of range"
	errNoSuchKey  = "ERR no such key"
	errOOM        = "OOM command not allowed when used memory > 'maxmemory'."
)

func cmdGet(c *client, args [][]byte) {
	v, ok := c.get(lookupKey(args[1]))
	c.srv.countLookup(ok)
	if !ok {
		c.w.Null()
		return
	}
	c.w.Bulk(v)
}

// setOptions are SET's and GETEX's expiry and condition options.
type setOptions struct {
	nx, xx, get, keepTTL, persist bool
	expire                        []byte // the EX/PX/EXAT/PXAT argument
	expireKind                    string // "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "PERSIST" or ""
	unit                          strval.Unit
	absolute                      bool
}

// parseSetOptions reads SET's options, or GETEX's when getex is set, with
// Redis's rules: an option may repeat (the last value wins) but not meet
// another of its family (NX with XX; EX, PX, EXAT, PXAT, KEEPTTL and PERSIST
// with one another).
func parseSetOptions(args [][]byte, getex bool) (o setOptions, ok bool) {
	for i := 0; i < len(args); i++ {
		opt := strings.ToUpper(string(args[i]))
		hasNext := i+1 < len(args)
		expireOK := o.expireKind == "" || o.expireKind == opt
		switch {
		case !getex && opt == "NX" && !o.xx:
			o.nx = true
		case !getex && opt == "XX" && !o.nx:
			o.xx = true
		case !getex && opt == "GET":
			o.get = true
		case !getex && opt == "KEEPTTL" && expireOK:
			o.keepTTL, o.expireKind = true, opt
		case getex && opt == "PERSIST" && expireOK:
			o.persist, o.expireKind = true, opt
		case (opt == "EX" || opt == "PX" || opt == "EXAT" || opt == "PXAT") && expireOK && hasNext:
			o.unit = strval.Seconds
			if opt[0] == 'P' {
				o.unit = strval.Millis
			}
			o.absolute = strings.HasSuffix(opt, "AT")
			o.expire, o.expireKind = args[i+1], opt
			i++
		default:
			return o, false
		}
	}
	return o, true
}

// deadline computes the absolute deadline of o's expiry option, with the
// error Redis gives for cmd ("set", "getex", ...).
func (o *setOptions) deadline(cmd string) (time.Time, string) {
	n, ok := strval.ParseInt(o.expire)
	if !ok {
		return time.Time{}, errNotInteger
	}
	ms, err := strval.SetExpireMillis(cmd, time.Now(), n, o.unit, o.absolute)
	if err != nil {
		return time.Time{}, err.Error()
	}
	return time.UnixMilli(ms), ""
}

// expiryOptions reads the options of SET (from args[3:]) or GETEX (from
// args[2:]) and the deadline they give (zero: none), answering the error
// and returning ok false when they are bad.
func (c *client) expiryOptions(args [][]byte, getex bool) (o setOptions, deadline time.Time, ok bool) {
	from, cmd := 3, "set"
	if getex {
		from, cmd = 2, "getex"
	}
	if o, ok = parseSetOptions(args[from:], getex); !ok {
		c.errorReply(errSyntax)
		return o, deadline, false
	}
	if o.expire != nil {
		d, msg := o.deadline(cmd)
		if msg != "" {
			c.errorReply(msg)
			return o, deadline, false
		}
		deadline = d
	}
	return o, deadline, true
}

func cmdSet(c *client, args [][]byte) {
	o, deadline, ok := c.expiryOptions(args, false)
	if !ok {
		return
	}
	key := lookupKey(args[1])
	value := ownValue(args[2])
	if !c.srv.fits(key, value) {
		c.errorReply(errOOM)
		return
	}
	var old []byte
	var had, stored bool
	if !o.nx && !o.xx && !o.get && !o.keepTTL && deadline.IsZero() {
		// Plain SET, the hot path: one lookup, no read of the old entry.
		c.atomic1(key, func(t *etx) {
			t.Set(ownKey(args[1]), value, 0)
			c.changed(key, 1)
		})
		c.w.SimpleString("OK")
		return
	}
	c.atomic1(key, func(t *etx) {
		e, found := t.Get(key)
		had, old = found, e.Value
		if (o.nx && found) || (o.xx && !found) {
			return
		}
		k := storeKey(args[1], found)
		switch {
		case o.keepTTL && found:
			t.SetKeepTTL(k, value)
		case !deadline.IsZero():
			if !time.Now().Before(deadline) {
				// A deadline already past: Redis stores and expires at
				// once, which leaves no key.
				t.Delete(key)
			} else {
				// ExpireAt places the deadline exactly (PEXPIRETIME reads
				// back the PXAT given, and an AOF replay keeps it to the
				// millisecond); a relative ttl would be read on the
				// engine's coarse clock.
				if t.Set(k, value, time.Until(deadline)) {
					t.ExpireAt(key, deadline)
				}
			}
		default:
			t.Set(k, value, 0)
		}
		stored = true
		c.changed(key, 1)
	})
	switch {
	case o.get && had:
		c.w.Bulk(old)
	case o.get || !stored:
		c.w.Null()
	default:
		c.w.SimpleString("OK")
	}
}

func cmdSetNX(c *client, args [][]byte) {
	key := lookupKey(args[1])
	value := ownValue(args[2])
	if !c.srv.fits(key, value) {
		c.errorReply(errOOM)
		return
	}
	stored := false
	c.atomic1(key, func(t *etx) {
		if _, found := t.Get(key); found {
			return
		}
		t.Set(ownKey(args[1]), value, 0)
		stored = true
		c.changed(key, 1)
	})
	c.int01(stored)
}

// cmdSetEx serves SETEX (unit seconds) and PSETEX (milliseconds).
func setEx(unit strval.Unit, name string) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		n, ok := strval.ParseInt(args[2])
		if !ok {
			c.errorReply(errNotInteger)
			return
		}
		ms, err := strval.SetExpireMillis(name, time.Now(), n, unit, false)
		if err != nil {
			c.errorReply(err.Error())
			return
		}
		key := lookupKey(args[1])
		value := ownValue(args[3])
		if !c.srv.fits(key, value) {
			c.errorReply(errOOM)
			return
		}
		c.atomic1(key, func(t *etx) {
			t.Set(ownKey(args[1]), value, time.Until(time.UnixMilli(ms)))
			c.changed(key, 1)
		})
		c.w.SimpleString("OK")
	}
}

func cmdGetEx(c *client, args [][]byte) {
	o, deadline, ok := c.expiryOptions(args, true)
	if !ok {
		return
	}
	key := lookupKey(args[1])
	var v []byte
	var found bool
	c.atomic1(key, func(t *etx) {
		ent, ok := t.Get(key)
		v, found = ent.Value, ok
		if !ok {
			return
		}
		switch {
		case o.persist:
			if !ent.Deadline.IsZero() {
				t.ExpireAt(key, time.Time{})
				c.changed(key, 1)
			}
		case !deadline.IsZero():
			if !time.Now().Before(deadline) {
				t.Delete(key)
			} else {
				t.ExpireAt(key, deadline)
			}
			c.changed(key, 1)
		}
	})
	c.srv.countLookup(found)
	if !found {
		c.w.Null()
		return
	}
	c.w.Bulk(v)
}

func cmdGetDel(c *client, args [][]byte) {
	key := lookupKey(args[1])
	var v []byte
	var found bool
	c.atomic1(key, func(t *etx) {
		var e, ok = t.Get(key)
		v, found = e.Value, ok
		if ok {
			t.Delete(key)
			c.changed(key, 1)
		}
	})
	c.srv.countLookup(found)
	if !found {
		c.w.Null()
		return
	}
	c.w.Bulk(v)
}

func cmdGetSet(c *client, args [][]byte) {
	key := lookupKey(args[1])
	value := ownValue(args[2])
	if !c.srv.fits(key, value) {
		c.errorReply(errOOM)
		return
	}
	var old []byte
	var found bool
	c.atomic1(key, func(t *etx) {
		e, ok := t.Get(key)
		old, found = e.Value, ok
		t.Set(storeKey(args[1], ok), value, 0)
		c.changed(key, 1)
	})
	if !found {
		c.w.Null()
		return
	}
	c.w.Bulk(old)
}

func cmdMGet(c *client, args [][]byte) {
	c.w.ArrayHeader(len(args) - 1)
	for _, a := range args[1:] {
		v, ok := c.get(lookupKey(a))
		c.srv.countLookup(ok)
		if !ok {
			c.w.Null()
			continue
		}
		c.w.Bulk(v)
	}
}

// msetKeys returns the keys of MSET-like arguments (key value ...).
func msetKeys(args [][]byte) []string {
	keys := make([]string, 0, len(args)/2)
	for i := 1; i < len(args); i += 2 {
		keys = append(keys, lookupKey(args[i]))
	}
	return keys
}

func cmdMSet(c *client, args [][]byte) {
	if len(args)%2 == 0 {
		c.errorReply("ERR wrong number of arguments for '" + lowerASCII(args[0]) + "' command")
		return
	}
	keys := msetKeys(args)
	c.atomic(keys, func(t *etx) {
		for i := 1; i < len(args); i += 2 {
			t.Set(ownKey(args[i]), ownValue(args[i+1]), 0)
			c.changed(keys[i/2], 1)
		}
	})
	c.w.SimpleString("OK")
}

func cmdMSetNX(c *client, args [][]byte) {
	if len(args)%2 == 0 {
		c.errorReply("ERR wrong number of arguments for '" + lowerASCII(args[0]) + "' command")
		return
	}
	keys := msetKeys(args)
	stored := false
	c.atomic(keys, func(t *etx) {
		for _, k := range keys {
			if _, ok := t.Get(k); ok {
				return
			}
		}
		for i := 1; i < len(args); i += 2 {
			t.Set(ownKey(args[i]), ownValue(args[i+1]), 0)
			c.changed(keys[i/2], 1)
		}
		stored = true
	})
	c.int01(stored)
}

func cmdAppend(c *client, args [][]byte) {
	key := lookupKey(args[1])
	var n int
	msg := ""
	c.atomic1(key, func(t *etx) {
		e, found := t.Get(key)
		if int64(len(e.Value))+int64(len(args[2])) > c.srv.set.protoMaxBulkLen.Load() {
			msg = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
			return
		}
		var v []byte
		if !found {
			v = ownValue(args[2])
		} else {
			// A new slice, never the stored one grown in place: a reply
			// may still be writing it. Spare capacity marks it raw, as
			// Redis's APPEND makes its strings (OBJECT ENCODING).
			v = make([]byte, len(e.Value)+len(args[2]), rawCap(len(e.Value)+len(args[2])))
			copy(v, e.Value)
			copy(v[len(e.Value):], args[2])
		}
		n = len(v)
		t.SetKeepTTL(storeKey(args[1], found), v)
		c.changed(key, 1)
	})
	if msg != "" {
		c.errorReply(msg)
		return
	}
	c.w.Int(int64(n))
}

// A value's spare capacity records how it was made, for OBJECT ENCODING,
// whose answer in Redis depends on a string's history as well as its
// content (and never costs a byte of its own):
//   - none: encoded by content, as SET encodes (int, embstr or raw);
//   - one byte: raw, as APPEND, SETRANGE and SETBIT leave strings;
//   - two bytes: embstr whatever the content, as INCRBYFLOAT leaves them.
//
// Values stored by the other commands are copied with no spare capacity
// (ownValue). A snapshot does not keep the mark: after a restart values
// are encoded by content, as Redis re-encodes strings it loads.
const (
	rawMark   = 1
	floatMark = 2
)

// rawCap is the capacity of a raw value of length n.
func rawCap(n int) int { return n + rawMark }

// isRaw reports whether v carries the raw mark.
func isRaw(v []byte) bool { return cap(v)-len(v) == rawMark }

// markFloat copies v with the INCRBYFLOAT mark.
func markFloat(v []byte) []byte {
	out := make([]byte, len(v), len(v)+floatMark)
	copy(out, v)
	return out
}

// encoding is OBJECT ENCODING's answer for v.
func encoding(v []byte) string {
	switch cap(v) - len(v) {
	case rawMark:
		return "raw"
	case floatMark:
		return strval.FloatEncoding(v)
	}
	return strval.Encoding(v, false)
}

func cmdStrlen(c *client, args [][]byte) {
	v, _ := c.get(lookupKey(args[1]))
	c.w.Int(int64(len(v)))
}

func cmdGetRange(c *client, args [][]byte) {
	start, ok1 := strval.ParseInt(args[2])
	end, ok2 := strval.ParseInt(args[3])
	if !ok1 || !ok2 {
		c.errorReply(errNotInteger)
		return
	}
	v, _ := c.get(lookupKey(args[1]))
	c.w.Bulk(strval.GetRange(v, start, end))
}

func cmdSetRange(c *client, args [][]byte) {
	off, ok := strval.ParseInt(args[2])
	if !ok {
		c.errorReply(errNotInteger)
		return
	}
	key := lookupKey(args[1])
	var n int
	msg := ""
	c.atomic1(key, func(t *etx) {
		e, found := t.Get(key)
		v, created, err := strval.SetRange(e.Value, off, args[3], c.srv.set.protoMaxBulkLen.Load())
		if err != nil {
			msg = err.Error()
			return
		}
		n = len(v)
		if !created {
			return
		}
		raw := make([]byte, len(v), rawCap(len(v)))
		copy(raw, v)
		t.SetKeepTTL(storeKey(args[1], found), raw)
		c.changed(key, 1)
	})
	if msg != "" {
		c.errorReply(msg)
		return
	}
	c.w.Int(int64(n))
}
