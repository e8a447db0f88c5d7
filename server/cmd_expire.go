package server

import (
	"math"
	"strings"
	"time"
)

// expireFlags are EXPIRE's NX, XX, GT and LT options.
type expireFlags uint8

const (
	expireNX expireFlags = 1 << iota
	expireXX
	expireGT
	expireLT
)

// parseExpireFlags reads EXPIRE's options with Redis's errors.
func parseExpireFlags(args [][]byte) (expireFlags, string) {
	var f expireFlags
	for _, a := range args {
		switch {
		case strings.EqualFold(string(a), "NX"):
			f |= expireNX
		case strings.EqualFold(string(a), "XX"):
			f |= expireXX
		case strings.EqualFold(string(a), "GT"):
			f |= expireGT
		case strings.EqualFold(string(a), "LT"):
			f |= expireLT
		default:
			return 0, "ERR Unsupported option " + string(a)
		}
	}
	if f&expireNX != 0 && f&(expireXX|expireGT|expireLT) != 0 {
		return 0, "ERR NX and XX, GT or LT options at the same time are not compatible"
	}
	if f&expireGT != 0 && f&expireLT != 0 {
		return 0, "ERR GT and LT options at the same time are not compatible"
	}
	return f, ""
}

// expire serves EXPIRE (seconds, relative), PEXPIRE, EXPIREAT and
// PEXPIREAT.
func expire(millis, absolute bool) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		name := lowerASCII(args[0])
		flags, msg := parseExpireFlags(args[3:])
		if msg != "" {
			c.errorReply(msg)
			return
		}
		when, ok := parseInt(args[2])
		if !ok {
			c.errorReply(errNotInteger)
			return
		}
		invalid := "ERR invalid expire time in '" + name + "' command"
		if !millis {
			if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
				c.errorReply(invalid)
				return
			}
			when *= 1000
		}
		if !absolute {
			now := time.Now().UnixMilli()
			if when > 0 && now > math.MaxInt64-when || when < 0 && now < math.MinInt64-when {
				c.errorReply(invalid)
				return
			}
			when += now
		}
		key := lookupKey(args[1])
		applied := false
		c.atomic1(key, func(t *etx) {
			e, ok := t.Get(key)
			if !ok {
				return
			}
			cur := int64(-1) // no TTL: infinite for GT and LT
			if !e.Deadline.IsZero() {
				cur = e.Deadline.UnixMilli()
			}
			switch {
			case flags&expireNX != 0 && cur != -1,
				flags&expireXX != 0 && cur == -1,
				flags&expireGT != 0 && (cur == -1 || when <= cur),
				flags&expireLT != 0 && cur != -1 && when >= cur:
				return
			}
			if when <= time.Now().UnixMilli() {
				t.Delete(key)
			} else {
				t.ExpireAt(key, time.UnixMilli(when))
			}
			applied = true
			c.changed(key, 1)
		})
		c.int01(applied)
	}
}

// ttl serves TTL and PTTL (millis).
func ttl(millis bool) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		e, ok := c.entry(lookupKey(args[1]))
		switch {
		case !ok:
			c.w.Int(-2)
		case e.Deadline.IsZero():
			c.w.Int(-1)
		default:
			ms := max(time.Until(e.Deadline).Milliseconds(), 0)
			if millis {
				c.w.Int(ms)
			} else {
				c.w.Int((ms + 500) / 1000)
			}
		}
	}
}

// expireTime serves EXPIRETIME and PEXPIRETIME (millis).
func expireTime(millis bool) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		e, ok := c.entry(lookupKey(args[1]))
		switch {
		case !ok:
			c.w.Int(-2)
		case e.Deadline.IsZero():
			c.w.Int(-1)
		case millis:
			c.w.Int(e.Deadline.UnixMilli())
		default:
			c.w.Int(e.Deadline.UnixMilli() / 1000)
		}
	}
}

func cmdPersist(c *client, args [][]byte) {
	key := lookupKey(args[1])
	done := false
	c.atomic1(key, func(t *etx) {
		e, ok := t.Get(key)
		if !ok || e.Deadline.IsZero() {
			return
		}
		t.ExpireAt(key, time.Time{})
		done = true
		c.changed(key, 1)
	})
	c.int01(done)
}
