package server

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// persistence is the server's snapshot state: where snapshots go, the save
// rules' clock, and the background save in progress.
type persistence struct {
	srv *Server

	mu      sync.Mutex // one save at a time
	running atomic.Bool
	stopCh  chan struct{}
	wg      sync.WaitGroup

	lastSave       atomic.Int64 // unix seconds of the last successful save (or of start)
	lastStatusOK   atomic.Bool
	lastDuration   atomic.Int64 // nanoseconds the last save took
	lastTry        atomic.Int64 // unix seconds of the last attempt, for the retry delay
	saves          atomic.Uint64
	changesAtStart atomic.Int64
	loading        atomic.Bool
	loadedKeys     atomic.Int64
}

// errSaveInProgress is Redis's answer to SAVE or BGSAVE while a background
// save runs.
var errSaveInProgress = errors.New("ERR Background save already in progress")

// retryDelay is how long the save rules wait after a failed save before
// trying again, as Redis's CONFIG_BGSAVE_RETRY_DELAY.
const retryDelay = 5 * time.Second

func (p *persistence) start(s *Server) {
	p.srv = s
	p.lastSave.Store(time.Now().Unix())
	p.lastStatusOK.Store(true)
	p.stopCh = make(chan struct{})
	p.wg.Add(1)
	go p.loop()
}

func (p *persistence) stop() {
	if p.stopCh == nil {
		return
	}
	select {
	case <-p.stopCh:
	default:
		close(p.stopCh)
	}
	p.wg.Wait()
}

// enabled reports whether snapshots have somewhere to go: dir is set.
func (p *persistence) enabled() bool {
	return p.srv.set.dir.Load() != nil && *p.srv.set.dir.Load() != ""
}

// path is the snapshot file: dir/dbfilename.
func (p *persistence) path() string {
	return filepath.Join(*p.srv.set.dir.Load(), *p.srv.set.dbfilename.Load())
}

// loop applies the save rules once a second, as Redis's serverCron does:
// a rule "S N" saves when at least N changes happened and S seconds passed
// since the last save.
func (p *persistence) loop() {
	defer p.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stopCh:
			return
		case <-t.C:
		}
		if !p.enabled() || p.running.Load() {
			continue
		}
		now := time.Now().Unix()
		if !p.lastStatusOK.Load() && now-p.lastTry.Load() < int64(retryDelay/time.Second) {
			continue
		}
		changes := p.srv.dirty.Load()
		for _, r := range p.srv.saveRules() {
			if changes >= int64(r.Changes) && now-p.lastSave.Load() >= int64(r.Seconds) {
				p.srv.log.Info("saving by rule", "seconds", r.Seconds, "changes", r.Changes, "changed", changes)
				p.srv.bgsave()
				break
			}
		}
	}
}

// saveNow saves a snapshot on the calling goroutine: SAVE and shutdown.
func (s *Server) saveNow() error {
	p := &s.persist
	if !p.running.CompareAndSwap(false, true) {
		return errSaveInProgress
	}
	defer p.running.Store(false)
	return s.save()
}

// bgsave starts a save on its own goroutine: BGSAVE and the save rules.
func (s *Server) bgsave() error {
	p := &s.persist
	if !p.running.CompareAndSwap(false, true) {
		return errSaveInProgress
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.running.Store(false)
		if err := s.save(); err != nil {
			s.log.Error("background save failed", "err", err)
		}
	}()
	return nil
}

// save writes the snapshot to dir/dbfilename (the engine writes a temp
// file, fsyncs and renames it, so a crash leaves the old file or the new
// one) and resets the change counter by the changes it covers.
func (s *Server) save() error {
	p := &s.persist
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.enabled() {
		return errors.New("ERR no dir configured for snapshots")
	}
	before := s.dirty.Load()
	start := time.Now()
	p.lastTry.Store(start.Unix())
	err := s.cache.SaveFile(p.path())
	p.lastDuration.Store(int64(time.Since(start)))
	if err != nil {
		p.lastStatusOK.Store(false)
		return err
	}
	s.dirty.Add(-before)
	p.lastSave.Store(time.Now().Unix())
	p.lastStatusOK.Store(true)
	p.saves.Add(1)
	s.log.Info("snapshot saved", "path", p.path(), "keys", s.cache.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// loadSnapshot loads dir/dbfilename if it exists.
func (s *Server) loadSnapshot() error {
	p := &s.persist
	if !p.enabled() {
		return nil
	}
	path := p.path()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		s.log.Info("no snapshot to load; starting empty", "path", path)
		return nil
	}
	p.loading.Store(true)
	defer p.loading.Store(false)
	start := time.Now()
	if err := s.cache.LoadFile(path); err != nil {
		return err
	}
	s.log.Info("snapshot loaded", "path", path, "keys", s.cache.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}
