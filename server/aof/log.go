package aof

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Policy is appendfsync: when a record is made durable.
type Policy int32

const (
	// No: records are written to the file before the replies they cover
	// are sent, and the OS writes them to disk when it likes.
	No Policy = iota
	// EverySec: written before the replies, fsynced in the background once
	// a second; a writer waits only when an fsync has been pending more
	// than two seconds (the disk is stalled), as Redis does.
	EverySec
	// Always: written and fsynced before the replies, in one write and one
	// fsync per batch of records from every client (group commit).
	Always
)

// ParsePolicy reads appendfsync's value.
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "no":
		return No, nil
	case "everysec":
		return EverySec, nil
	case "always":
		return Always, nil
	}
	return 0, fmt.Errorf("aof: unknown appendfsync %q", s)
}

func (p Policy) String() string {
	switch p {
	case No:
		return "no"
	case EverySec:
		return "everysec"
	}
	return "always"
}

// delayedFsync is how long an fsync may be pending under EverySec before
// writers wait for it (Redis's two seconds).
const delayedFsync = 2 * time.Second

// Options configure a Log.
type Options struct {
	Dir    string // the AOF directory (dir/appenddirname); created if missing
	Name   string // appendfilename: the prefix of every file's name
	Policy Policy
	Logger *slog.Logger
}

// Log is the append-only file a running server writes. Append is safe for
// concurrent use and never touches the disk: it copies the record into a
// buffer that one goroutine writes out in batches (group commit); Wait
// blocks until a record is as durable as the policy promises. A Log is
// created by Open and ended by Close.
type Log struct {
	opt    Options
	policy atomic.Int32

	mu       sync.Mutex // guards buf, switchReq, closed; appended changes under it
	buf      []byte
	appended atomic.Int64 // bytes appended since Open (a stream offset)
	sw       *switchReq
	closed   bool

	kick     chan struct{}
	written  atomic.Int64 // stream offset written to a file
	synced   atomic.Int64 // stream offset fsynced
	progress atomic.Pointer[chan struct{}]
	werr     atomic.Pointer[error] // the last write or fsync error, nil once one succeeds

	// Owned by whoever holds flushMu: the flusher goroutine, or a Flush
	// caller (file is also read by the syncer).
	flushMu sync.Mutex
	file    atomic.Pointer[os.File]
	spare   []byte

	syncMu     sync.Mutex   // held across an fsync and while the flusher closes a file
	fsyncSince atomic.Int64 // unix nanoseconds the pending background fsync started; 0: none
	delayed    atomic.Uint64

	rewriteMu sync.Mutex // one rewrite at a time
	manMu     sync.Mutex
	man       *Manifest
	needsBase atomic.Bool

	baseSize    atomic.Int64
	closedIncr  atomic.Int64 // bytes in the manifest's incr files before the current one
	curIncr     atomic.Int64 // bytes in the current incr file
	rewriteBase atomic.Int64 // the AOF's size after the last rewrite (or at Open), for growth

	stop chan struct{}
	wg   sync.WaitGroup
}

// switchReq asks the flusher to write everything appended so far to the
// current file and what follows to f.
type switchReq struct {
	f    *os.File
	done chan struct{}
}

// errClosed answers Wait on a Log closed with records it could not write.
var errClosed = errors.New("aof: log closed")

// Open opens the AOF in opt.Dir for appending to its last incremental
// file, creating a new one if the manifest lists none. A directory without
// a manifest (a first start) is created empty: NeedsBase reports it, and
// the caller must Rewrite before relying on the log. History files a
// crashed rewrite left are deleted.
func Open(opt Options) (*Log, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("aof: %w", err)
	}
	l := &Log{opt: opt, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	l.policy.Store(int32(opt.Policy))
	ch := make(chan struct{})
	l.progress.Store(&ch)
	m, err := ReadManifest(opt.Dir, opt.Name)
	switch {
	case errors.Is(err, ErrNoManifest):
		l.man = &Manifest{}
		l.needsBase.Store(true)
	case err != nil:
		return nil, err
	default:
		l.man = m
		if err := l.openLast(); err != nil {
			return nil, err
		}
	}
	l.wg.Add(2)
	go l.flusher()
	go l.syncer()
	return l, nil
}

