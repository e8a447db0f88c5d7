package shardcache

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/shardcache/shardcache/internal/frame"
)

// Snapshots save a cache's live entries to a byte stream and load them back,
// so that a restarted service comes back warm. docs/snapshot-format.md
// specifies the format, and internal/frame reads and writes its framing; in
// short:
//
//	header   magic, version, flags, expected entry count, creation time,
//	         the key and value types and codecs, CRC-32C
//	block*   'B', record count, payload length, records, CRC-32C of the block
//	trailer  'E', total record count, CRC-32C of every byte before it
//
// and a record is a wall-clock deadline (Unix nanoseconds, 0 for none) and a
// length-prefixed key and value, each encoded by the cache's Codec.
//
// Saving never stops the world: shards are visited one at a time, and under
// each shard's read lock the save only copies the live entries' keys, values
// and deadlines into a reusable slice. Encoding, checksumming and writing
// happen with no lock held, so readers are never blocked, and a save holds
// one shard's entries plus a few blocks per encoding goroutine in memory
// (large caches are copied and encoded by up to four at once: see SaveTo).
//
// Loading is the reverse, with every length checked against the limits in
// internal/frame before anything is allocated for it and every block's checksum
// verified before any of its records is decoded. Records go through the
// same path as Set, so budgets, eviction, OnRemove and the timing wheel see
// nothing unusual. A snapshot does not record the eviction policy's order:
// entries are saved in no particular order, so loading into a cache smaller
// than the snapshot keeps an arbitrary subset of them.

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptSnapshot}, args...)...)
}

// snapFormat is what a snapshot's header starts with. Changing it, or the
// bytes internal/frame writes, changes the format: bump the version and
// docs/snapshot-format.md together (TestSnapshotFormatV1 and
// TestSnapshotFormatV2 fail otherwise).
//
// Version 2 added the header's metadata, the cache's type identity
// (snapshot_types.go); version 1 files, which have none, still load.
var snapFormat = frame.Format{
	Magic:     "\x89SCSNAP\n", // the high bit and newline catch text-mode mangling
	Version:   2,
	Oldest:    1,
	MetaSince: 2,
	Name:      "shardcache snapshot",
}

// snapshotter is the Cache's snapshot state, set once in New.
type snapshotter[K comparable, V any] struct {
	keys    Codec[K]
	values  Codec[V]
	keyRule keyRule[K] // whether keys can be saved (snapshot_keys.go)
	ident   snapIdent  // the type identity saves record and loads check

	// version is the format version saves write: snapFormat.Version,
	// except in TestSnapshotFormatV1, which pins version 1's bytes.
	version uint32

	path    string        // Config.SnapshotPath
	every   time.Duration // Config.SnapshotEvery
	onError func(error)   // Config.OnSnapshotError

	// wallNow reads the wall clock that deadlines in a snapshot are
	// expressed on, and the header's creation time: time.Now, except in
	// tests that need a save's bytes to be reproducible.
	wallNow func() time.Time

	// mu serialises file saves, so that a periodic save still running when
	// Close starts cannot rename its file over the final snapshot.
	mu       sync.Mutex
	loopDone chan struct{} // closed when the periodic goroutine returns; nil without one
	// inCallback is set while that goroutine runs OnSnapshotError, so that
	// a Close called from the callback does not wait for itself.
	inCallback atomic.Bool
}

func (s *snapshotter[K, V]) init(cfg *Config[K, V]) {
	keys, values := cfg.KeyCodec, cfg.ValueCodec
	if keys == nil {
		keys = defaultCodec[K]()
	}
	if values == nil {
		values = defaultCodec[V]()
	}
	s.ident = newSnapIdent(keys, values)
	s.version = snapFormat.Version
	s.keys = pickCodec(keys)
	s.values = pickCodec(values)
	s.keyRule = newKeyRule[K]()
	s.path = cfg.SnapshotPath
	s.every = cfg.SnapshotEvery
	s.onError = cfg.OnSnapshotError
	s.wallNow = time.Now
}

// pickCodec returns c, or the built-in codec for T when c is nil. A codec
// that is not one of the built-ins, which are known never to panic, is
// wrapped so that a panic while decoding damaged bytes becomes an error.
func pickCodec[T any](c Codec[T]) Codec[T] {
	if c == nil {
		c = defaultCodec[T]()
	}
	if _, builtin := c.(codecChecker); builtin {
		return c
	}
	return guardedCodec[T]{c}
}

type guardedCodec[T any] struct{ Codec[T] }

func (g guardedCodec[T]) Decode(src []byte) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("shardcache: codec panicked: %v", r)
		}
	}()
	return g.Codec.Decode(src)
}

// ------------------------------------------------------ periodic and final

// startSnapshots starts the periodic snapshot goroutine, if configured,
// holding the Cache only through wp (see janitor).
func (c *Cache[K, V]) startSnapshots(wp weak.Pointer[Cache[K, V]]) {
	if c.snap.every <= 0 {
		return
	}
	c.snap.loopDone = make(chan struct{})
	go snapshotLoop(wp, c.snap.every, c.done, c.snap.loopDone)
}

// snapshotLoop saves to Config.SnapshotPath until done is closed, each save
// starting every (Config.SnapshotEvery) after the previous one ended, or as
// long after as that save took if it took longer: saves occupy at most half
// of the goroutine's time, however small every is. It is a goroutine of
// its own rather than a case in the janitor's loop: a save of millions of
// entries takes a fraction of a second, and the janitor must keep
// refreshing the coarse clock and expiring entries meanwhile. Like the
// janitor, it holds the Cache only through wp while it waits, and returns
// once the Cache is gone; it closes exited when it returns.
func snapshotLoop[K comparable, V any](wp weak.Pointer[Cache[K, V]], every time.Duration, done <-chan struct{}, exited chan<- struct{}) {
	defer close(exited)
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		took, alive := periodicStep(wp)
		if !alive {
			return
		}
		t.Reset(max(every, took))
	}
}

// periodicStep runs one periodic save, and OnSnapshotError if it fails, and
// returns how long the save took. alive is false once the Cache is gone.
//
//go:noinline
func periodicStep[K comparable, V any](wp weak.Pointer[Cache[K, V]]) (took time.Duration, alive bool) {
	c := wp.Value()
	if c == nil {
		return 0, false
	}
	start := time.Now()
	err := c.periodicSnapshot()
	took = time.Since(start)
	if err != nil && c.snap.onError != nil {
		c.snap.inCallback.Store(true)
		c.snap.onError(err)
		c.snap.inCallback.Store(false)
	}
	return took, true
}

func (c *Cache[K, V]) periodicSnapshot() error {
	c.snap.mu.Lock()
	defer c.snap.mu.Unlock()
	if c.closed.Load() {
		return nil // Close writes the final snapshot
	}
	return c.saveFile(c.snap.path, nil)
}

// finalSnapshot runs in Close once c.closed is set and before the entries
// are dropped: it stops the periodic goroutine (unless Close was called
// from its callback) and saves to Config.SnapshotPath, if set.
func (c *Cache[K, V]) finalSnapshot() error {
	if c.snap.loopDone != nil && !c.snap.inCallback.Load() {
		<-c.snap.loopDone
	}
	if c.snap.path == "" {
		return nil
	}
	c.snap.mu.Lock()
	defer c.snap.mu.Unlock()
	return c.saveFile(c.snap.path, nil)
}
