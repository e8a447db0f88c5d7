package shardcache

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/shardcache/shardcache/internal/atomicfile"
	"github.com/shardcache/shardcache/internal/frame"
)

// SaveTo writes a snapshot of the cache's live entries to w. Entries keep
// their absolute deadline (as wall-clock time), so LoadFrom in another
// process restores each one with the time it had left.
//
// SaveTo does not stop the cache: it visits the shards one at a time and
// holds each one's read lock only while it copies that shard's live entries
// (no encoding or I/O happens under a lock). The snapshot is therefore
// consistent per shard, not across shards: a write made during the save is
// included or not depending on whether its shard was visited yet.
//
// A cache of 65,536 entries or more is copied and encoded by
// min(GOMAXPROCS, 4) goroutines, which split each shard between them, while
// the calling goroutine writes their blocks to w in order; a smaller one by
// the calling goroutine alone. Memory beyond the cache is one shard's worth
// of entry references (48 bytes each for string keys and []byte values)
// plus at most four 256 KiB blocks per goroutine.
//
// A key or value whose encoding exceeds the format's limits (1 MiB for a
// key, 256 MiB for a value) or that its codec fails to encode aborts the
// save with an error. Keys compared by identity (pointers, channels,
// unsafe.Pointer, and arrays and structs holding one) cannot be restored by
// a load, so SaveTo refuses them with an error wrapping ErrUnsupportedKey
// before writing anything; the key type decides this once, except that an
// interface key type has each key's dynamic value checked, in a pass over
// the keys before the save and again as each is encoded.
//
// Errors from w are returned wrapped, and a Write that reports fewer bytes
// than it was given without an error fails the save with an error wrapping
// io.ErrShortWrite. After Close, SaveTo returns ErrClosed.
func (c *Cache[K, V]) SaveTo(w io.Writer) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if err := c.checkKeys(); err != nil {
		return err
	}
	return c.save(w)
}

// SaveFile saves a snapshot (as SaveTo) to the file at path, atomically: it
// writes a temporary file in the same directory, syncs it to disk, renames
// it over path and syncs the directory. If the save fails or the process
// dies midway, the file at path is untouched; on failure the temporary file
// is removed (a crash can leave one, named ".<name>.tmp*", which is safe to
// delete). The file gets mode 0600. Concurrent SaveFile calls on one cache
// run one at a time.
//
// A path that cannot be replaced this way fails at once, before anything is
// encoded: the empty path, an existing directory, and a path whose
// directory does not exist (an error wrapping fs.ErrNotExist). So do keys
// SaveTo refuses (ErrUnsupportedKey), before any file is created. After
// Close, SaveFile returns ErrClosed.
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
func (c *Cache[K, V]) saveFile(path string, wrap func(io.Writer) io.Writer) error {
	if err := checkSavePath(path); err != nil {
		return err
	}
	if err := c.checkKeys(); err != nil {
		return err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("shardcache: save snapshot: %w", err)
	}
	defer f.Cleanup() // removes the temporary file unless Commit renamed it
	var w io.Writer = f
	if wrap != nil {
		w = wrap(f)
	}
	if err := c.save(w); err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("shardcache: save snapshot: %w", err)
	}
	return nil
}