// openLast opens the manifest's last incr file for appending (creating
// one when there is none), measures the files and deletes history.
func (l *Log) openLast() error {
	m := l.man
	if len(m.History) > 0 {
		for _, h := range m.History {
			os.Remove(filepath.Join(l.opt.Dir, h.Name))
		}
		m.History = nil
		if err := WriteManifest(l.opt.Dir, l.opt.Name, m); err != nil {
			return err
		}
	}
	if m.Base != nil {
		if fi, err := os.Stat(filepath.Join(l.opt.Dir, m.Base.Name)); err == nil {
			l.baseSize.Store(fi.Size())
		}
	}
	if len(m.Incrs) == 0 {
		f, incr, err := l.createIncr(m)
		if err != nil {
			return err
		}
		m2 := m.clone()
		m2.Incrs = append(m2.Incrs, incr)
		if err := WriteManifest(l.opt.Dir, l.opt.Name, m2); err != nil {
			f.Close()
			return err
		}
		l.man = m2
		l.file.Store(f)
	} else {
		var closed int64
		for _, in := range m.Incrs[:len(m.Incrs)-1] {
			if fi, err := os.Stat(filepath.Join(l.opt.Dir, in.Name)); err == nil {
				closed += fi.Size()
			}
		}
		l.closedIncr.Store(closed)
		last := m.Incrs[len(m.Incrs)-1]
		f, err := os.OpenFile(filepath.Join(l.opt.Dir, last.Name), os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("aof: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("aof: %w", err)
		}
		l.curIncr.Store(fi.Size())
		l.file.Store(f)
	}
	l.rewriteBase.Store(l.Size())
	return nil
}

// createIncr creates the next incr file of m, durably (directory fsync).
func (l *Log) createIncr(m *Manifest) (*os.File, File, error) {
	incr := File{Name: IncrName(l.opt.Name, m.nextSeq(TypeIncr)), Seq: m.nextSeq(TypeIncr), Type: TypeIncr}
	f, err := os.OpenFile(filepath.Join(l.opt.Dir, incr.Name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, incr, fmt.Errorf("aof: %w", err)
	}
	if err := syncDir(l.opt.Dir); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, incr, err
	}
	return f, incr, nil
}

// NeedsBase reports whether Open found no AOF, so that a Rewrite must
// write the first base.
func (l *Log) NeedsBase() bool { return l.needsBase.Load() }

// SetPolicy changes appendfsync.
func (l *Log) SetPolicy(p Policy) { l.policy.Store(int32(p)); l.signal() }

// Policy returns appendfsync.
func (l *Log) Policy() Policy { return Policy(l.policy.Load()) }

// Append queues the concatenation of rec (whole records) and returns the stream
// offset Wait needs to see it durable. It copies rec and never blocks on
// the disk, so that the server may call it under the engine's shard locks:
// the order of Appends is the order of the file. After Close it does
// nothing and returns 0.
func (l *Log) Append(rec ...[]byte) int64 {
	end := l.Queue(rec...)
	l.Kick()
	return end
}

// Queue appends as Append does but leaves the write to the next Kick or
// Wait (or the flusher's once-a-second retry): an event loop queues the
// records of a whole round and then waits once, which makes them one write
// and, under Always, one fsync.
func (l *Log) Queue(rec ...[]byte) int64 {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0
	}
	n := 0
	for _, r := range rec {
		l.buf = append(l.buf, r...)
		n += len(r)
	}
	end := l.appended.Add(int64(n))
	l.mu.Unlock()
	return end
}

