//go:build linux

package server

import (
	"errors"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shardcache/shardcache/server/aof"
)

// An event loop serves plain TCP clients the way redis-server does: one OS
// thread waits on epoll for every connection it owns, reads what each ready
// client sent, runs its commands, and then writes every reply of the round.
// Against a goroutine per connection this saves the scheduler's wake-ups
// and handoffs between a client's reads and writes, which at one command
// per round trip cost more than the commands themselves; and it gives the
// AOF one gate per round, for all the clients in it, instead of one per
// client.
//
// Only the loop's goroutine touches its clients' reader, writer, output
// and loopState; other goroutines reach a client through post (CLIENT
// KILL, shutdown), which queues a message and wakes the loop through an
// eventfd. A command runs on the loop's thread, so a slow one (SAVE, KEYS
// over a large keyspace) holds up the clients of that loop, as it holds up
// every client of redis-server.
//
// Sockets are level-triggered: a client is read once per round, and what
// is left in its socket is reported again at the next epoll_wait. A client
// whose replies the socket does not take stops being read until they are
// written (EPOLLOUT), as a goroutine blocks in its write.
type loop struct {
	srv  *Server
	epfd int
	wake int // an eventfd: writing it wakes epoll_wait

	mu     sync.Mutex // guards inbox and exited
	inbox  []loopMsg
	exited bool

	conns   map[int]*client // by descriptor; owned by the loop
	dirty   []*client       // clients with replies or a close due this round
	again   []*client       // clients stopped at loopOutLimit with commands left
	closing bool            // shutdown began: new clients are turned away
	done    chan struct{}   // closed when run returns
}

// loopState is a client's part of its loop; only the loop touches it.
type loopState struct {
	lp       *loop
	fd       int
	out      []byte // replies the socket has not taken yet, from off
	off      int
	events   uint32 // the events the descriptor is registered for
	readOnce bool   // this round's read happened: the next would block
	flushing bool   // the Writer flushes at the end of a round
	dirty    bool   // in lp.dirty
	again    bool   // commands are left after the output limit stopped them
	leaving  bool   // close once the replies are written
	dead     bool   // close without writing: the socket failed
	closed   bool
}

type loopMsgKind uint8

const (
	msgAdd      loopMsgKind = iota // a new client
	msgKill                        // CLIENT KILL: close after the replies due
	msgShutdown                    // finish what is read, reply, close, exit
	msgForce                       // close every client now and exit
)

type loopMsg struct {
	kind loopMsgKind
	c    *client
}

// loopOutLimit bounds what a client may have waiting to be written before
// the loop stops running its commands: the memory a client that does not
// read its replies can make the server hold, beyond its largest reply.
const loopOutLimit = 256 << 10

// keepOut is the output buffer a client keeps once its replies are out.
const keepOut = 64 << 10

// loopTick is how long epoll_wait sleeps with nothing to do, and so how
// often the loop checks idle timeouts.
const loopTick = 100 // milliseconds

// errWouldBlock is what a loop client's connReader returns once it has
// read this round: the Reader keeps its state and the loop goes on.
var errWouldBlock = errors.New("read would block")

// eventLoopsSupported reports whether this platform has event loops.
const eventLoopsSupported = true

// newLoop creates a loop and starts its goroutine.
func newLoop(s *Server) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, err
	}
	l := &loop{srv: s, epfd: epfd, wake: wake, conns: make(map[int]*client), done: make(chan struct{})}
	go l.run()
	return l, nil
}

// detach takes conn's socket away from Go's poller: it duplicates the
// descriptor, which keeps the connection open, and closes conn. It reports
// false, leaving conn as it was, for a connection that is not plain TCP.
func detach(conn net.Conn) (int, bool) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return -1, false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return -1, false
	}
	fd := -1
	cerr := raw.Control(func(s uintptr) {
		fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	})
	if cerr != nil || err != nil {
		return -1, false
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, false
	}
	tc.Close() // the duplicate keeps the socket open
	return fd, true
}

