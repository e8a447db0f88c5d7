package server

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardcache/shardcache/server/resp"
)

// client is one connection's state. Its fields are owned by the
// connection's goroutine (or its event loop's), except those marked atomic, which CLIENT LIST,
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
	lastActive   atomic.Int64 // Server.monotonic at the last command's start
	lastCmd      atomic.Pointer[string]
	proto        atomic.Int32
	killed       atomic.Bool

	multi *multiState // non-nil between MULTI and EXEC/DISCARD
	watch watchState

	// tx is the transaction EXEC runs its queued commands in; nil outside
	// EXEC, when commands open their own (atomic.go).
	tx *tx

	// quiet: a Session's client, whose commands count in no
	// per-command statistics, and whose arguments stay its caller's,
	// unchanged, until the Do or Tx they came in returns (session.go), so
	// that MULTI need not copy them to queue them.
	quiet           bool
	closeAfterReply bool
	deadlineSet     bool // a read deadline is set on conn (timeout)
	failed          bool // the running command answered an error
	// multiExecRejected: the command being checked is EXEC, whose refusal
	// inside MULTI aborts the transaction (rejectCommand).
	multiExecRejected bool

	aofc aofClient    // the AOF's records and reply gate (aof.go)
	ls   loopState    // set when an event loop serves the client (eventloop_linux.go)
	omem atomic.Int64 // replies waiting for the socket, in bytes (CLIENT LIST omem)
	// multiSeen is 0 outside MULTI, else 1 + the commands queued, as of
	// the client's last command: CLIENT LIST reads it from elsewhere.
	multiSeen atomic.Int64

	// scratch buffers reused across commands.
	keyIdx []int
}

// serve runs the connection loop: read the commands the client sent, run
// each, and flush the replies once per batch. The flush happens in
// connReader.Read, just before the Reader must wait on the socket for more
// bytes: a pipeline of N commands that arrived together costs one write,
// and no reply is ever held back while we wait for the client.
func (c *client) serve() {
	defer c.srv.dropClient(c)
	defer func() {
		// A bug in a command must cost its client the connection, never
		// the process and everyone else's data.
		if p := recover(); p != nil {
			c.srv.log.Error("command panicked; closing its client", "client", c.raddr, "panic", p, "stack", string(debug.Stack()))
			c.w.Error("ERR internal error")
			c.w.Flush()
		}
	}()
	for {
		args, err := c.r.ReadCommand()
		if err != nil {
			c.readFailed(err)
			c.w.Flush()
			return
		}
		c.process(args)
		c.publishMulti()
		if c.closeAfterReply {
			c.w.Flush()
			return
		}
	}
}

// readFailed handles the error that ends a client's reading: a protocol
// error is answered with Redis's text, others are logged.
func (c *client) readFailed(err error) {
	var pe *resp.ProtocolError
	switch {
	case errors.As(err, &pe):
		c.w.Error("ERR " + pe.Msg)
		c.srv.log.Debug("protocol error", "client", c.raddr, "err", pe.Msg)
	case errors.Is(err, errIdle):
		c.srv.log.Debug("closing idle client", "client", c.raddr)
	case !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, errLeaving):
		c.srv.log.Debug("read error", "client", c.raddr, "err", err)
	}
}

// publishMulti records the client's MULTI state for CLIENT LIST.
func (c *client) publishMulti() {
	var v int64
	if c.multi != nil {
		v = int64(len(c.multi.cmds)) + 1
	}
	if c.multiSeen.Load() != v {
		c.multiSeen.Store(v)
	}
}

// errIdle ends a client that stayed idle past the timeout directive;
// errLeaving one that was killed or whose server shuts down.
var (
	errIdle    = errors.New("idle timeout")
	errLeaving = errors.New("client leaving")
)

// connReader is what a client's resp.Reader reads from. The Reader calls
// Read only when it has no complete command buffered, that is when the
// replies so far are all the client will get until it sends more: so Read
// flushes them first, then applies the idle timeout and waits.
type connReader struct{ c *client }

func (r connReader) Read(p []byte) (int, error) {
	c := r.c
	if c.ls.lp != nil {
		return c.loopRead(p) // the loop flushes at the end of its round
	}
	if c.w.Buffered() > 0 {
		if err := c.w.Flush(); err != nil {
			return 0, err
		}
	}
	if c.srv.closing.Load() || c.killed.Load() {
		return 0, errLeaving
	}
	timeout := c.srv.idleTimeout()
	if timeout > 0 {
		c.conn.SetReadDeadline(time.Now().Add(timeout))
	} else if c.deadlineSet {
		c.conn.SetReadDeadline(time.Time{})
	}
	c.deadlineSet = timeout > 0
	n, err := c.conn.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		if c.srv.closing.Load() || c.killed.Load() {
			return n, errLeaving
		}
		if timeout > 0 {
			return n, errIdle
		}
	}
	return n, err
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
