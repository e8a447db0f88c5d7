package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/server/aof"
	"github.com/shardcache/shardcache/server/config"
	"github.com/shardcache/shardcache/server/resp"
)

// The append-only file, wired into the server.
//
// What is logged. Every write logs, for each key it changed, the key's
// resulting state, read back under the key's shard lock in c.changed:
// SET key value (with PXAT and the absolute deadline in milliseconds when
// the key expires), or DEL key when the write left it absent; FLUSHDB and
// FLUSHALL log FLUSHALL. So INCR, APPEND, SETRANGE, INCRBYFLOAT (a SET of
// the result that keeps the deadline, as Redis's SET ... KEEPTTL), EXPIRE
// (a SET with PXAT: relative TTLs become absolute), RENAME (DEL and SET)
// are all logged as the state they produced. Such records are idempotent
// and independent of the state they are applied to, which is what makes
// three things correct: a replay cannot extend a TTL or revive a key (a
// PXAT already past leaves no key, whatever happened before); a key that
// expired before a crash but after its last record cannot turn into
// another value by replaying a relative command onto nothing; and a
// rewrite may take its base from the live keyspace while writes go on
// (aof.Log.Rewrite). The price is that a small change to a big value logs
// the whole value; rewrites bound the file.
//
// Order. The records of one command are appended to the log's buffer
// inside its Atomic function, under the shard locks of every key it
// changed (c.atomic* commit them before returning), so two writes to one
// key are in the file in the order the engine applied them. A command that
// changes several keys (MSET, RENAME, DEL a b) and every EXEC are logged
// as one MULTI ... EXEC block, so a torn tail cannot keep half of one.
//
// Expirations and evictions. The engine reports them through OnRemove,
// after it has released the shard lock, so the removal and its callback
// are not one step: another client may write the key in between. The
// callback therefore does not log "the key was removed" but "the key is
// absent now", checked under the key's shard lock: it takes the lock
// (Atomic) and appends DEL key only if the key is absent. Both records
// describe the state at the moment they are appended under that lock, so
// the file's last record for a key always matches the keyspace, whatever
// the interleaving: a SET that slipped in between makes the callback log
// nothing, and a DEL logged after it is of a key that is gone. Until the
// callback runs, the file may still hold the evicted key; a crash in that
// window brings it back, which is a cache keeping a key it could have
// evicted, never a wrong value. Replay runs with the memory bound lifted,
// so that it evicts nothing itself; the DELs reproduce the evictions.
//
// Replies. A client's replies leave only once the records of its writes
// are as durable as appendfsync promises (replyWriter); under always, also
// once everything appended before the flush is, so that no client reads
// a value that a crash could still lose.
type aofState struct {
	log atomic.Pointer[aof.Log]

	mu             sync.Mutex // serializes turning the AOF on and off
	rewriting      atomic.Bool
	scheduled      atomic.Bool
	rewriteStart   atomic.Int64 // unix nanoseconds
	lastRewriteDur atomic.Int64 // nanoseconds; -1: none yet
	lastRewriteOK  atomic.Bool
	rewrites       atomic.Uint64
	failures       atomic.Int64 // consecutive failed rewrites
	lastTry        atomic.Int64 // unix seconds of the last rewrite attempt
	stopCh         chan struct{}
	wg             sync.WaitGroup
}

// aofClient is a client's part: the records of the running command, and
// the stream offset its next replies wait for.
type aofClient struct {
	cur       *etx // the Atomic function's transaction, while one runs
	buf       []byte
	n         int   // records in buf
	wait      int64 // Log.Wait offset for the replies written so far
	log       *aof.Log
	held      []byte // replies written inside EXEC, sent after its records
	replaying bool   // a client replaying the AOF: nothing is logged
}

var (
	bSET  = []byte("SET")
	bDEL  = []byte("DEL")
	bPXAT = []byte("PXAT")
)

// aofOn reports whether writes are logged.
func (s *Server) aofOn() bool { return s.aof.log.Load() != nil }

// aofRecordKey appends the state of key, read under its shard lock, to the
// records of the running command. changed calls it.
func (c *client) aofRecordKey(key string) {
	a := &c.aofc
	t := a.cur
	if c.tx != nil {
		t = c.tx.t
	}
	if t == nil || a.replaying {
		return
	}
	e, ok := t.Peek(key)
	c.aofRecordState(key, e.Value, e.Deadline, ok)
}

