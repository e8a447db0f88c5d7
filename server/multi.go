package server

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// multiState is a client's open transaction: the commands queued since
// MULTI, and whether one of them was refused (then EXEC discards them all).
type multiState struct {
	cmds   []queued
	failed bool
}

// queued is one command waiting for EXEC, with its own copy of the
// arguments (the read buffer they came in is reused), except in a
// Session, whose caller keeps them until EXEC.
type queued struct {
	cmd  *command
	name string
	args [][]byte
}

func (c *client) queue(cmd *command, args [][]byte) {
	if c.quiet {
		// A Session's Tx: its arguments outlive the EXEC that ends it.
		c.multi.cmds = append(c.multi.cmds, queued{cmd: cmd, name: cmd.name, args: args})
		c.w.SimpleString("QUEUED")
		return
	}
	own := make([][]byte, len(args))
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	for i, a := range args {
		buf = append(buf, a...)
		own[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	c.multi.cmds = append(c.multi.cmds, queued{cmd: cmd, name: cmd.name, args: own})
	c.w.SimpleString("QUEUED")
}

func cmdMulti(c *client, args [][]byte) {
	if c.multi != nil {
		c.errorReply("ERR MULTI calls can not be nested")
		return
	}
	c.multi = &multiState{}
	c.w.SimpleString("OK")
}

func cmdDiscard(c *client, args [][]byte) {
	if c.multi == nil {
		c.errorReply("ERR DISCARD without MULTI")
		return
	}
	c.multi = nil
	c.unwatch()
	c.w.SimpleString("OK")
}

func cmdExec(c *client, args [][]byte) {
	m := c.multi
	if m == nil {
		c.errorReply("ERR EXEC without MULTI")
		return
	}
	c.multi = nil
	defer c.unwatch()
	if m.failed {
		c.errorReply("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	// Lock the shards of every key the queued commands name and of every
	// watched key, or every shard if one of them spans the keyspace.
	all := false
	var keys []string
	for i := range m.cmds {
		q := &m.cmds[i]
		if q.cmd.flags&flagAllKeys != 0 {
			all = true
			break
		}
		c.keyIdx = q.cmd.keyIndexes(q.args, c.keyIdx[:0])
		for _, k := range c.keyIdx {
			keys = append(keys, lookupKey(q.args[k]))
		}
	}
	for _, w := range c.watch.keys {
		keys = append(keys, w.key)
	}
	run := func(t *etx) {
		if c.watch.aborted(t) {
			c.w.NullArray()
			return
		}
		c.aofc.buf, c.aofc.n = c.aofc.buf[:0], 0
		defer c.aofCommit(true) // MULTI ... EXEC, under the locks (aof.go)
		c.tx = &tx{t: t}
		defer func() { c.tx = nil }()
		c.w.ArrayHeader(len(m.cmds))
		for i := range m.cmds {
			q := &m.cmds[i]
			start := c.srv.monotonic()
			q.cmd.run(c, q.args)
			if c.quiet {
				continue
			}
			c.srv.commandsProcessed.Add(1)
			d := c.srv.monotonic() - start
			q.cmd.stats[ProtocolRESP].record(d)
			c.maybeSlow(d, q.name, q.args)
		}
	}
	if all {
		c.srv.cache.AtomicAll(run)
	} else {
		c.srv.cache.Atomic(keys, run)
	}
}

// watchState is the keys a client WATCHes and whether one was written
// since.
type watchState struct {
	keys  []watchedKey
	dirty atomic.Bool
}

type watchedKey struct {
	key      string
	deadline time.Time // the key's deadline when watched; zero: none or absent
}

// aborted reports whether EXEC must fail: a watched key was written, or
// expired, since WATCH. t holds the watched keys' shards.
func (w *watchState) aborted(t *etx) bool {
	if w.dirty.Load() {
		return true
	}
	now := time.Now()
	for _, k := range w.keys {
		if !k.deadline.IsZero() && !now.Before(k.deadline) {
			return true
		}
	}
	return false
}

func cmdWatch(c *client, args [][]byte) {
	if c.multi != nil {
		c.errorReply("ERR WATCH inside MULTI is not allowed")
		return
	}
	keys := make([]string, 0, len(args)-1)
	for _, a := range args[1:] {
		keys = append(keys, ownKey(a))
	}
	// Register under the keys' shard locks: a write either happened before
	// (and WATCH sees its result) or after (and it touches us).
	c.srv.cache.Atomic(keys, func(t *etx) {
		for _, k := range keys {
			if slices.ContainsFunc(c.watch.keys, func(w watchedKey) bool { return w.key == k }) {
				continue
			}
			var d time.Time
			if e, ok := t.Get(k); ok {
				d = e.Deadline
			}
			c.watch.keys = append(c.watch.keys, watchedKey{key: k, deadline: d})
			c.srv.watch.add(k, c)
		}
	})
	c.w.SimpleString("OK")
}

func cmdUnwatch(c *client, args [][]byte) {
	c.unwatch()
	c.w.SimpleString("OK")
}

// unwatch drops every watch of c.
func (c *client) unwatch() {
	for _, k := range c.watch.keys {
		c.srv.watch.remove(k.key, c)
	}
	c.watch.keys = c.watch.keys[:0]
	c.watch.dirty.Store(false)
}

// watchers is the server's index of WATCHed keys to the clients watching
// them. Writers call touch for every key they change, under the key's
// shard lock; when nobody watches anything that costs one atomic load.
type watchers struct {
	n    atomic.Int64 // watched (key, client) pairs
	mu   sync.Mutex
	keys map[string][]*client
}

func (w *watchers) add(key string, c *client) {
	w.mu.Lock()
	if w.keys == nil {
		w.keys = make(map[string][]*client)
	}
	w.keys[key] = append(w.keys[key], c)
	w.n.Add(1)
	w.mu.Unlock()
}

func (w *watchers) remove(key string, c *client) {
	w.mu.Lock()
	cs := w.keys[key]
	if i := slices.Index(cs, c); i >= 0 {
		cs = slices.Delete(cs, i, i+1)
		w.n.Add(-1)
	}
	if len(cs) == 0 {
		delete(w.keys, key)
	} else {
		w.keys[key] = cs
	}
	w.mu.Unlock()
}

// touch marks every client watching key.
func (w *watchers) touch(key string) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	for _, c := range w.keys[key] {
		c.watch.dirty.Store(true)
	}
	w.mu.Unlock()
}

// touchAll marks every watching client whose keys exist(ed): FLUSHALL.
func (w *watchers) touchAll() {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	for _, cs := range w.keys {
		for _, c := range cs {
			c.watch.dirty.Store(true)
		}
	}
	w.mu.Unlock()
}

// touchExisting marks the clients watching keys that exist, as FLUSHALL
// does (a watched key that did not exist is not changed by emptying the
// keyspace). exists is called under the locks of every shard.
func (w *watchers) touchExisting(exists func(string) bool) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	for k, cs := range w.keys {
		if !exists(k) {
			continue
		}
		for _, c := range cs {
			c.watch.dirty.Store(true)
		}
	}
	w.mu.Unlock()
}
