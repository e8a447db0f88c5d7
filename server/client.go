package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardcache/shardcache/server/resp"
)

// flushAt is the reply size past which the loop flushes in the middle of a
// pipeline, so that a client sending thousands of commands at once does not
// make us buffer all their replies.
const flushAt = 64 << 10

// client is one connection's state. Its fields are owned by the
// connection's goroutine, except those marked atomic, which CLIENT LIST,
// CLIENT KILL, WATCH's touches and shutdown read or set from others.
type client struct {
	srv  *Server
	id   int64
	conn net.Conn
	r    *resp.Reader
	w    *resp.Writer

	laddr, raddr string
	created      time.Time
	authed       bool
	name         atomic.Pointer[string]
	libName      atomic.Pointer[string]
	libVer       atomic.Pointer[string]
	lastActive   atomic.Int64 // unix nanoseconds of the last command's start
	lastCmd      atomic.Pointer[string]
	proto        atomic.Int32
	killed       atomic.Bool

	multi *multiState // non-nil between MULTI and EXEC/DISCARD
	watch watchState

	// tx is the transaction EXEC runs its queued commands in; nil outside
	// EXEC, when commands open their own (atomic.go).
	tx *tx

	closeAfterReply bool
	failed          bool // the running command answered an error

	// scratch buffers reused across commands.
	keyIdx []int
}

// serve runs the connection loop: read the commands the client sent, run
// each, and flush the replies once per batch (when no more input is
// buffered), so that a pipeline of N commands costs one write.
func (c *client) serve() {
	defer c.srv.dropClient(c)
	timeout := c.srv.idleTimeout()
	for {
		if c.r.Buffered() == 0 {
			if c.w.Buffered() > 0 {
				if err := c.w.Flush(); err != nil {
					return
				}
			}
			if c.srv.closing.Load() || c.killed.Load() {
				return
			}
			if timeout = c.srv.idleTimeout(); timeout > 0 {
				c.conn.SetReadDeadline(time.Now().Add(timeout))
			} else {
				c.conn.SetReadDeadline(time.Time{})
			}
		}
		args, err := c.r.ReadCommand()
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				c.errorReply("ERR " + pe.Msg)
				c.w.Flush()
				c.srv.log.Debug("protocol error", "client", c.raddr, "err", pe.Msg)
			} else if errors.Is(err, os.ErrDeadlineExceeded) && timeout > 0 && !c.srv.closing.Load() {
				c.srv.log.Debug("closing idle client", "client", c.raddr)
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
				c.srv.log.Debug("read error", "client", c.raddr, "err", err)
			}
			c.w.Flush()
			return
		}
		c.process(args)
		if c.closeAfterReply || c.killed.Load() {
			c.w.Flush()
			return
		}
		if c.w.Buffered() >= flushAt {
			if err := c.w.Flush(); err != nil {
				return
			}
		}
	}
}

// clients is the registry of connected clients, for CLIENT LIST/KILL,
// INFO and shutdown.
type clients struct {
	mu     sync.Mutex
	byID   map[int64]*client
	nextID atomic.Int64
	n      atomic.Int64 // connected clients, read per accept for maxclients
}

func (cs *clients) add(c *client) {
	cs.mu.Lock()
	if cs.byID == nil {
		cs.byID = make(map[int64]*client)
	}
	cs.byID[c.id] = c
	cs.mu.Unlock()
}

func (cs *clients) remove(c *client) {
	cs.mu.Lock()
	delete(cs.byID, c.id)
	cs.mu.Unlock()
}

// each calls fn for every connected client, in id order's absence any
// order, under the registry lock: fn must not block.
func (cs *clients) each(fn func(*client)) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.byID {
		fn(c)
	}
}