// Kick starts writing what is appended, if the flusher is not already
// about to.
func (l *Log) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Appended returns the stream offset of everything appended so far.
func (l *Log) Appended() int64 { return l.appended.Load() }

// Wait starts the write of what is queued up to stream offset off, if it
// has not started, and blocks until those records are written
// (No, EverySec) or fsynced (Always), and under EverySec also while an
// fsync has been pending more than two seconds. It returns the write
// error instead if the log cannot write them.
func (l *Log) Wait(off int64) error {
	if l.written.Load() < off {
		l.Kick() // records Queued and not written yet
	}
	for {
		ch := *l.progress.Load()
		done := l.written.Load()
		pol := l.Policy()
		if pol == Always {
			done = l.synced.Load()
		}
		if done >= off {
			since := l.fsyncSince.Load()
			if pol != EverySec || since == 0 || time.Since(time.Unix(0, since)) <= delayedFsync {
				return nil
			}
			l.delayed.Add(1)
		} else if errp := l.werr.Load(); errp != nil {
			return *errp
		}
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond):
			// Wakes a waiter for the two-second rule, and after Close.
			l.mu.Lock()
			closed := l.closed
			l.mu.Unlock()
			if closed && l.written.Load() < off {
				return errClosed
			}
		}
	}
}

// signal wakes every Wait.
func (l *Log) signal() {
	ch := make(chan struct{})
	old := l.progress.Swap(&ch)
	close(*old)
}

// flusher writes what Append queued, one batch at a time, fsyncing each
// under Always, and carries out switches to a new incr file.
func (l *Log) flusher() {
	defer l.wg.Done()
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for {
		select {
		case <-l.kick:
		case <-retry.C:
		case <-l.stop:
			l.flush()
			if f := l.file.Load(); f != nil {
				l.syncMu.Lock()
				if err := f.Sync(); err == nil {
					l.synced.Store(l.written.Load())
				}
				l.syncMu.Unlock()
			}
			l.signal()
			return
		}
		l.flush()
	}
}

// Flush makes the records up to stream offset off written, and under
// Always fsynced, in the caller's goroutine, writing everything appended
// if they are not; then Wait(off) returns at once unless the write failed.
// An event loop calls it at the end of a round, as Redis writes its AOF
// buffer before it sleeps, rather than waking the flusher goroutine and
// being woken by it.
func (l *Log) Flush(off int64) {
	if l.written.Load() >= off && (l.Policy() != Always || l.synced.Load() >= off) {
		return
	}
	l.flush()
}

// flush writes one batch: everything appended so far. Calls are
// serialized (flushMu), so that batches reach the file in order.
func (l *Log) flush() {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	f := l.file.Load()
	if f == nil && l.sw == nil {
		l.mu.Unlock()
		return // no file yet: the first Rewrite gives one
	}
	batch, sw := l.buf, l.sw
	end := l.appended.Load()
	l.buf, l.sw = l.spare[:0], nil
	l.mu.Unlock()
	if len(batch) > 0 {
		dst, size := f, &l.curIncr
		if f == nil {
			dst = sw.f
		}
		if err := l.write(dst, batch, size.Load()); err != nil {
			// Put the batch back in front of what came since, and
			// retry within a second; Wait reports the error meanwhile.
			l.mu.Lock()
			l.buf = append(batch, l.buf...)
			if l.sw == nil {
				l.sw = sw
			}
			l.mu.Unlock()
			l.fail(err)
			return
		}
		size.Add(int64(len(batch)))
	}
	l.spare = batch
	l.written.Store(end)
	if sw != nil {
		if f != nil {
			l.syncMu.Lock()
			if err := f.Sync(); err != nil {
				l.opt.Logger.Warn("aof: fsync of the replaced incr file failed", "err", err)
			}
			f.Close()
			l.syncMu.Unlock()
			l.closedIncr.Add(l.curIncr.Swap(0))
		}
		l.file.Store(sw.f)
		close(sw.done)
		f = sw.f
	}
	if l.Policy() == Always && l.synced.Load() < end {
		if err := f.Sync(); err != nil {
			l.fail(err)
			return
		}
		l.synced.Store(end)
	}
	l.werr.Store(nil)
	l.signal()
}