// post queues a message for the loop and wakes it. After the loop exited,
// a new client is closed at once and other messages are dropped.
func (l *loop) post(kind loopMsgKind, c *client) {
	l.mu.Lock()
	if l.exited {
		l.mu.Unlock()
		if kind == msgAdd {
			unix.Close(c.ls.fd)
			l.srv.dropClient(c)
		}
		return
	}
	first := len(l.inbox) == 0
	l.inbox = append(l.inbox, loopMsg{kind, c})
	l.mu.Unlock()
	if first {
		// The loop takes the whole inbox after reading the eventfd, so
		// one wake-up per batch of messages is enough.
		var one = [8]byte{1}
		unix.Write(l.wake, one[:])
	}
}

// run is the loop: wait, serve the ready clients, write the round's
// replies, check timeouts; until shutdown has closed every client.
func (l *loop) run() {
	runtime.LockOSThread() // the thread stays hot in epoll_wait and the commands
	defer close(l.done)
	events := make([]unix.EpollEvent, 256)
	lastCron := time.Now()
	for {
		timeout := loopTick
		if len(l.again) > 0 {
			timeout = 0
		}
		n, err := unix.EpollWait(l.epfd, events, timeout)
		if err != nil && err != unix.EINTR {
			l.srv.log.Error("epoll_wait failed; closing the loop's clients", "err", err)
			l.closeAll()
			l.exit()
			return
		}
		l.serveAgain()
		for _, ev := range events[:max(n, 0)] {
			fd := int(ev.Fd)
			if fd == l.wake {
				l.readInbox()
				continue
			}
			if c := l.conns[fd]; c != nil {
				l.ready(c, ev.Events)
			}
		}
		l.flush()
		if now := time.Now(); now.Sub(lastCron) >= loopTick*time.Millisecond {
			lastCron = now
			l.cron()
		}
		if l.closing && len(l.conns) == 0 {
			l.exit()
			return
		}
	}
}

// exit marks the loop gone, turns away what reached the inbox since, and
// releases the loop's descriptors.
func (l *loop) exit() {
	l.mu.Lock()
	l.exited = true
	msgs := l.inbox
	l.inbox = nil
	l.mu.Unlock()
	for _, m := range msgs {
		if m.kind == msgAdd {
			unix.Close(m.c.ls.fd)
			l.srv.dropClient(m.c)
		}
	}
	unix.Close(l.wake)
	unix.Close(l.epfd)
}

// readInbox handles the messages posted since the last wake-up.
func (l *loop) readInbox() {
	var b [8]byte
	unix.Read(l.wake, b[:])
	l.mu.Lock()
	msgs := l.inbox
	l.inbox = nil
	l.mu.Unlock()
	for _, m := range msgs {
		switch m.kind {
		case msgAdd:
			l.add(m.c)
		case msgKill:
			if c := m.c; !c.ls.closed {
				c.ls.leaving = true
				l.markDirty(c)
			}
		case msgShutdown:
			l.closing = true
			for _, c := range l.conns {
				// Run the commands already read (the Reader reads no more
				// once the server is closing), reply, and leave.
				c.ls.readOnce = true
				l.serve(c)
			}
		case msgForce:
			l.closing = true
			l.closeAll()
		}
	}
}

// add registers a handed-over client with epoll.
func (l *loop) add(c *client) {
	c.ls.events = unix.EPOLLIN
	ev := unix.EpollEvent{Events: c.ls.events, Fd: int32(c.ls.fd)}
	if l.closing {
		c.ls.closed = true
		unix.Close(c.ls.fd)
		l.srv.dropClient(c)
		return
	}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, c.ls.fd, &ev); err != nil {
		l.srv.log.Warn("epoll_ctl failed; closing the client", "client", c.raddr, "err", err)
		c.ls.closed = true
		unix.Close(c.ls.fd)
		l.srv.dropClient(c)
		return
	}
	l.conns[c.ls.fd] = c
}

