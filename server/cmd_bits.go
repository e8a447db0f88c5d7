package server

import (
	"github.com/shardcache/shardcache/server/internal/strval"
)

func cmdSetBit(c *client, args [][]byte) {
	off, err := strval.ParseBitOffset(args[2], c.srv.set.protoMaxBulkLen.Load())
	if err != nil {
		c.errorReply(err.Error())
		return
	}
	bit, err := strval.ParseBit(args[3])
	if err != nil {
		c.errorReply(err.Error())
		return
	}
	key := lookupKey(args[1])
	old := 0
	c.atomic1(key, func(t *etx) {
		e, found := t.Get(key)
		var v []byte
		v, old = strval.SetBit(e.Value, off, bit)
		raw := make([]byte, len(v), rawCap(len(v)))
		copy(raw, v)
		t.SetKeepTTL(storeKey(args[1], found), raw)
		c.changed(key, 1)
	})
	c.w.Int(int64(old))
}

func cmdGetBit(c *client, args [][]byte) {
	off, err := strval.ParseBitOffset(args[2], c.srv.set.protoMaxBulkLen.Load())
	if err != nil {
		c.errorReply(err.Error())
		return
	}
	v, _ := c.get(lookupKey(args[1]))
	c.w.Int(int64(strval.GetBit(v, off)))
}

func cmdBitCount(c *client, args [][]byte) {
	v, ok := c.get(lookupKey(args[1]))
	if !ok {
		// Redis answers 0 for a missing key before reading the range.
		c.w.Int(0)
		return
	}
	r, err := strval.ParseBitCountArgs(args[2:])
	if err != nil {
		c.errorReply(err.Error())
		return
	}
	c.w.Int(strval.BitCount(v, r.Start, r.End, r.Bit))
}

func cmdLCS(c *client, args [][]byte) {
	opts, err := strval.ParseLCSArgs(args[3:])
	opts.MaxLen = c.srv.set.protoMaxBulkLen.Load()
	if err != nil {
		c.errorReply(err.Error())
		return
	}
	a, _ := c.get(lookupKey(args[1]))
	b, _ := c.get(lookupKey(args[2]))
	res, err := strval.LCS(a, b, opts)
	if err != nil {
		c.errorReply(err.Error())
		return
	}
	switch {
	case opts.Len && !opts.Idx:
		c.w.Int(res.Len)
	case opts.Idx:
		c.w.MapHeader(2)
		c.w.BulkString("matches")
		c.w.ArrayHeader(len(res.Matches))
		for _, m := range res.Matches {
			n := 2
			if opts.WithMatchLen {
				n = 3
			}
			c.w.ArrayHeader(n)
			c.w.ArrayHeader(2)
			c.w.Int(m.AStart)
			c.w.Int(m.AEnd)
			c.w.ArrayHeader(2)
			c.w.Int(m.BStart)
			c.w.Int(m.BEnd)
			if opts.WithMatchLen {
				c.w.Int(m.Len)
			}
		}
		c.w.BulkString("len")
		c.w.Int(res.Len)
	default:
		c.w.Bulk(res.String)
	}
}
