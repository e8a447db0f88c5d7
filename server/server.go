package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/server/config"
	"github.com/shardcache/shardcache/server/resp"
)

// Version is shardcached's own version, reported in INFO as
// shardcached_version beside redis_version.
const Version = "0.1.0"

// RedisVersion is the Redis release whose commands, replies and errors
// shardcached follows; INFO reports it as redis_version, which clients
// read to pick features.
const RedisVersion = "7.0.15"

// Server serves shardcache's keyspace to clients speaking Redis's
// protocol. Create one with New, give it listeners with Serve, and stop it
// with Shutdown. All methods are safe for concurrent use.
type Server struct {
	log   *slog.Logger
	cfg   *config.Config
	cache *shardcache.Cache[string, []byte]
	cmds  table
	set   settings

	clients clients
	watch   watchers
	slowlog slowlog

	started    time.Time
	runID      string
	tlsConfig  atomic.Pointer[tls.Config]
	closing    atomic.Bool
	ready      atomic.Bool
	mu         sync.Mutex // guards listeners and the snapshot in progress
	listeners  []net.Listener
	loops      atomic.Pointer[[]*loop] // event loops for plain TCP clients, started by Serve
	nextLoop   atomic.Uint32
	conns      sync.WaitGroup
	done       chan struct{}
	persist    persistence
	sessions   sessionPools
	aof        aofState // the append-only file (aof.go)
	peakMemory atomic.Int64
	loadOnce   sync.Once
	loadErr    error

	commandsProcessed   atomic.Uint64
	rejectedCalls       atomic.Uint64
	connectionsReceived atomic.Uint64
	rejectedConns       atomic.Uint64
	keyspaceHits        atomic.Uint64
	keyspaceMisses      atomic.Uint64
	dirty               atomic.Int64 // changes since the last successful save
	authFailures        atomic.Uint64
	errors              errorCounts
	ops                 opsSampler
}

// New builds a server from cfg: the keyspace (empty until Load) and the
// command table. It listens on nothing yet: see Load and Serve.
func New(cfg *config.Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		log:     log,
		cfg:     cfg,
		started: time.Now(),
		runID:   newRunID(),
		done:    make(chan struct{}),
	}
	s.persist.srv = s
	s.cmds = s.commandTable()
	if err := s.applyConfig(); err != nil {
		return nil, err
	}
	cache, err := s.newCache()
	if err != nil {
		return nil, err
	}
	s.cache = cache
	go s.ops.run(s)
	return s, nil
}

// Load loads dir/dbfilename, if snapshots are on and the file exists, and
// then starts the save rules; the server is Ready after it. Call it once,
// before Serve (the admin server may already answer /readyz, which says
// 503 until Load returns); Serve calls it if it was not. A snapshot that
// fails to load is an error: the caller should stop rather than serve an
// empty keyspace and overwrite the file at the next save.
func (s *Server) Load() error {
	s.loadOnce.Do(func() {
		load := s.loadSnapshot
		if s.cfg.Snapshot().AppendOnly {
			load = s.startAOF // as Redis: with the AOF on, it is the source
		}
		if s.loadErr = load(); s.loadErr != nil {
			s.stopAOF()
			return
		}
		s.persist.start(s)
		s.startAOFLoop()
		s.ready.Store(true)
	})
	return s.loadErr
}

// Ready reports whether the server has loaded its data and serves
// commands: false until Load returns and after Shutdown begins.
func (s *Server) Ready() bool { return s.ready.Load() && !s.closing.Load() }

// Serve accepts connections on ln until Shutdown, serving plain TCP ones
// on the event loops (event-loops) and others each on its own goroutine. It returns nil after Shutdown, or the listener's error.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.Load(); err != nil {
		ln.Close()
		return err
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners = append(s.listeners, ln)
	err := s.startLoops()
	s.mu.Unlock()
	if err != nil {
		ln.Close()
		return err
	}
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isEMFILE(err) {
				// Out of descriptors or a transient failure: back off
				// instead of spinning, as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.accept(conn)
	}
}

// startLoops starts the event-loops directive's loops, once, on
// platforms that have them. The caller holds s.mu.
func (s *Server) startLoops() error {
	n := s.cfg.Snapshot().EventLoops
	if !eventLoopsSupported || n == 0 || s.loops.Load() != nil {
		return nil
	}
	loops := make([]*loop, 0, n)
	for range n {
		l, err := newLoop(s)
		if err != nil {
			for _, l := range loops {
				l.post(msgForce, nil)
			}
			return fmt.Errorf("starting an event loop: %w", err)
		}
		loops = append(loops, l)
	}
	s.loops.Store(&loops)
	return nil
}