// aofRecordState appends the record of key's state: SET key value (PXAT
// deadline in ms when it expires) when live, DEL key when not. The caller
// holds the key's shard lock and read the state under it.
func (c *client) aofRecordState(key string, value []byte, deadline time.Time, live bool) {
	a := &c.aofc
	switch {
	case !live:
		a.buf = aof.AppendArray(a.buf, 2)
		a.buf = aof.AppendBulk(a.buf, bDEL)
	case deadline.IsZero():
		a.buf = aof.AppendArray(a.buf, 3)
		a.buf = aof.AppendBulk(a.buf, bSET)
	default:
		a.buf = aof.AppendArray(a.buf, 5)
		a.buf = aof.AppendBulk(a.buf, bSET)
	}
	a.buf = aof.AppendBulkString(a.buf, key)
	if live {
		a.buf = aof.AppendBulk(a.buf, value)
		if !deadline.IsZero() {
			a.buf = aof.AppendBulk(a.buf, bPXAT)
			ms := (deadline.UnixNano() + 500_000) / 1_000_000
			var digits [20]byte
			a.buf = aof.AppendBulk(a.buf, strconv.AppendInt(digits[:0], ms, 10))
		}
	}
	a.n++
}

// aofRecordFlush records FLUSHALL.
func (c *client) aofRecordFlush() {
	if !c.srv.aofOn() || c.aofc.replaying {
		return
	}
	c.aofc.buf = aof.AppendCommand(c.aofc.buf, []byte("FLUSHALL"))
	c.aofc.n++
}

// inAtomic runs fn as the function of an Atomic call over t and appends
// the records it made, still under the locks.
func (c *client) inAtomic(t *etx, fn func(*etx)) {
	a := &c.aofc
	a.cur, a.buf, a.n = t, a.buf[:0], 0
	fn(t)
	a.cur = nil
	c.aofCommit(false)
}

// aofCommit appends the records buffered since the last commit, as a
// MULTI ... EXEC block if exec or if there are several. Callers hold the
// shard locks of every key the records name.
func (c *client) aofCommit(exec bool) {
	a := &c.aofc
	if a.n == 0 {
		return
	}
	if l := c.srv.aof.log.Load(); l != nil {
		// A loop's clients queue: the loop's wait at the end of its
		// round writes the round's records at once (loop.flush).
		rec := [][]byte{a.buf}
		if exec || a.n > 1 {
			rec = [][]byte{aof.Multi, a.buf, aof.Exec}
		}
		if c.ls.lp != nil {
			a.wait = l.Queue(rec...)
		} else {
			a.wait = l.Append(rec...)
		}
		a.log = l
	}
	a.buf, a.n = a.buf[:0], 0
	if cap(a.buf) > 1<<20 {
		a.buf = nil // do not keep a huge value's buffer per client
	}
}

// replyWriter is what a client's resp.Writer writes to: it holds the
// replies back until the records they acknowledge are durable.
type replyWriter struct{ c *client }

