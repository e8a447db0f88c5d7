package shardcache

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/shardcache/shardcache/internal/frame"
)

// LoadFrom reads a snapshot written by SaveTo or SaveFile from r and stores
// its entries in the cache, in addition to what it holds. The snapshot must
// come from a cache of the same key and value types and codecs (as the
// snapshot's header records them): any other is refused with an error
// wrapping ErrSnapshotType before an entry is stored. A snapshot of format
// version 1, which records no types, is loaded unchecked. Each entry goes
// through the same path as Set: a loaded key replaces a live one (OnRemove
// sees ReasonReplaced), MaxEntries and MaxCost are respected by evicting
// the entries the cache's policy chooses, and the entry keeps the deadline it was
// saved with, so its remaining time to live is what it was at the save
// minus the time since (to within a few milliseconds). Entries whose
// deadline has passed are skipped.
//
// LoadFrom streams: it holds one block (256 KiB) and its decoded entries at
// a time, and reads exactly the snapshot's bytes from r, nothing after the
// trailer. It stores a block's entries only after that block's checksum
// verified and all of its records decoded, so a stream that fails midway
// leaves the entries of the blocks before the bad one stored, none of the
// bad block's, and returns an error wrapping ErrCorruptSnapshot (for damaged
// or truncated input) or the reader's error. Use LoadFile to apply nothing
// unless the whole snapshot verifies. After Close, LoadFrom returns
// ErrClosed.
func (c *Cache[K, V]) LoadFrom(r io.Reader) error {
	if c.closed.Load() {
		return ErrClosed
	}
	_, err := c.load(r, true, 0)
	return err
}

// LoadFile loads the snapshot in the file at path, as LoadFrom, but only if
// the whole file is intact: it reads the file twice, first verifying every
// checksum, length and encoded key and value without changing the cache,
// then storing the entries. A damaged file therefore leaves the cache
// exactly as it was and returns an error wrapping ErrCorruptSnapshot, and
// a snapshot of other types (as LoadFrom) one wrapping ErrSnapshotType. (An
// I/O error during the second read, after the file verified, can still stop
// the load partway.) After Close, LoadFile returns ErrClosed.
func (c *Cache[K, V]) LoadFile(path string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("shardcache: load snapshot: %w", err)
	}
	defer f.Close()
	return c.loadVerified(f)
}

// loadVerified is LoadFile on any seekable input.
func (c *Cache[K, V]) loadVerified(r io.ReadSeeker) error {
	n, err := c.load(r, false, 0)
	if err != nil {
		return err
	}
	// A file holds one snapshot and nothing else.
	var extra [1]byte
	switch k, err := io.ReadFull(r, extra[:]); {
	case k != 0:
		return corrupt("data after the trailer")
	case err != io.EOF:
		return fmt.Errorf("shardcache: read snapshot: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("shardcache: load snapshot: %w", err)
	}
	_, err = c.load(r, true, n)
	return err
}

// loaded is one decoded record waiting to be stored.
type loaded[K comparable, V any] struct {
	key      K
	value    V
	deadline int64 // wall clock, Unix ns; 0: none
}

// load reads one snapshot from r. With apply false it only verifies: every
// frame, checksum and record, keys and values included, and stores nothing.
// With apply true it stores each block's entries once the block verified;
// verified is the entry count a previous verifying pass established (0 if
// none), which sizes the shard indexes. It returns the snapshot's entry count.
func (c *Cache[K, V]) load(r io.Reader, apply bool, verified uint64) (uint64, error) {
	fr := frame.NewReader(r)
	h, err := fr.ReadHeader(snapFormat)
	if err != nil {
		return 0, readErr(err)
	}
	if err := checkIdent(h, c.snap.ident); err != nil {
		return 0, err
	}
	if apply {
		c.presize(verified, h.Count)
	}
	var batch []loaded[K, V]
	for {
		payload, count, err := fr.Next()
		if err == io.EOF {
			return fr.Records(), nil
		}
		if err != nil {
			return 0, readErr(err)
		}
		batch, err = c.decodeBlock(payload, count, !apply, batch[:0])
		if err != nil {
			n, at := fr.Block()
			return 0, corrupt("block %d (at byte %d): %w", n, at, err)
		}
		if apply {
			c.store(batch)
		}
		clear(batch) // drop references to stored keys and values
	}
}

// readErr turns an error of the frame reader into the loader's: damage
// wraps ErrCorruptSnapshot, anything else is the io.Reader's own.
func readErr(err error) error {
	if errors.Is(err, frame.ErrCorrupt) {
		return corrupt("%w", err)
	}
	return fmt.Errorf("shardcache: read snapshot: %w", err)
}

// decodeBlock decodes the count records of a verified block payload into
// dst. With checkOnly it validates every record and decodes nothing it can
// avoid, returning dst unchanged.
func (c *Cache[K, V]) decodeBlock(p []byte, count int, checkOnly bool, dst []loaded[K, V]) ([]loaded[K, V], error) {
	now := c.snap.wallNow().UnixNano()
	for i := range count {
		wd, kb, vb, rest, err := frame.SplitRecord(p)
		if err != nil {
			return dst, fmt.Errorf("record %d: %w", i, err)
		}
		p = rest
		if checkOnly || (wd != 0 && wd <= now) {
			// Expired records are not stored, but they are part of the
			// snapshot, so they must decode like every other.
			if err := checkDecode(c.snap.keys, kb); err != nil {
				return dst, fmt.Errorf("record %d: key: %w", i, err)
			}
			if err := checkDecode(c.snap.values, vb); err != nil {
				return dst, fmt.Errorf("record %d: value: %w", i, err)
			}
			continue
		}
		k, err := c.snap.keys.Decode(kb)
		if err != nil {
			return dst, fmt.Errorf("record %d: key: %w", i, err)
		}
		v, err := c.snap.values.Decode(vb)
		if err != nil {
			return dst, fmt.Errorf("record %d: value: %w", i, err)
		}
		dst = append(dst, loaded[K, V]{k, v, wd})
	}
	if len(p) != 0 {
		return dst, fmt.Errorf("%d bytes after the last record", len(p))
	}
	return dst, nil
}

// store sets every entry of batch with its deadline, skipping those whose
// deadline passed.
func (c *Cache[K, V]) store(batch []loaded[K, V]) {
	// A deadline is placed by its wall-clock instant, through the same
	// offset between the cache clock and the wall clock that a save uses
	// (wallOffset: the epoch's wall reading), so Entry.Deadline reads back
	// the deadline that was saved, with no error from the coarse clock's
	// lag or from the time the batch takes.
	_, wall := c.wallOffset()
	for i := range batch {
		var d int64
		if wd := batch[i].deadline; wd != 0 {
			d = wd - wall
			if d <= c.clock.refresh() {
				continue
			}
		}
		c.setAt(batch[i].key, batch[i].value, d)
	}
}

// presize gives empty shard indexes room for their share of the entries
// about to be loaded, so that loading millions of entries does not grow
// each index a dozen times. verified is an entry count the file's checksums vouched
// for; hint is the header's unverified count, which is trusted only up to a
// modest size so that a forged header cannot make the cache allocate much.
func (c *Cache[K, V]) presize(verified, hint uint64) {
	const maxHint = 1 << 20
	total := verified
	if total == 0 {
		total = min(hint, maxHint)
	}
	per := total / uint64(len(c.shards))
	per += per / 8 // keys do not spread perfectly evenly
	if per < 1024 {
		return
	}
	for i := range c.shards {
		c.shards[i].reserve(int(per))
	}
}