// loopFor picks the event loop of a new connection, or nil for a
// goroutine of its own.
func (s *Server) loopFor() *loop {
	p := s.loops.Load()
	if p == nil {
		return nil
	}
	loops := *p
	return loops[int(s.nextLoop.Add(1))%len(loops)]
}

// accept admits one connection: it counts it, enforces maxclients and
// protected mode, and hands it to an event loop if it is plain TCP and
// there are loops, or starts its goroutine.
func (s *Server) accept(conn net.Conn) {
	s.connectionsReceived.Add(1)
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		tc.SetKeepAlive(true)
		tc.SetKeepAlivePeriod(300 * time.Second)
	}
	if n := s.clients.n.Add(1); n > s.set.maxClients.Load() {
		s.clients.n.Add(-1)
		s.rejectedConns.Add(1)
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.Write([]byte("-ERR max number of clients reached\r\n"))
		conn.Close()
		return
	}
	if s.protectedDenies(conn) {
		s.clients.n.Add(-1)
		s.rejectedConns.Add(1)
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.Write([]byte("-" + protectedModeError + "\r\n"))
		conn.Close()
		return
	}
	c := &client{
		srv:  s,
		id:   s.clients.nextID.Add(1),
		conn: conn,

		laddr:   conn.LocalAddr().String(),
		raddr:   conn.RemoteAddr().String(),
		created: time.Now(),
	}
	c.w = resp.NewWriter(replyWriter{c}) // replies wait for the AOF (aof.go)
	c.r = resp.NewReader(connReader{c}, s.limits())
	c.authed = !s.needsAuth()
	c.r.SetAuthenticated(c.authed)
	c.proto.Store(2)
	c.lastActive.Store(int64(s.monotonic()))
	if l := s.loopFor(); l != nil {
		if fd, ok := detach(conn); ok {
			c.conn, c.ls.lp, c.ls.fd = nil, l, fd
			s.clients.add(c)
			s.conns.Add(1)
			l.post(msgAdd, c)
			return
		}
	}
	s.clients.add(c)
	s.conns.Add(1)
	go c.serve()
}

// dropClient forgets a client whose loop ended and closes its connection
// (an event loop closes its clients' descriptors itself).
func (s *Server) dropClient(c *client) {
	c.unwatch()
	if c.conn != nil {
		c.conn.Close()
	}
	s.clients.remove(c)
	s.clients.n.Add(-1)
	s.conns.Done()
}

// limits returns the protocol limits of a new connection.
func (s *Server) limits() resp.Limits {
	lim := resp.DefaultLimits()
	lim.MaxBulkLen = s.set.protoMaxBulkLen.Load()
	return lim
}

// Shutdown stops the server: it stops accepting, lets every client finish
// the commands it has already sent, closes the connections, saves a final
// snapshot if a dir is configured (unless save is false), and closes the
// keyspace. It returns when all that is done or ctx ends, whichever is
// first; connections still open then are closed forcibly.
func (s *Server) Shutdown(ctx context.Context, save bool) error {
	if !s.closing.CompareAndSwap(false, true) {
		<-s.done
		return nil
	}
	defer close(s.done)
	s.mu.Lock()
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	var loops []*loop
	if p := s.loops.Load(); p != nil {
		loops = *p
	}
	// Wake every client blocked in a read: it runs what it has buffered,
	// flushes and leaves (client.serve); the loops do the same for theirs.
	s.clients.each(func(c *client) {
		if c.conn != nil {
			c.conn.SetReadDeadline(time.Now())
		}
	})
	for _, l := range loops {
		l.post(msgShutdown, nil)
	}
	drained := make(chan struct{})
	go func() { s.conns.Wait(); close(drained) }()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		s.clients.each(func(c *client) {
			if c.conn != nil {
				c.conn.Close()
			}
		})
		for _, l := range loops {
			l.post(msgForce, nil)
		}
		err = fmt.Errorf("shutdown: clients still connected: %w", ctx.Err())
	}
	s.persist.stop()
	if aerr := s.stopAOF(); aerr != nil {
		s.log.Error("closing the AOF", "err", aerr)
		err = errors.Join(err, aerr)
	}
	if save && s.persist.enabled() {
		if serr := s.saveNow(); serr != nil {
			s.log.Error("final snapshot failed", "err", serr)
			err = errors.Join(err, serr)
		} else {
			s.log.Info("final snapshot saved", "path", s.persist.path(), "keys", s.cache.Len())
		}
	}
	s.cache.Close()
	return err
}

// Done is closed when Shutdown has finished.
func (s *Server) Done() <-chan struct{} { return s.done }