func (r replyWriter) Write(p []byte) (int, error) {
	c := r.c
	if c.ls.lp != nil {
		return c.loopWrite(p) // the loop gates the whole round (loop.flush)
	}
	a := &c.aofc
	l := c.srv.aof.log.Load()
	if l == nil && len(a.held) == 0 {
		a.wait = 0
		return c.conn.Write(p)
	}
	if c.tx != nil && l != nil {
		// Inside EXEC (the Writer spills at 64 KiB): its records are
		// appended when it ends; keep the replies until then, and write
		// nothing to the socket under the shard locks.
		a.held = append(a.held, p...)
		return len(p), nil
	}
	if l != nil {
		want := int64(0)
		if a.log == l {
			want = a.wait
		}
		if l.Policy() == aof.Always {
			want = max(want, l.Appended())
		}
		if want > 0 {
			if err := l.Wait(want); err != nil {
				return 0, err
			}
		}
	}
	a.wait = 0
	if len(a.held) > 0 {
		bufs := net.Buffers{a.held, p}
		_, err := bufs.WriteTo(c.conn)
		a.held = a.held[:0]
		if err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.conn.Write(p)
}

// onRemove is the engine's OnRemove: it logs expirations and evictions as
// DEL once the key is absent under its lock (see aofState).
func (s *Server) onRemove(key string, _ []byte, why shardcache.RemoveReason) {
	if why != shardcache.ReasonExpired && why != shardcache.ReasonEvicted {
		return
	}
	l := s.aof.log.Load()
	if l == nil {
		return
	}
	s.cache.Atomic([]string{key}, func(t *etx) {
		if _, ok := t.Peek(key); ok {
			return
		}
		var rec [64]byte
		b := aof.AppendArray(rec[:0], 2)
		b = aof.AppendBulk(b, bDEL)
		b = aof.AppendBulkString(b, key)
		l.Append(b)
	})
}

// aofDir is dir/appenddirname.
func aofDir(v *config.Values) string { return filepath.Join(v.Dir, v.AppendDirname) }

// startAOF loads the AOF at start-up (or, on a first start with
// appendonly yes, the snapshot if there is one) and opens it for writing.
func (s *Server) startAOF() error {
	v := s.cfg.Snapshot()
	dir := aofDir(v)
	m, err := aof.ReadManifest(dir, v.AppendFilename)
	switch {
	case errors.Is(err, aof.ErrNoManifest):
		s.log.Info("no AOF yet; loading the snapshot if any, then writing the first base", "dir", dir)
		if err := s.loadSnapshot(); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if err := s.loadAOF(dir, m, v.AOFLoadTruncated); err != nil {
			return err
		}
	}
	return s.openAOF(v)
}

// openAOF opens the log and publishes it; a new AOF gets its first base
// at once.
func (s *Server) openAOF(v *config.Values) error {
	pol, err := aof.ParsePolicy(v.AppendFsync)
	if err != nil {
		return err
	}
	l, err := aof.Open(aof.Options{Dir: aofDir(v), Name: v.AppendFilename, Policy: pol, Logger: s.log})
	if err != nil {
		return err
	}
	s.aof.log.Store(l)
	if l.NeedsBase() {
		if err := s.rewriteAOF(); err != nil {
			s.aof.log.Store(nil)
			l.Close()
			return err
		}
	}
	return nil
}

// loadAOF replays the AOF of m: the base, then every incr file in order.
func (s *Server) loadAOF(dir string, m *aof.Manifest, loadTruncated bool) error {
	p := &s.persist
	p.loading.Store(true)
	defer p.loading.Store(false)
	start := time.Now()
	// No evictions while replaying: the log's DELs reproduce those that
	// happened, and the bound is put back once the keyspace is whole.
	s.cache.SetMaxCost(0)
	defer s.cache.SetMaxCost(engineMaxCost(s.cfg.Snapshot()))
	if m.Base != nil {
		path := filepath.Join(dir, m.Base.Name)
		if err := s.cache.LoadFile(path); err != nil {
			return fmt.Errorf("aof: base file %s: %w", path, err)
		}
	}
	c := s.replayClient()
	records := 0
	for i, in := range m.Incrs {
		path := filepath.Join(dir, in.Name)
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("aof: incr file %s: %w", path, err)
		}
		_, err = aof.Scan(f, func(u aof.Unit) error {
			records += len(u.Cmds)
			return s.replay(c, u)
		})
		f.Close()
		var te *aof.TruncatedError
		switch {
		case err == nil:
		case errors.As(err, &te) && i == len(m.Incrs)-1 && loadTruncated:
			s.log.Warn("aof: the last record of the AOF is incomplete (a torn write); cutting it off, as aof-load-truncated allows",
				"file", path, "offset", te.Offset, "size", te.Size)
			if err := aof.Truncate(path, te.Offset); err != nil {
				return fmt.Errorf("aof: truncating %s: %w", path, err)
			}
		case errors.As(err, &te) && i == len(m.Incrs)-1:
			return fmt.Errorf("aof: %s is truncated: its complete records end at offset %d of %d; aof-load-truncated is no (set it to yes, or run shardcached check-aof --fix %s)", path, te.Offset, te.Size, dir)
		case errors.As(err, &te):
			return fmt.Errorf("aof: %s is truncated at offset %d but is not the last file: refusing to load", path, te.Offset)
		default:
			return fmt.Errorf("aof: %s: %w", path, err)
		}
	}
	s.dirty.Store(0)
	s.log.Info("AOF loaded", "dir", dir, "keys", s.cache.Len(), "records", records, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// replayClient is a client with no connection whose replies go nowhere
// and whose writes are not logged.
func (s *Server) replayClient() *client {
	c := &client{srv: s, authed: true, w: resp.NewWriter(io.Discard), raddr: "aof", laddr: "aof"}
	c.aofc.replaying = true
	c.proto.Store(2)
	return c
}

// replay applies one unit of the AOF through the command code.
func (s *Server) replay(c *client, u aof.Unit) error {
	lookup := func(args [][]byte) (*command, error) {
		cmd := s.cmds.lookup(args[0])
		if cmd == nil || cmd.run == nil || cmd.flags&flagWrite == 0 || !arityOK(cmd.arity, len(args)) {
			return nil, &aof.CorruptError{Offset: u.Offset, Msg: fmt.Sprintf("not a write this server can replay: %q", clip(string(args[0]), 64))}
		}
		return cmd, nil
	}
	if !u.Multi {
		cmd, err := lookup(u.Cmds[0])
		if err != nil {
			return err
		}
		cmd.run(c, u.Cmds[0])
		return nil
	}
	c.multi = &multiState{}
	for _, args := range u.Cmds {
		cmd, err := lookup(args)
		if err != nil {
			c.multi = nil
			return err
		}
		c.multi.cmds = append(c.multi.cmds, queued{cmd: cmd, name: cmd.name, args: args})
	}
	cmdExec(c, nil)
	return nil
}

// rewriteAOF rewrites the AOF on the calling goroutine.
func (s *Server) rewriteAOF() error {
	l := s.aof.log.Load()
	if l == nil {
		return errors.New("ERR appendonly is no: there is no AOF to rewrite")
	}
	a := &s.aof
	if !a.rewriting.CompareAndSwap(false, true) {
		return errors.New("ERR Background append only file rewriting already in progress")
	}
	defer a.rewriting.Store(false)
	a.scheduled.Store(false)
	start := time.Now()
	a.rewriteStart.Store(start.UnixNano())
	a.lastTry.Store(start.Unix())
	err := l.Rewrite(func(path string) error { return s.cache.SaveFile(path) })
	a.lastRewriteDur.Store(int64(time.Since(start)))
	if err != nil {
		a.lastRewriteOK.Store(false)
		a.failures.Add(1)
		s.log.Error("AOF rewrite failed; the old files stay in use, and it will be retried", "err", err)
		return err
	}
	a.lastRewriteOK.Store(true)
	a.failures.Store(0)
	a.rewrites.Add(1)
	st := l.Stats()
	s.log.Info("AOF rewritten", "keys", s.cache.Len(), "base_bytes", st.BaseSize, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// bgrewriteAOF starts a rewrite on its own goroutine.
func (s *Server) bgrewriteAOF() error {
	if s.aof.log.Load() == nil {
		return errors.New("ERR appendonly is no: there is no AOF to rewrite")
	}
	if s.aof.rewriting.Load() {
		return errors.New("ERR Background append only file rewriting already in progress")
	}
	s.aof.wg.Add(1)
	go func() {
		defer s.aof.wg.Done()
		s.rewriteAOF()
	}()
	return nil
}

func cmdBgrewriteaof(c *client, args [][]byte) {
	if err := c.srv.bgrewriteAOF(); err != nil {
		c.errorReply(err.Error())
		return
	}
	c.w.SimpleString("Background append only file rewriting started")
}

// aofLoop rewrites the AOF by growth (auto-aof-rewrite-percentage and
// -min-size), checked once a second as Redis's serverCron does, and
// retries a failed rewrite with a delay that grows with the failures.
func (s *Server) aofLoop() {
	defer s.aof.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.aof.stopCh:
			return
		case <-t.C:
		}
		l := s.aof.log.Load()
		if l == nil || s.aof.rewriting.Load() {
			continue
		}
		if n := s.aof.failures.Load(); n > 0 {
			delay := min(time.Duration(n)*5*time.Second, time.Minute)
			if time.Since(time.Unix(s.aof.lastTry.Load(), 0)) < delay {
				continue
			}
			s.log.Info("retrying the failed AOF rewrite", "failures", n)
			s.rewriteAOF()
			continue
		}
		v := s.cfg.Snapshot()
		st := l.Stats()
		if v.AutoAOFRewritePercentage <= 0 || st.Size <= v.AutoAOFRewriteMinSize {
			continue
		}
		base := max(st.RewriteBase, 1)
		if growth := st.Size*100/base - 100; growth >= int64(v.AutoAOFRewritePercentage) {
			s.log.Info("rewriting the AOF by growth", "size", st.Size, "base", base, "growth_pct", growth)
			s.aof.scheduled.Store(true)
			s.rewriteAOF()
		}
	}
}

// startAOFLoop starts the rewrite loop; stopAOF ends it and closes the log
// (writing and fsyncing what was appended).
func (s *Server) startAOFLoop() {
	s.aof.lastRewriteOK.Store(true)
	s.aof.lastRewriteDur.Store(-1)
	s.aof.stopCh = make(chan struct{})
	s.aof.wg.Add(1)
	go s.aofLoop()
}

func (s *Server) stopAOF() error {
	if s.aof.stopCh != nil {
		select {
		case <-s.aof.stopCh:
		default:
			close(s.aof.stopCh)
		}
	}
	s.aof.wg.Wait()
	l := s.aof.log.Swap(nil)
	if l == nil {
		return nil
	}
	return l.Close()
}

// aofHooks registers CONFIG SET's hooks for appendonly and appendfsync.
func (s *Server) aofHooks() {
	s.cfg.OnChange("appendfsync", func(old, cur config.Values) error {
		if l := s.aof.log.Load(); l != nil {
			p, err := aof.ParsePolicy(cur.AppendFsync)
			if err != nil {
				return err
			}
			l.SetPolicy(p)
		}
		return nil
	})
	s.cfg.OnChange("appendonly", func(old, cur config.Values) error {
		s.aof.mu.Lock()
		defer s.aof.mu.Unlock()
		on := s.aof.log.Load() != nil
		switch {
		case cur.AppendOnly && !on:
			// As Redis: a rewrite writes the current keyspace as the
			// base; writes are logged from before it starts.
			return s.openAOFRuntime(&cur)
		case !cur.AppendOnly && on:
			l := s.aof.log.Swap(nil)
			return l.Close()
		}
		return nil
	})
}

// openAOFRuntime turns the AOF on for a running server: the log is
// published first (so that every write from then on is logged), then a
// rewrite writes the keyspace as the new base.
func (s *Server) openAOFRuntime(v *config.Values) error {
	pol, err := aof.ParsePolicy(v.AppendFsync)
	if err != nil {
		return err
	}
	l, err := aof.Open(aof.Options{Dir: aofDir(v), Name: v.AppendFilename, Policy: pol, Logger: s.log})
	if err != nil {
		return err
	}
	s.aof.log.Store(l)
	if err := s.rewriteAOF(); err != nil {
		s.aof.log.Store(nil)
		l.Close()
		return err
	}
	return nil
}

// aofInfo writes INFO persistence's aof_* fields.
func (s *Server) aofInfo(f func(string, any)) {
	a := &s.aof
	l := a.log.Load()
	f("aof_enabled", b01(l != nil))
	f("aof_rewrite_in_progress", b01(a.rewriting.Load()))
	f("aof_rewrite_scheduled", b01(a.scheduled.Load() && !a.rewriting.Load()))
	if d := a.lastRewriteDur.Load(); d >= 0 {
		f("aof_last_rewrite_time_sec", int64(time.Duration(d)/time.Second))
	} else {
		f("aof_last_rewrite_time_sec", -1)
	}
	if a.rewriting.Load() {
		f("aof_current_rewrite_time_sec", int64(time.Since(time.Unix(0, a.rewriteStart.Load()))/time.Second))
	} else {
		f("aof_current_rewrite_time_sec", -1)
	}
	f("aof_last_bgrewrite_status", okErr(a.lastRewriteOK.Load()))
	f("aof_rewrites", a.rewrites.Load())
	f("aof_rewrites_consecutive_failures", a.failures.Load())
	writeOK := l == nil || l.WriteError() == nil
	f("aof_last_write_status", okErr(writeOK))
	f("aof_last_cow_size", 0)
	if l == nil {
		return
	}
	st := l.Stats()
	f("aof_current_size", st.Size)
	f("aof_base_size", st.BaseSize)
	f("aof_pending_rewrite", b01(a.scheduled.Load() && !a.rewriting.Load()))
	f("aof_buffer_length", st.Buffered)
	f("aof_pending_bio_fsync", b01(st.PendingFsync))
	f("aof_delayed_fsync", st.DelayedFsync)
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

// aofRefusesWrites returns the MISCONF error writes get while the AOF
// cannot be written, as Redis answers them, or "".
func (s *Server) aofRefusesWrites() string {
	l := s.aof.log.Load()
	if l == nil {
		return ""
	}
	if err := l.WriteError(); err != nil {
		return "MISCONF Errors writing to the AOF file: " + err.Error()
	}
	return ""
}
