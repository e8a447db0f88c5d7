package server

import (
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/server/resp"
)

// Protocol names the API a command came in on; metrics are labelled by
// it.
type Protocol uint8

// The protocols shardcached serves.
const (
	ProtocolRESP Protocol = iota
	ProtocolGRPC
	ProtocolHTTP
	numProtocols
)

// String returns the metrics label: "resp", "grpc" or "http".
func (p Protocol) String() string {
	switch p {
	case ProtocolRESP:
		return "resp"
	case ProtocolGRPC:
		return "grpc"
	case ProtocolHTTP:
		return "http"
	}
	return "unknown"
}

// Session runs Redis commands in process for an API other than RESP (the
// gRPC and HTTP key APIs): each goes through the same command table as a
// RESP client's, so it sees and changes the keyspace exactly as one would,
// with the same maxmemory checks, WATCH touches, AOF records (and replies
// held until they are durable) and keyspace statistics. Commands run by a
// session are not counted in the per-command statistics nor in
// total_commands_processed: the API counts its own operation once with
// Server.Record.
//
// A Session is authenticated: the API checks credentials (CheckPassword)
// before it runs anything. A Session is not safe for concurrent use: take
// one per call with Server.Session and give it back with Release.
type Session struct {
	c   *client
	out *captureConn
}

// ErrServerClosed is returned by Session.Do once Shutdown has begun.
var ErrServerClosed = errors.New("server: shutting down")

// Session returns a session whose operations Record counts under p. It
// comes from a pool: Release it when the call is done.
func (s *Server) Session(p Protocol) *Session {
	if ss, ok := s.sessions[p].Get().(*Session); ok {
		return ss
	}
	out := &captureConn{}
	c := &client{
		srv:     s,
		conn:    out,
		laddr:   p.String(),
		raddr:   p.String(),
		created: time.Now(),
		authed:  true,
		quiet:   true,
	}
	c.w = resp.NewWriter(replyWriter{c})
	c.proto.Store(2)
	return &Session{c: c, out: out}
}

// Release gives ss back to its server's pool. ss must not be used after.
func (ss *Session) Release() {
	p := ProtocolRESP
	switch ss.c.laddr {
	case "grpc":
		p = ProtocolGRPC
	case "http":
		p = ProtocolHTTP
	}
	if cap(ss.out.buf) > 1<<20 {
		ss.out.buf = nil // do not pool a huge value's buffer
	}
	ss.c.srv.sessions[p].Put(ss)
}

// Do runs one command and returns its reply, decoded. The reply aliases
// the session's buffer: it is valid until the next Do or Tx. Args may be
// reused by the caller after Do returns.
func (ss *Session) Do(args ...[]byte) (resp.Reply, error) {
	if ss.c.srv.closing.Load() {
		return resp.Reply{}, ErrServerClosed
	}
	ss.out.buf = ss.out.buf[:0]
	ss.c.process(args)
	if err := ss.c.w.Flush(); err != nil {
		return resp.Reply{}, err
	}
	r, _, err := resp.ParseReply(ss.out.buf)
	return r, err
}

// Tx runs cmds as one MULTI ... EXEC transaction: no client sees some of
// their effects without the others. It returns EXEC's reply: an array of
// the commands' replies, or an error reply if one of them was refused
// while queueing (EXECABORT, with nothing run).
func (ss *Session) Tx(cmds ...[][]byte) (resp.Reply, error) {
	if ss.c.srv.closing.Load() {
		return resp.Reply{}, ErrServerClosed
	}
	ss.out.buf = ss.out.buf[:0]
	ss.c.process(bMULTI)
	for _, args := range cmds {
		ss.c.process(args)
	}
	ss.c.process(bEXEC)
	if err := ss.c.w.Flush(); err != nil {
		return resp.Reply{}, err
	}
	rest := ss.out.buf
	var r resp.Reply
	var err error
	for range len(cmds) + 2 { // +OK, one +QUEUED (or error) each, EXEC's
		if r, rest, err = resp.ParseReply(rest); err != nil {
			return resp.Reply{}, err
		}
	}
	return r, nil
}

// Read reads keys as one transaction of GETs would (MULTI, GET of each
// key, EXEC), straight from the engine: every key's shard is locked at
// once, so the values and TTLs fn sees are of one instant, and each read
// counts as an access in the eviction policy and as a keyspace hit or miss,
// as GET does. fn gets each key's index in keys, its live entry (Value and
// TTL; TTL 0: it does not expire) and whether it was found. fn runs under
// the shard locks: it must be quick and must not use the session. Value is
// the stored slice, never modified once stored (a write replaces it):
// callers may keep it but must not change it. Read is the read path of the
// remote APIs, which need no reply encoded and parsed for a read.
func (ss *Session) Read(keys []string, fn func(i int, e shardcache.Entry[[]byte], found bool)) error {
	srv := ss.c.srv
	if srv.closing.Load() {
		return ErrServerClosed
	}
	srv.cache.Atomic(keys, func(t *etx) {
		for i, k := range keys {
			e, ok := t.Get(k)
			srv.countLookup(ok)
			fn(i, e, ok)
		}
	})
	return nil
}

var (
	bMULTI = [][]byte{[]byte("MULTI")}
	bEXEC  = [][]byte{[]byte("EXEC")}
)

// Record counts one operation of an API under the Redis command it
// corresponds to ("get", "set", "mget", ...) and p: the call, its time
// and whether it failed, in the statistics INFO commandstats and the
// metrics report, and once in total_commands_processed. An unknown command name is ignored. Safe for concurrent
// use.
func (s *Server) Record(p Protocol, command string, d time.Duration, failed bool) {
	cmd := s.cmds[strings.ToLower(command)]
	if cmd == nil || cmd.stats == nil || p >= numProtocols {
		return
	}
	s.commandsProcessed.Add(1) // one call, however many commands it ran
	st := &cmd.stats[p]
	st.record(d)
	if failed {
		st.failed.Add(1)
	}
}

// RecordRejected counts an operation of an API refused before it ran
// (authentication, a request over the limits), as Redis counts
// rejected_calls.
func (s *Server) RecordRejected(p Protocol, command string) {
	s.rejectedCalls.Add(1)
	if cmd := s.cmds[strings.ToLower(command)]; cmd != nil && p < numProtocols {
		cmd.stats[p].rejected.Add(1)
	}
}

// CheckPassword reports whether password opens the server, as AUTH with
// Redis's default user does: true for any password when requirepass is
// empty. Failures count in INFO's auth failures. Safe for concurrent use.
func (s *Server) CheckPassword(password string) bool {
	if !s.needsAuth() {
		return true
	}
	if s.checkAuth(nil, []byte(password)) {
		return true
	}
	s.authFailures.Add(1)
	s.errors.count(errWrongPass)
	return false
}

// NeedsPassword reports whether requirepass is set.
func (s *Server) NeedsPassword() bool { return s.needsAuth() }

// MaxBulkLen is proto-max-bulk-len: the largest value a client may send,
// in bytes. The remote APIs size their message limits from it.
func (s *Server) MaxBulkLen() int64 { return s.set.protoMaxBulkLen.Load() }

// captureConn is a session's connection: replies are appended to buf.
type captureConn struct {
	net.Conn // nil: a session calls only Write
	buf      []byte
}

func (c *captureConn) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	return len(p), nil
}

func (c *captureConn) Close() error { return nil }

// sessionPools holds the idle sessions of each protocol.
type sessionPools [numProtocols]sync.Pool
