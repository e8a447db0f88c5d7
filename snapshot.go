package shardcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Snapshots save a cache's live entries to a byte stream and load them back,
// so that a restarted service comes back warm. docs/snapshot-format.md
// specifies the format; in short:
//
//	header   magic, version, flags, expected entry count, creation time, CRC-32C
//	block*   'B', record count, payload length, records, CRC-32C of the block
//	trailer  'E', total record count, CRC-32C of every byte before it
//
// and a record is a wall-clock deadline (Unix nanoseconds, 0 for none) and a
// length-prefixed key and value, each encoded by the cache's Codec.
//
// Saving never stops the world: shards are visited one at a time, and under
// each shard's read lock the save only copies the live entries' keys, values
// and deadlines into a reusable slice. Encoding, checksumming and writing
// happen with no lock held, so a save holds at most one shard's entries
// plus one block in memory, and readers are never blocked.
//
// Loading is the reverse, with every length checked against the limits
// below before anything is allocated for it and every block's checksum
// verified before any of its records is decoded. Records go through the
// same path as Set, so budgets, eviction, OnRemove and the timing wheel see
// nothing unusual. A snapshot does not record the eviction policy's order:
// entries are saved in no particular order, so loading into a cache smaller
// than the snapshot keeps an arbitrary subset of them.

// ErrCorruptSnapshot is wrapped by every error LoadFrom and LoadFile return
// for input that is not an intact snapshot this version can read: wrong
// magic or version, truncation, a checksum mismatch, a length beyond the
// limits, or bytes a codec refuses. Match it with errors.Is; the message
// says what was wrong and where.
var ErrCorruptSnapshot = errors.New("shardcache: corrupt snapshot")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptSnapshot}, args...)...)
}