// ready handles what epoll reported for c.
func (l *loop) ready(c *client, events uint32) {
	ls := &c.ls
	if len(ls.out) > ls.off {
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return // a stale report: c is not being read until its replies are out
		}
		l.writeOut(c)
		switch {
		case ls.dead:
			l.close(c)
		case len(ls.out) > ls.off:
			// the socket is still full
		case ls.leaving:
			l.close(c)
		default:
			l.arm(c, unix.EPOLLIN)
			ls.readOnce = true // what is left in the socket is reported again
			l.serve(c)
		}
		return
	}
	ls.readOnce = false
	l.serve(c)
}

// serveAgain runs the clients that the output limit stopped last round.
func (l *loop) serveAgain() {
	if len(l.again) == 0 {
		return
	}
	again := l.again
	l.again = nil
	for _, c := range again {
		c.ls.again = false
		if !c.ls.closed && len(c.ls.out) == c.ls.off {
			c.ls.readOnce = true
			l.serve(c)
		}
	}
}

// serve runs the commands c has sent, reading its socket at most once,
// until its Reader needs bytes that have not arrived, the client leaves,
// or its unsent replies reach loopOutLimit.
func (l *loop) serve(c *client) {
	ls := &c.ls
	if ls.closed || ls.leaving || ls.dead {
		return
	}
	l.markDirty(c)
	ls.again = false
	defer func() {
		// A bug in a command must cost its client the connection, never
		// the loop's other clients or the process.
		if p := recover(); p != nil {
			l.srv.log.Error("command panicked; closing its client", "client", c.raddr, "panic", p, "stack", string(debug.Stack()))
			c.w.Error("ERR internal error")
			ls.leaving = true
		}
	}()
	for {
		if len(ls.out)-ls.off+c.w.Buffered() >= loopOutLimit {
			ls.again = true
			return
		}
		args, err := c.r.ReadCommand()
		if err != nil {
			if err != errWouldBlock {
				c.readFailed(err)
				ls.leaving = true
			}
			return
		}
		c.process(args)
		c.publishMulti()
		if c.closeAfterReply || c.killed.Load() {
			ls.leaving = true
			return
		}
	}
}

