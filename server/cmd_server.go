package server

import (
	"context"
	"strconv"
	"strings"
	"time"
)

func cmdTime(c *client, args [][]byte) {
	now := time.Now()
	c.w.ArrayHeader(2)
	c.w.BulkString(strconv.FormatInt(now.Unix(), 10))
	c.w.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

func cmdSave(c *client, args [][]byte) {
	if !c.srv.persist.enabled() {
		c.errorReply("ERR no dir configured: snapshots are off (set dir to enable them)")
		return
	}
	if err := c.srv.saveNow(); err != nil {
		if err == errSaveInProgress {
			c.errorReply(err.Error())
			return
		}
		c.srv.log.Error("SAVE failed", "err", err)
		c.errorReply("ERR " + err.Error())
		return
	}
	c.w.SimpleString("OK")
}

func cmdBgsave(c *client, args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !strings.EqualFold(string(args[1]), "SCHEDULE") {
		c.errorReply(errSyntax)
		return
	}
	if !c.srv.persist.enabled() {
		c.errorReply("ERR no dir configured: snapshots are off (set dir to enable them)")
		return
	}
	if err := c.srv.bgsave(); err != nil {
		if len(args) == 2 {
			c.w.SimpleString("Background saving scheduled")
			return
		}
		c.errorReply(err.Error())
		return
	}
	c.w.SimpleString("Background saving started")
}

func cmdLastSave(c *client, args [][]byte) { c.w.Int(c.srv.persist.lastSave.Load()) }

func cmdShutdown(c *client, args [][]byte) {
	save := c.srv.persist.enabled()
	for _, a := range args[1:] {
		switch strings.ToUpper(string(a)) {
		case "NOSAVE":
			save = false
		case "SAVE":
			save = true
		case "NOW", "FORCE", "ABORT":
		default:
			c.errorReply(errSyntax)
			return
		}
	}
	if save && !c.srv.persist.enabled() {
		c.errorReply("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	c.srv.log.Info("SHUTDOWN requested by client", "client", c.raddr, "save", save)
	// Like Redis, the client gets no reply: the connection closes.
	c.closeAfterReply = true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.srv.shutdownTimeout())
		defer cancel()
		c.srv.Shutdown(ctx, save)
	}()
}

func cmdSlowlogGet(c *client, args [][]byte) {
	n := 10
	if len(args) > 3 {
		c.errorReply("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try SLOWLOG HELP.")
		return
	}
	if len(args) == 3 {
		v, ok := parseInt(args[2])
		if !ok || v < -1 {
			c.errorReply("ERR count should be greater than or equal to -1")
			return
		}
		n = int(v)
	}
	entries := c.srv.slowlog.get(n)
	c.w.ArrayHeader(len(entries))
	for _, e := range entries {
		c.w.ArrayHeader(6)
		c.w.Int(e.id)
		c.w.Int(e.at.Unix())
		c.w.Int(int64(e.duration / time.Microsecond))
		c.w.ArrayHeader(len(e.args))
		for _, a := range e.args {
			c.w.BulkString(a)
		}
		c.w.BulkString(e.client)
		c.w.BulkString(e.clientName)
	}
}

func cmdSlowlogLen(c *client, args [][]byte) { c.w.Int(int64(c.srv.slowlog.len())) }

func cmdSlowlogReset(c *client, args [][]byte) {
	c.srv.slowlog.reset()
	c.w.SimpleString("OK")
}

func cmdLatencyLatest(c *client, args [][]byte) { c.w.ArrayHeader(0) }

func cmdLatencyReset(c *client, args [][]byte) { c.w.Int(0) }

// entryOverhead is what the engine and the server spend per key beyond
// its key and value bytes (the entry, its table slot, its policy node and
// the slice headers), as MEMORY USAGE and maxmemory count it.
const entryOverhead = 96

func cmdMemoryUsage(c *client, args [][]byte) {
	for i := 3; i < len(args); i += 2 {
		if !strings.EqualFold(string(args[i]), "SAMPLES") || i+1 >= len(args) {
			c.errorReply(errSyntax)
			return
		}
		if _, ok := parseInt(args[i+1]); !ok {
			c.errorReply(errNotInteger)
			return
		}
	}
	key := lookupKey(args[2])
	v, ok := c.peek(key)
	if !ok {
		c.w.Null()
		return
	}
	c.w.Int(entryCost(key, v))
}

// peek reads a live value without counting an access.
func (c *client) peek(key string) ([]byte, bool) {
	if c.tx != nil {
		e, ok := c.tx.t.Get(key)
		return e.Value, ok
	}
	return c.srv.cache.Peek(key)
}

func cmdObjectEncoding(c *client, args [][]byte) {
	v, ok := c.peek(lookupKey(args[2]))
	if !ok {
		c.w.Null()
		return
	}
	c.w.BulkString(encoding(v))
}

func cmdObjectFreq(c *client, args [][]byte) {
	if _, ok := c.peek(lookupKey(args[2])); !ok {
		c.w.Null()
		return
	}
	if !c.srv.lfu() {
		c.errorReply("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	// The engine's TinyLFU sketch is not exposed per key; Redis's own
	// counter is a logarithmic estimate too.
	c.w.Int(0)
}

func cmdObjectIdletime(c *client, args [][]byte) {
	if _, ok := c.peek(lookupKey(args[2])); !ok {
		c.w.Null()
		return
	}
	if c.srv.lfu() {
		c.errorReply("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.w.Int(0)
}

func cmdObjectRefcount(c *client, args [][]byte) {
	if _, ok := c.peek(lookupKey(args[2])); !ok {
		c.w.Null()
		return
	}
	c.w.Int(1)
}

func cmdWait(c *client, args [][]byte) {
	if _, ok := parseInt(args[1]); !ok {
		c.errorReply(errNotInteger)
		return
	}
	if _, ok := parseInt(args[2]); !ok {
		c.errorReply("ERR timeout is not an integer or out of range")
		return
	}
	c.w.Int(0) // no replicas
}

// helpReply answers a container's HELP with Redis's layout.
func helpReply(lines ...string) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		c.w.ArrayHeader(len(lines))
		for _, l := range lines {
			c.w.SimpleString(l)
		}
	}
}

// cmdFunctionFlush answers FUNCTION FLUSH [ASYNC|SYNC]: there are no
// functions to flush.
func cmdFunctionFlush(c *client, args [][]byte) {
	if len(args) > 3 || len(args) == 3 && !strings.EqualFold(string(args[2]), "ASYNC") && !strings.EqualFold(string(args[2]), "SYNC") {
		c.errorReply("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	c.w.SimpleString("OK")
}