// write appends batch to f, whose size is size; on a failure it cuts what
// was partly written, so that no half record stays in the file.
func (l *Log) write(f *os.File, batch []byte, size int64) error {
	n, err := f.Write(batch)
	if err == nil && n < len(batch) {
		err = errors.New("short write")
	}
	if err != nil && n > 0 {
		if terr := f.Truncate(size); terr != nil {
			l.opt.Logger.Error("aof: cannot cut a partly written batch; the file's tail is torn", "file", f.Name(), "err", terr)
		}
	}
	return err
}

func (l *Log) fail(err error) {
	err = fmt.Errorf("aof: %w", err)
	if l.werr.Swap(&err) == nil {
		l.opt.Logger.Error("aof: write failed; retrying every second", "err", err)
	}
	l.signal()
}

// WriteError returns the error of the last failed write or fsync, or nil
// once one succeeds again.
func (l *Log) WriteError() error {
	if p := l.werr.Load(); p != nil {
		return *p
	}
	return nil
}

// syncer fsyncs once a second under EverySec, off the write path.
func (l *Log) syncer() {
	defer l.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		if l.Policy() != EverySec {
			continue
		}
		w := l.written.Load()
		if w <= l.synced.Load() {
			continue
		}
		l.syncMu.Lock()
		f := l.file.Load()
		l.fsyncSince.Store(time.Now().UnixNano())
		err := f.Sync()
		l.fsyncSince.Store(0)
		l.syncMu.Unlock()
		if err != nil {
			l.fail(err)
			continue
		}
		if w > l.synced.Load() {
			l.synced.Store(w)
		}
		l.signal()
	}
}

// Close writes and fsyncs everything appended, stops the goroutines and
// closes the file. Appends after Close are dropped.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	l.wg.Wait()
	var err error
	if f := l.file.Load(); f != nil {
		err = f.Close()
	}
	if l.written.Load() < l.appended.Load() {
		err = errors.Join(err, l.WriteError(), errors.New("aof: records appended but not written at close"))
	}
	return err
}

// Stats are the figures INFO persistence reports.
type Stats struct {
	Size, BaseSize    int64 // aof_current_size, aof_base_size
	RewriteBase       int64 // the size after the last rewrite
	Buffered          int64 // aof_buffer_length: appended, not yet written
	PendingFsync      bool  // aof_pending_bio_fsync
	DelayedFsync      uint64
	WriteOK           bool
	Appended, Written int64
	Synced            int64
}

// Stats returns the log's figures.
func (l *Log) Stats() Stats {
	return Stats{
		Size: l.Size(), BaseSize: l.baseSize.Load(), RewriteBase: l.rewriteBase.Load(),
		Buffered:     l.appended.Load() - l.written.Load(),
		PendingFsync: l.fsyncSince.Load() != 0, DelayedFsync: l.delayed.Load(),
		WriteOK:  l.werr.Load() == nil,
		Appended: l.appended.Load(), Written: l.written.Load(), Synced: l.synced.Load(),
	}
}

// Size is the AOF's size on disk: the base and every incr file.
func (l *Log) Size() int64 {
	return l.baseSize.Load() + l.closedIncr.Load() + l.curIncr.Load()
}

// Manifest returns a copy of the current manifest.
func (l *Log) Manifest() *Manifest {
	l.manMu.Lock()
	defer l.manMu.Unlock()
	return l.man.clone()
}

func (l *Log) setManifest(m *Manifest) {
	l.manMu.Lock()
	l.man = m
	l.manMu.Unlock()
}