// read is a loop client's connReader.Read: one non-blocking read a round.
func (c *client) loopRead(p []byte) (int, error) {
	ls := &c.ls
	if c.srv.closing.Load() || c.killed.Load() {
		return 0, errLeaving
	}
	if ls.readOnce {
		return 0, errWouldBlock
	}
	ls.readOnce = true
	for {
		n, err := unix.Read(ls.fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, errWouldBlock
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		c.lastActive.Store(int64(c.srv.monotonic()))
		return n, nil
	}
}

// loopWrite is a loop client's replyWriter.Write. While commands run it
// keeps the replies; when the round flushes it writes them, keeping what
// the socket does not take for EPOLLOUT.
func (c *client) loopWrite(p []byte) (int, error) {
	ls := &c.ls
	n := len(p)
	if ls.dead {
		return n, nil
	}
	if ls.flushing && len(ls.out) == ls.off {
		p = p[writeFD(ls.fd, p, &ls.dead):]
	}
	if len(p) > 0 && !ls.dead {
		ls.out = append(ls.out, p...)
	}
	return n, nil
}

// writeFD writes p to fd without blocking and returns how much it took;
// it sets *dead if the connection failed.
func writeFD(fd int, p []byte, dead *bool) int {
	done := 0
	for done < len(p) {
		n, err := unix.Write(fd, p[done:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return done
		case err != nil:
			*dead = true
			return done
		}
		done += n
	}
	return done
}

// writeOut writes what c has waiting, as much as the socket takes.
func (l *loop) writeOut(c *client) {
	ls := &c.ls
	ls.off += writeFD(ls.fd, ls.out[ls.off:], &ls.dead)
	defer func() { c.omem.Store(int64(len(ls.out) - ls.off)) }()
	switch {
	case ls.dead:
		ls.out, ls.off = nil, 0
	case ls.off == len(ls.out):
		ls.out, ls.off = ls.out[:0], 0
		if cap(ls.out) > keepOut {
			ls.out = nil // do not pin a big reply's buffer per client
		}
	case ls.off > keepOut:
		ls.out = append(ls.out[:0], ls.out[ls.off:]...)
		ls.off = 0
	}
}

func (l *loop) markDirty(c *client) {
	if !c.ls.dirty {
		c.ls.dirty = true
		l.dirty = append(l.dirty, c)
	}
}

// flush ends a round: once the AOF holds the round's writes as durably as
// appendfsync promises (the loop writes them itself, once for every client
// of the round, which under always is one fsync: group commit), it writes every client's
// replies, and closes the clients that are leaving.
func (l *loop) flush() {
	if len(l.dirty) == 0 {
		return
	}
	if log := l.srv.aof.log.Load(); log != nil {
		want := int64(0)
		for _, c := range l.dirty {
			if c.aofc.log == log {
				want = max(want, c.aofc.wait)
			}
		}
		if log.Policy() == aof.Always {
			want = max(want, log.Appended())
		}
		if want > 0 {
			log.Flush(want) // write (and fsync) here: no handoff to the flusher
			if err := log.Wait(want); err != nil {
				// Replies must not acknowledge writes the file failed to
				// take: their clients lose the connection instead.
				l.srv.log.Error("AOF write failed; closing the round's clients", "err", err)
				for _, c := range l.dirty {
					c.ls.dead = true
				}
			}
		}
	}
	for _, c := range l.dirty {
		ls := &c.ls
		ls.dirty = false
		c.aofc.wait = 0
		if ls.closed {
			continue
		}
		if !ls.dead {
			ls.flushing = true
			c.w.Flush()
			ls.flushing = false
			if len(ls.out) > ls.off {
				l.writeOut(c)
			}
		}
		switch {
		case ls.dead:
			l.close(c)
		case len(ls.out) > ls.off:
			c.omem.Store(int64(len(ls.out) - ls.off))
			l.arm(c, unix.EPOLLOUT)
		case ls.leaving:
			l.close(c)
		case ls.again:
			l.again = append(l.again, c)
		}
	}
	clear(l.dirty)
	l.dirty = l.dirty[:0]
}

// arm sets the events c's descriptor waits for.
func (l *loop) arm(c *client, events uint32) {
	if c.ls.events == events {
		return
	}
	ev := unix.EpollEvent{Events: events, Fd: int32(c.ls.fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.ls.fd, &ev); err != nil {
		c.ls.dead = true
		l.close(c)
		return
	}
	c.ls.events = events
}

// close closes c's connection and forgets it.
func (l *loop) close(c *client) {
	ls := &c.ls
	if ls.closed {
		return
	}
	ls.closed = true
	delete(l.conns, ls.fd)
	unix.Close(ls.fd) // also takes it out of the epoll set
	ls.out, ls.off = nil, 0
	c.omem.Store(0)
	l.srv.dropClient(c)
}

// closeAll closes every client of the loop at once.
func (l *loop) closeAll() {
	for _, c := range l.conns {
		l.close(c)
	}
}

// cron closes the clients idle past the timeout directive.
func (l *loop) cron() {
	timeout := l.srv.idleTimeout()
	if timeout <= 0 {
		return
	}
	now := l.srv.monotonic()
	for _, c := range l.conns {
		if c.ls.dirty || len(c.ls.out) > c.ls.off {
			continue
		}
		if now-time.Duration(c.lastActive.Load()) > timeout {
			l.srv.log.Debug("closing idle client", "client", c.raddr)
			l.close(c)
		}
	}
}