// checkSavePath refuses, before anything is encoded, a path that no save
// could replace: the empty path (whose temporary file would go to the
// system's temporary directory, and whose rename fails only after the whole
// snapshot was written) and an existing directory.
func checkSavePath(path string) error {
	if path == "" {
		return errors.New("shardcache: SaveFile: empty path")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("shardcache: SaveFile: %s is a directory", path)
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
	n := c.Len()
	return c.saveWith(w, n, c.saveWorkers(n))
}

// saveWith writes the snapshot with the given number of encoding
// goroutines; count is the header's expected entry count.
func (c *Cache[K, V]) saveWith(w io.Writer, count, workers int) error {
	h := frame.Header{Version: c.snap.version, Count: uint64(count), Created: c.snap.wallNow().UnixNano()}
	if snapFormat.HasMeta(h.Version) {
		h.Meta = c.snap.ident.appendMeta(nil)
		if len(h.Meta) > frame.MaxMetaLen {
			return fmt.Errorf("shardcache: save snapshot: the names of the key and value types and codecs take %d bytes, more than the limit %d",
				len(h.Meta), frame.MaxMetaLen)
		}
	}
	fw := frame.NewWriter(w)
	if err := fw.WriteHeader(snapFormat, h); err != nil {
		return writeErr(err)
	}
	if workers <= 1 {
		// One encoder; its blocks go straight to w, and one block can
		// hold the end of a shard and the start of the next.
		enc := c.newShardEncoder(func(b []byte, n uint32) ([]byte, error) {
			if err := fw.WriteBlock(b, n); err != nil {
				return nil, writeErr(err)
			}
			return b, nil
		})
		for i := range c.shards {
			now, wall := c.wallOffset()
			c.shards[i].readSlots(func(slots []slot[K, V], entries int) {
				enc.copy(slots, now, entries)
			})
			if err := enc.encode(wall); err != nil {
				return err
			}
		}
		if err := enc.flush(); err != nil {
			return err
		}
	} else if err := c.saveParallel(fw, workers); err != nil {
		return err
	}
	if err := fw.WriteTrailer(); err != nil {
		return writeErr(err)
	}
	return nil
}

// writeErr wraps an error of the io.Writer a snapshot is saved to.
func writeErr(err error) error {
	return fmt.Errorf("shardcache: write snapshot: %w", err)
}

// shardEncoder turns shards into finished blocks (frame, records, CRC) and
// hands each to emit, which returns a buffer to build the next one in (nil:
// allocate one). Each encoding goroutine has its own.
type shardEncoder[K comparable, V any] struct {
	c      *Cache[K, V]
	emit   func(block []byte, n uint32) ([]byte, error)
	buf    []byte // the open block: frame header space, then records
	n      uint32 // records in buf
	refs   []snapRef[K, V]
	heads  []*entry[K, V]
	kt     prefetcher[K] // nil unless the key codec can prefetch its data
	vt     prefetcher[V]
	ignore byte // prefetch's meaningless result, kept so the loads stay
}

func (c *Cache[K, V]) newShardEncoder(emit func([]byte, uint32) ([]byte, error)) *shardEncoder[K, V] {
	enc := &shardEncoder[K, V]{c: c, emit: emit, buf: frame.NewBlock(nil)}
	enc.kt, _ = c.snap.keys.(prefetcher[K])
	enc.vt, _ = c.snap.values.(prefetcher[V])
	return enc
}

// copy replaces the encoder's references with the entries of slots that
// are live at clock time now; hint is how many to expect. It runs inside
// shard.readSlots, under the read lock of the shard that owns slots.
//
// The copy is bound by memory latency (every entry is a cache miss), so it
// runs in two passes: the first walks the slots and gathers entry pointers
// without dereferencing them (the slots are contiguous), the second reads
// the entries in a tight loop whose loads are independent, so the
// processor overlaps many misses instead of waiting for each in turn. The
// policy's order is not exposed by the Policy interface, so entries come
// in index order.
func (enc *shardEncoder[K, V]) copy(slots []slot[K, V], now int64, hint int) {
	heads := enc.heads[:0]
	for _, sl := range slots {
		if sl.e != nil {
			heads = append(heads, sl.e)
		}
	}
	refs := growTo(enc.refs[:0], hint)
	for _, e := range heads {
		if d := e.deadline; d == 0 || d > now {
			refs = append(refs, snapRef[K, V]{e.key, e.value, d})
		}
	}
	clear(heads)
	enc.refs, enc.heads = refs, heads
}

// encode appends the copied entries to the open block, emitting every block
// that is full (frame.BlockFull), then drops its references to them. wall turns
// clock deadlines into wall-clock ones.
func (enc *shardEncoder[K, V]) encode(wall int64) error {
	defer clear(enc.refs) // drop the references before the next copy
	for j := 0; j < len(enc.refs); j += prefetchAhead {
		chunk := enc.refs[j:min(j+prefetchAhead, len(enc.refs))]
		enc.ignore ^= prefetch(chunk, enc.kt, enc.vt)
		for k := range chunk {
			var err error
			if enc.buf, err = enc.c.appendRecord(enc.buf, &chunk[k], wall); err != nil {
				return err
			}
			enc.n++
		}
		if frame.BlockFull(enc.buf) {
			if err := enc.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush closes the open block, if it holds any record, and emits it.
func (enc *shardEncoder[K, V]) flush() error {
	if enc.n == 0 {
		return nil
	}
	next, err := enc.emit(frame.CloseBlock(enc.buf, enc.n), enc.n)
	if err != nil {
		return err
	}
	enc.buf, enc.n = frame.NewBlock(next), 0
	return nil
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
	t := c.snap.wallNow()
	if c.clock.manual {
		now = c.clock.Now()
	} else {
		now = int64(t.Sub(c.clock.epoch))
	}
	return now, t.UnixNano() - now
}

// prefetchAhead is how many entries save prefetches before encoding them: enough
// misses in flight to keep the memory system busy, few enough that the
// chunk is still in L1 when it is encoded. On the benchmark host chunks of
// 32 were as fast as 16 or 64, and faster than prefetching single entries a
// fixed distance ahead (which doubled the save's time).
const prefetchAhead = 32

// prefetch reads the first and last byte of the key and value data of each
// entry in refs, through kt and vt where the codecs know how (string and
// byte-slice kinds; nil otherwise). Copying a key or value is a cache miss
// on data scattered over the heap; loading it first, in a loop of
// independent reads, lets the processor fetch a whole chunk's worth at
// once, so the encoding that follows finds it in cache. It changes nothing
// and its result is meaningless.
func prefetch[K comparable, V any](refs []snapRef[K, V], kt prefetcher[K], vt prefetcher[V]) byte {
	var x byte
	if kt != nil {
		for i := range refs {
			x ^= kt.prefetch(refs[i].key)
		}
	}
	if vt != nil {
		for i := range refs {
			x ^= vt.prefetch(refs[i].value)
		}
	}
	return x
}

// appendRecord appends the encoding of one entry to buf. On error buf is
// returned as it was.
func (c *Cache[K, V]) appendRecord(buf []byte, r *snapRef[K, V], wall int64) ([]byte, error) {
	var wd int64
	if r.deadline != 0 {
		// Saturate rather than wrap for deadlines near the end of time, and
		// keep a real deadline from ever reading as "none" (0).
		wd = max(addSat(wall, r.deadline), 1)
	}
	if err := c.snap.keyRule.check(r.key); err != nil {
		return buf, err // a key set since checkKeys looked
	}
	start := len(buf)
	buf = frame.AppendDeadline(buf, wd)
	var err error
	if buf, err = appendField(buf, c.snap.keys, r.key, frame.MaxKeyLen, "key"); err != nil {
		return buf[:start], err
	}
	if buf, err = appendField(buf, c.snap.values, r.value, frame.MaxValueLen, "value"); err != nil {
		return buf[:start], err
	}
	return buf, nil
}

// appendField appends v's encoding as a length-prefixed field: the codec
// appends straight into the block (frame.OpenField, frame.CloseField), so
// there is no intermediate buffer, and no copy for an encoding shorter than
// 128 bytes.
func appendField[T any](buf []byte, codec Codec[T], v T, limit int, what string) ([]byte, error) {
	at := len(buf)
	out, err := codec.Append(frame.OpenField(buf), v)
	if err != nil {
		return buf, fmt.Errorf("shardcache: save snapshot: encode %s: %w", what, err)
	}
	switch n := frame.FieldLen(out, at); {
	case n < 0:
		return buf, fmt.Errorf("shardcache: save snapshot: %s codec dropped the bytes it was given", what)
	case n > limit:
		return buf, fmt.Errorf("shardcache: save snapshot: encoded %s is %d bytes, more than the limit %d", what, n, limit)
	}
	return frame.CloseField(out, at), nil
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
