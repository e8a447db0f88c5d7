package shardcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"time"
)

// LoadFrom reads a snapshot written by SaveTo or SaveFile from r and stores
// its entries in the cache, in addition to what it holds. Each entry goes
// through the same path as Set: a loaded key replaces a live one (OnRemove
// sees ReasonReplaced), MaxEntries and MaxCost are respected by evicting
// least recently used entries, and the entry keeps the deadline it was
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
// exactly as it was and returns an error wrapping ErrCorruptSnapshot. (An
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
	sr := snapReader{r: r}
	if err := sr.header(); err != nil {
		return 0, err
	}
	if apply {
		c.presize(verified, sr.hint)
	}
	var batch []loaded[K, V]
	for {
		payload, count, done, err := sr.next()
		if err != nil {
			return 0, err
		}
		if done {
			return sr.total, nil
		}
		batch, err = c.decodeBlock(payload, count, !apply, batch[:0])
		if err != nil {
			return 0, corrupt("block %d (at byte %d): %w", sr.blocks, sr.blockAt, err)
		}
		if apply {
			c.store(batch)
		}
		clear(batch) // drop references to stored keys and values
	}
}

// decodeBlock decodes the count records of a verified block payload into
// dst. With checkOnly it validates every record and decodes nothing it can
// avoid, returning dst unchanged.
func (c *Cache[K, V]) decodeBlock(p []byte, count int, checkOnly bool, dst []loaded[K, V]) ([]loaded[K, V], error) {
	now := c.snap.wallNow().UnixNano()
	for i := range count {
		wd, kb, vb, rest, err := splitRecord(p)
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

// store sets every entry of batch with the time it has left, skipping those
// whose deadline passed. The wall clock is read once per batch.
func (c *Cache[K, V]) store(batch []loaded[K, V]) {
	now := c.snap.wallNow().UnixNano()
	for i := range batch {
		var ttl time.Duration
		if d := batch[i].deadline; d != 0 {
			if d <= now {
				continue
			}
			ttl = time.Duration(d - now)
		}
		c.set(batch[i].key, batch[i].value, ttl)
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
		s := &c.shards[i]
		n := per
		if s.maxEntries > 0 {
			n = min(n, uint64(s.maxEntries))
		}
		s.mu.Lock()
		if s.len == 0 && !s.closed {
			s.m.init(int(n))
		}
		s.mu.Unlock()
	}
}

// splitRecord splits the first record off a block payload.
func splitRecord(p []byte) (wd int64, key, value, rest []byte, err error) {
	if len(p) < 8 {
		return 0, nil, nil, nil, errors.New("truncated deadline")
	}
	wd = int64(binary.LittleEndian.Uint64(p))
	if wd < 0 {
		return 0, nil, nil, nil, fmt.Errorf("negative deadline %d", wd)
	}
	if key, p, err = splitField(p[8:], maxKeyLen, "key"); err != nil {
		return 0, nil, nil, nil, err
	}
	if value, p, err = splitField(p, maxValueLen, "value"); err != nil {
		return 0, nil, nil, nil, err
	}
	return wd, key, value, p, nil
}

// splitField splits a uvarint-length-prefixed field off p, refusing a
// length beyond limit or beyond p.
func splitField(p []byte, limit int, what string) (field, rest []byte, err error) {
	n, k := binary.Uvarint(p)
	switch {
	case k <= 0:
		return nil, nil, fmt.Errorf("bad %s length", what)
	case n > uint64(limit):
		return nil, nil, fmt.Errorf("%s length %d exceeds the limit %d", what, n, limit)
	case n > uint64(len(p)-k):
		return nil, nil, fmt.Errorf("%s length %d runs past the block", what, n)
	}
	return p[k : k+int(n)], p[k+int(n):], nil
}

// snapReader parses frames and keeps the running file checksum. It never
// allocates for a length it has not checked against a limit, and grows its
// buffer only as bytes actually arrive.
type snapReader struct {
	r       io.Reader
	off     int64  // bytes read
	crc     uint32 // CRC-32C of every byte read
	buf     []byte // the last block's payload and checksum; reused
	hint    uint64 // the header's expected entry count
	total   uint64 // records in the blocks read
	blocks  int    // blocks read
	blockAt int64  // offset of the last block
}

// read fills p from the input. Running out of input is corruption
// (truncation); any other error is the reader's and is returned as such.
func (sr *snapReader) read(p []byte) error {
	n, err := io.ReadFull(sr.r, p)
	sr.crc = crc32.Update(sr.crc, castagnoli, p[:n])
	sr.off += int64(n)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return corrupt("truncated at byte %d", sr.off)
	case err != nil:
		return fmt.Errorf("shardcache: read snapshot: %w", err)
	}
	return nil
}

func (sr *snapReader) header() error {
	var b [headerLen]byte
	if err := sr.read(b[:]); err != nil {
		return err
	}
	if string(b[:8]) != snapMagic {
		return corrupt("not a shardcache snapshot (magic %q)", b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != snapVersion {
		return corrupt("format version %d, this build reads version %d", v, snapVersion)
	}
	if crc32.Checksum(b[:headerLen-4], castagnoli) != binary.LittleEndian.Uint32(b[headerLen-4:]) {
		return corrupt("header checksum mismatch")
	}
	if f := binary.LittleEndian.Uint32(b[12:]); f != 0 {
		return corrupt("unknown header flags %#x", f)
	}
	sr.hint = binary.LittleEndian.Uint64(b[16:])
	return nil
}

// next reads the next frame. For a block it returns the verified payload
// (valid until the next call) and its record count; after a verified
// trailer it returns done.
func (sr *snapReader) next() (payload []byte, count int, done bool, err error) {
	at := sr.off
	var f [frameLen]byte
	if err := sr.read(f[:1]); err != nil {
		return nil, 0, false, err
	}
	switch f[0] {
	case blockTag:
		if err := sr.read(f[1:]); err != nil {
			return nil, 0, false, err
		}
		sr.blocks++
		sr.blockAt = at
		n := binary.LittleEndian.Uint32(f[5:])
		count := binary.LittleEndian.Uint32(f[1:])
		switch {
		case n > maxBlockLen:
			return nil, 0, false, corrupt("block %d (at byte %d): length %d exceeds the limit %d", sr.blocks, at, n, maxBlockLen)
		case count == 0 || count > n/minRecordLen:
			return nil, 0, false, corrupt("block %d (at byte %d): %d records cannot fit in %d bytes", sr.blocks, at, count, n)
		}
		b, err := sr.readBlock(int(n) + 4)
		if err != nil {
			return nil, 0, false, err
		}
		crc := crc32.Update(crc32.Checksum(f[:], castagnoli), castagnoli, b[:n])
		if crc != binary.LittleEndian.Uint32(b[n:]) {
			return nil, 0, false, corrupt("block %d (at byte %d): checksum mismatch", sr.blocks, at)
		}
		sr.total += uint64(count)
		return b[:n], int(count), false, nil
	case endTag:
		var t [trailerLen - 1]byte
		if err := sr.read(t[:8]); err != nil {
			return nil, 0, false, err
		}
		want := sr.crc
		if err := sr.read(t[8:]); err != nil {
			return nil, 0, false, err
		}
		if binary.LittleEndian.Uint32(t[8:]) != want {
			return nil, 0, false, corrupt("file checksum mismatch")
		}
		if n := binary.LittleEndian.Uint64(t[:]); n != sr.total {
			return nil, 0, false, corrupt("trailer counts %d entries, the blocks hold %d", n, sr.total)
		}
		return nil, 0, true, nil
	}
	return nil, 0, false, corrupt("unknown frame tag %#02x at byte %d", f[0], at)
}

// readBlock reads n bytes into the reusable buffer. A length read from the
// input is only an upper bound until the bytes arrive, so a buffer too small
// for n grows by doubling as data comes in: a forged length in a short
// input costs at most about twice the bytes actually present.
func (sr *snapReader) readBlock(n int) ([]byte, error) {
	if n <= cap(sr.buf) {
		b := sr.buf[:n]
		return b, sr.read(b)
	}
	b := sr.buf[:0]
	for len(b) < n {
		step := min(n-len(b), max(len(b), 64<<10))
		b = append(b, make([]byte, step)...)
		sr.buf = b
		if err := sr.read(b[len(b)-step:]); err != nil {
			return nil, err
		}
	}
	return b, nil
}
