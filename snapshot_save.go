package shardcache

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
)

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
