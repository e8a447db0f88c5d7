package aof

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrRewriteInProgress: Rewrite was called while another runs.
var ErrRewriteInProgress = errors.New("aof: rewrite already in progress")

// Rewrite replaces the AOF by a new base and an empty incr file, as
// Redis 7's BGREWRITEAOF does, while Append goes on:
//
//  1. it creates a new incr file and writes a manifest that adds it to the
//     current files, so that records written from then on are loaded
//     after a crash at any later step;
//  2. it has the flusher write everything appended so far to the old file
//     and switch to the new one;
//  3. it calls save to write the new base (atomically: temp, fsync,
//     rename), from the live data. The base need not be a point-in-time
//     image: every write not in the new incr file was applied before the
//     switch, hence before save began, and the records in the new incr
//     file are replayed over the base. This needs records that are
//     idempotent, setting a key's whole state (the server logs SET with an
//     absolute deadline, DEL and FLUSHALL);
//  4. it writes the manifest {new base, new incr} (temp, fsync, rename,
//     directory fsync) and deletes the files it replaced.
//
// If save fails, the manifest of step 1 stays: the old base, the old incr
// files and the new one, which load as before; the caller retries later.
func (l *Log) Rewrite(save func(path string) error) error {
	if !l.rewriteMu.TryLock() {
		return ErrRewriteInProgress
	}
	defer l.rewriteMu.Unlock()
	cur := l.Manifest()
	f, incr, err := l.createIncr(cur)
	if err != nil {
		return err
	}
	m1 := cur.clone()
	m1.Incrs = append(m1.Incrs, incr)
	if err := WriteManifest(l.opt.Dir, l.opt.Name, m1); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	l.setManifest(m1)
	sw := &switchReq{f: f, done: make(chan struct{})}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		f.Close()
		return errClosed
	}
	l.sw = sw
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	select {
	case <-sw.done:
	case <-l.stop:
		return errClosed
	}

	base := File{Name: BaseName(l.opt.Name, m1.nextSeq(TypeBase)), Seq: m1.nextSeq(TypeBase), Type: TypeBase}
	path := filepath.Join(l.opt.Dir, base.Name)
	if err := save(path); err != nil {
		os.Remove(path)
		return fmt.Errorf("aof: rewrite: base: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("aof: rewrite: %w", err)
	}
	m2 := &Manifest{Base: &base, Incrs: []File{incr}}
	if cur.Base != nil {
		h := *cur.Base
		h.Type = TypeHistory
		m2.History = append(m2.History, h)
	}
	for _, in := range cur.Incrs {
		in.Type = TypeHistory
		m2.History = append(m2.History, in)
	}
	if err := WriteManifest(l.opt.Dir, l.opt.Name, m2); err != nil {
		os.Remove(path)
		return err
	}
	// The swap is done: the sizes now describe the new files.
	l.baseSize.Store(fi.Size())
	l.closedIncr.Store(0)
	l.rewriteBase.Store(l.Size())
	l.needsBase.Store(false)
	for _, h := range m2.History {
		os.Remove(filepath.Join(l.opt.Dir, h.Name))
	}
	m3 := m2.clone()
	m3.History = nil
	l.setManifest(m3)
	if err := WriteManifest(l.opt.Dir, l.opt.Name, m3); err != nil {
		// m2 is on disk and loads the same data; the next Open deletes
		// its history.
		l.opt.Logger.Warn("aof: rewrite: could not drop history from the manifest", "err", err)
	}
	return nil
}