// The format's constants. Changing any of them changes the format: bump
// snapVersion and docs/snapshot-format.md together.
const (
	snapMagic   = "\x89SCSNAP\n" // 8 bytes; the high bit and newline catch text-mode mangling
	snapVersion = 1

	headerLen  = 36 // magic 8, version 4, flags 4, count 8, created 8, crc 4
	frameLen   = 9  // tag 1, record count 4, payload length 4
	trailerLen = 13 // tag 1, total records 8, file crc 4
	blockTag   = 'B'
	endTag     = 'E'

	// blockTarget is the payload size at which the writer closes a block.
	// A block is the unit of verification for LoadFrom and of buffering for
	// both directions.
	blockTarget = 256 << 10

	// Limits a loader enforces before trusting a length. maxBlockLen covers
	// a full block plus one record of the largest size.
	maxKeyLen    = 1 << 20   // 1 MiB per encoded key
	maxValueLen  = 256 << 20 // 256 MiB per encoded value
	maxBlockLen  = 512 << 20
	minRecordLen = 8 + 1 + 1 // deadline and two empty fields
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// snapshotter is the Cache's snapshot state, set once in New.
type snapshotter[K comparable, V any] struct {
	keys   Codec[K]
	values Codec[V]

	path    string        // Config.SnapshotPath
	every   time.Duration // Config.SnapshotEvery
	onError func(error)   // Config.OnSnapshotError

	// mu serialises file saves, so that a periodic save still running when
	// Close starts cannot rename its file over the final snapshot.
	mu sync.Mutex
	wg sync.WaitGroup // the periodic snapshot goroutine
	// inCallback is set while that goroutine runs OnSnapshotError, so that
	// a Close called from the callback does not wait for itself.
	inCallback atomic.Bool
}

func (s *snapshotter[K, V]) init(cfg *Config[K, V]) {
	s.keys = pickCodec(cfg.KeyCodec)
	s.values = pickCodec(cfg.ValueCodec)
	s.path = cfg.SnapshotPath
	s.every = cfg.SnapshotEvery
	s.onError = cfg.OnSnapshotError
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

// ---------------------------------------------------------------- saving

// SaveTo writes a snapshot of the cache's live entries to w. Entries keep
// their absolute deadline (as wall-clock time), so LoadFrom in another
// process restores each one with the time it had left.
//
// SaveTo does not stop the cache: it visits the shards one at a time and
// holds each one's read lock only while it copies that shard's live entries
// (no encoding or I/O happens under a lock). The snapshot is therefore
// consistent per shard, not across shards: a write made during the save is
// included or not depending on whether its shard was visited yet. Memory
// beyond the cache is about one shard's worth of entry references plus one
// 256 KiB block.
//
// A key or value whose encoding exceeds the format's limits (1 MiB for a
// key, 256 MiB for a value) or that its codec fails to encode aborts the
// save with an error. Errors from w are returned wrapped. After Close,
// SaveTo returns ErrClosed.
func (c *Cache[K, V]) SaveTo(w io.Writer) error {
	if c.closed.Load() {
		return ErrClosed
	}
	return c.save(w)
}

// SaveFile saves a snapshot (as SaveTo) to the file at path, atomically: it
// writes a temporary file in the same directory, syncs it to disk, renames
// it over path and syncs the directory. If the save fails or the process
// dies midway, the file at path is untouched; on failure the temporary file
// is removed (a crash can leave one, named ".<name>.tmp*", which is safe to
// delete). The file gets mode 0600. Concurrent SaveFile calls on one cache
// run one at a time. After Close, SaveFile returns ErrClosed.
func (c *Cache[K, V]) SaveFile(path string) error {
	c.snap.mu.Lock()
	defer c.snap.mu.Unlock()
	if c.closed.Load() {
		return ErrClosed
	}
	return c.saveFile(path, nil)
}

// saveFile is SaveFile without the checks. Callers hold c.snap.mu. wrap, if
// not nil, wraps the temporary file's writer: tests use it to fail the save
// at a chosen byte.
func (c *Cache[K, V]) saveFile(path string, wrap func(io.Writer) io.Writer) (err error) {
	dir, name := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("shardcache: save snapshot: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close() // may already be closed; the error is the one to report
			_ = os.Remove(tmp)
		}
	}()
	var w io.Writer = f
	if wrap != nil {
		w = wrap(f)
	}
	if err = c.save(w); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("shardcache: save snapshot: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("shardcache: save snapshot: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("shardcache: save snapshot: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory
// (and does not need to), so there it does nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("shardcache: save snapshot: sync directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shardcache: save snapshot: sync directory: %w", err)
	}
	return nil
}

// snapRef is one live entry copied out of a shard for saving.
type snapRef[K comparable, V any] struct {
	key      K
	value    V
	deadline int64 // on the cache clock; 0: none
}

func (c *Cache[K, V]) save(w io.Writer) error {
	sw := snapWriter{w: w, buf: make([]byte, frameLen, blockTarget+blockTarget/8)}
	if err := sw.header(uint64(c.Len()), time.Now().UnixNano()); err != nil {
		return err
	}
	var (
		refs   []snapRef[K, V]
		heads  []*entry[K, V]
		kt, _  = c.snap.keys.(toucher[K])
		vt, _  = c.snap.values.(toucher[V])
		ignore byte
	)
	for i := range c.shards {
		now, wall := c.wallOffset()
		refs, heads = c.copyShard(&c.shards[i], now, refs[:0], heads)
		for j := 0; j < len(refs); j += touchAhead {
			chunk := refs[j:min(j+touchAhead, len(refs))]
			ignore ^= touch(chunk, kt, vt)
			for k := range chunk {
				if err := c.appendRecord(&sw, &chunk[k], wall); err != nil {
					return err
				}
			}
			if len(sw.buf) >= blockTarget {
				if err := sw.flush(); err != nil {
					return err
				}
			}
		}
		clear(refs) // drop the references before the next shard
	}
	_ = ignore
	if err := sw.flush(); err != nil {
		return err
	}
	return sw.trailer()
}

// copyShard appends s's entries that are live at clock time now to refs
// and returns refs. It holds only the read lock, and only for the copy: Gets
// run meanwhile, and a write waits for at most one shard's copy.
//
// The copy is bound by memory latency (every entry is a cache miss), so it
// runs in two passes: the first walks the index and gathers entry pointers
// without dereferencing them (the table's slots are contiguous), the second
// reads the entries in a tight loop whose loads are independent, so the
// processor overlaps many misses instead of waiting for each in turn.
// heads is scratch space for the pointers. The policy's order is not
// exposed by the Policy interface, so entries come in index order.
func (c *Cache[K, V]) copyShard(s *shard[K, V], now int64, refs []snapRef[K, V], heads []*entry[K, V]) ([]snapRef[K, V], []*entry[K, V]) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	heads = growTo(heads[:0], s.m.used)
	for _, sl := range s.m.slots {
		if sl.e != nil {
			heads = append(heads, sl.e)
		}
	}
	refs = growTo(refs, s.len)
	for _, e := range heads {
		for ; e != nil; e = e.hnext { // a chain longer than one is a 64-bit hash collision: rare
			if !e.expired(now) {
				refs = append(refs, snapRef[K, V]{e.key, e.value, e.deadline})
			}
		}
	}
	clear(heads)
	return refs, heads
}

// growTo returns s with room for n elements in all.
func growTo[T any](s []T, n int) []T {
	return slices.Grow(s, n-len(s))
}

// wallOffset returns the cache clock's time now and the wall-clock time, in
// Unix nanoseconds, of the clock's zero: a deadline d on the cache clock is
// the instant wall+d. It is computed from one reading of time.Now, so the
// remaining lifetime d-now is preserved exactly even if the wall clock was
// stepped since the cache was created. A manual test clock has no epoch, so
// its current reading stands for the present.
func (c *Cache[K, V]) wallOffset() (now, wall int64) {
	t := time.Now()
	if c.clock.manual {
		now = c.clock.Now()
	} else {
		now = int64(t.Sub(c.clock.epoch))
	}
	return now, t.UnixNano() - now
}

// touchAhead is how many entries save touches before encoding them: enough
// misses in flight to keep the memory system busy, few enough that the
// chunk is still in L1 when it is encoded. On the benchmark host chunks of
// 32 were as fast as 16 or 64, and faster than touching single entries a
// fixed distance ahead (which doubled the save's time).
const touchAhead = 32

// touch reads the first and last byte of the key and value data of each
// entry in refs, through kt and vt where the codecs know how (string and
// byte-slice kinds; nil otherwise). Copying a key or value is a cache miss
// on data scattered over the heap; loading it first, in a loop of
// independent reads, lets the processor fetch a whole chunk's worth at
// once, so the encoding that follows finds it in cache. It changes nothing
// and its result is meaningless.
func touch[K comparable, V any](refs []snapRef[K, V], kt toucher[K], vt toucher[V]) byte {
	var x byte
	if kt != nil {
		for i := range refs {
			x ^= kt.touch(refs[i].key)
		}
	}
	if vt != nil {
		for i := range refs {
			x ^= vt.touch(refs[i].value)
		}
	}
	return x
}

// appendRecord encodes one entry into the current block.
func (c *Cache[K, V]) appendRecord(sw *snapWriter, r *snapRef[K, V], wall int64) error {
	var wd int64
	if r.deadline != 0 {
		// Saturate rather than wrap for deadlines near the end of time, and
		// keep a real deadline from ever reading as "none" (0).
		wd = max(addSat(wall, r.deadline), 1)
	}
	start := len(sw.buf)
	sw.buf = binary.LittleEndian.AppendUint64(sw.buf, uint64(wd))
	var err error
	if sw.buf, err = appendField(sw.buf, c.snap.keys, r.key, maxKeyLen, "key"); err != nil {
		sw.buf = sw.buf[:start]
		return err
	}
	if sw.buf, err = appendField(sw.buf, c.snap.values, r.value, maxValueLen, "value"); err != nil {
		sw.buf = sw.buf[:start]
		return err
	}
	sw.n++
	return nil
}

// appendField appends v's encoding preceded by its length as a uvarint.
// It reserves one length byte, lets the codec append in place and, for the
// rare encoding of 128 bytes or more, shifts it to make room for a longer
// length: no intermediate buffer and no copy in the common case.
func appendField[T any](buf []byte, codec Codec[T], v T, limit int, what string) ([]byte, error) {
	at := len(buf)
	out, err := codec.Append(append(buf, 0), v)
	if err != nil {
		return buf, fmt.Errorf("shardcache: save snapshot: encode %s: %w", what, err)
	}
	n := len(out) - at - 1
	if n < 0 {
		return buf, fmt.Errorf("shardcache: save snapshot: %s codec dropped the bytes it was given", what)
	}
	if n > limit {
		return buf, fmt.Errorf("shardcache: save snapshot: encoded %s is %d bytes, more than the limit %d", what, n, limit)
	}
	if n < 0x80 {
		out[at] = byte(n)
		return out, nil
	}
	var l [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(l[:], uint64(n))
	out = append(out, l[:k-1]...)
	copy(out[at+k:], out[at+1:at+1+n])
	copy(out[at:], l[:k])
	return out, nil
}

// addSat returns a+b, saturated to the int64 range.
func addSat(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}

// snapWriter frames blocks and keeps the running file checksum.
type snapWriter struct {
	w     io.Writer
	crc   uint32 // CRC-32C of every byte written so far
	buf   []byte // the open block: frame header space, then records
	n     uint32 // records in buf
	total uint64 // records in flushed blocks
}

func (sw *snapWriter) write(p []byte) error {
	sw.crc = crc32.Update(sw.crc, castagnoli, p)
	if _, err := sw.w.Write(p); err != nil {
		return fmt.Errorf("shardcache: write snapshot: %w", err)
	}
	return nil
}

func (sw *snapWriter) header(count uint64, created int64) error {
	b := make([]byte, 0, headerLen)
	b = append(b, snapMagic...)
	b = binary.LittleEndian.AppendUint32(b, snapVersion)
	b = binary.LittleEndian.AppendUint32(b, 0) // flags: none defined
	b = binary.LittleEndian.AppendUint64(b, count)
	b = binary.LittleEndian.AppendUint64(b, uint64(created))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return sw.write(b)
}

// flush writes the open block, if it holds any record, with one Write.
func (sw *snapWriter) flush() error {
	if sw.n == 0 {
		return nil
	}
	b := sw.buf
	b[0] = blockTag
	binary.LittleEndian.PutUint32(b[1:], sw.n)
	binary.LittleEndian.PutUint32(b[5:], uint32(len(b)-frameLen))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	if err := sw.write(b); err != nil {
		return err
	}
	sw.total += uint64(sw.n)
	sw.n = 0
	sw.buf = b[:frameLen]
	return nil
}

func (sw *snapWriter) trailer() error {
	var b [trailerLen]byte
	b[0] = endTag
	binary.LittleEndian.PutUint64(b[1:], sw.total)
	crc := crc32.Update(sw.crc, castagnoli, b[:9])
	binary.LittleEndian.PutUint32(b[9:], crc)
	return sw.write(b[:])
}

// --------------------------------------------------------------- loading

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
	now := time.Now().UnixNano()
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
	now := time.Now().UnixNano()
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

// ------------------------------------------------------ periodic and final

// startSnapshots starts the periodic snapshot goroutine, if configured.
func (c *Cache[K, V]) startSnapshots() {
	if c.snap.every <= 0 {
		return
	}
	c.snap.wg.Add(1)
	go c.snapshotLoop()
}

// snapshotLoop saves to Config.SnapshotPath every Config.SnapshotEvery
// until Close. It is a goroutine of its own rather than a case in the
// janitor's loop: a save of millions of entries takes a fraction of a
// second, and the janitor must keep refreshing the coarse clock and
// expiring entries meanwhile.
func (c *Cache[K, V]) snapshotLoop() {
	defer c.snap.wg.Done()
	t := time.NewTicker(c.snap.every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		err := c.periodicSnapshot()
		if err != nil && c.snap.onError != nil {
			c.snap.inCallback.Store(true)
			c.snap.onError(err)
			c.snap.inCallback.Store(false)
		}
	}
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
	if !c.snap.inCallback.Load() {
		c.snap.wg.Wait()
	}
	if c.snap.path == "" {
		return nil
	}
	c.snap.mu.Lock()
	defer c.snap.mu.Unlock()
	return c.saveFile(c.snap.path, nil)
}
