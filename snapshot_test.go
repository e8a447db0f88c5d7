package shardcache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardcache/shardcache/internal/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of SaveTo/LoadFrom/SaveFile/LoadFile and the periodic and final
// snapshots. Lifetimes are checked on newManual's clock; only the periodic
// snapshot test runs the real background goroutine.

// snapEntry is what a test compares about one entry: its value and the
// time it has left (0 for none).
type snapEntry[V any] struct {
	value V
	ttl   time.Duration
}

// snapState returns every live entry of c with its remaining time to live.
func snapState[K comparable, V any](c *Cache[K, V]) map[K]snapEntry[V] {
	m := map[K]snapEntry[V]{}
	for k, v := range c.All() {
		ttl, ok := c.TTL(k)
		if ok {
			m[k] = snapEntry[V]{v, ttl}
		}
	}
	return m
}

// snapBytes returns c's snapshot.
func snapBytes[K comparable, V any](t testing.TB, c *Cache[K, V]) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, c.SaveTo(&buf))
	return buf.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	src := newManual(t, Config[string, []byte]{})
	want := map[string][]byte{}
	for i := range 5000 {
		k := "key:" + strconv.Itoa(i)
		v := bytes.Repeat([]byte{byte(i)}, i%300) // lengths on both sides of 128: one- and two-byte varints
		want[k] = v
		src.Set(k, v)
	}
	src.Set("", nil)
	want[""] = []byte{}
	snap := snapBytes(t, src)
	require.Greater(t, len(snap), 2*frame.BlockTarget, "the snapshot should span several blocks")

	for _, load := range []struct {
		name string
		fn   func(c *Cache[string, []byte]) error
	}{
		{"LoadFrom", func(c *Cache[string, []byte]) error { return c.LoadFrom(bytes.NewReader(snap)) }},
		{"LoadFile", func(c *Cache[string, []byte]) error { return c.loadVerified(bytes.NewReader(snap)) }},
	} {
		t.Run(load.name, func(t *testing.T) {
			dst := newManual(t, Config[string, []byte]{})
			require.NoError(t, load.fn(dst))
			got := map[string][]byte{}
			for k, v := range dst.All() {
				got[k] = v
				assert.Equal(t, len(v), cap(v), "a loaded value's capacity must not reach into another's bytes")
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestSnapshotBigEntries(t *testing.T) {
	src := newManual(t, Config[string, []byte]{})
	big := bytes.Repeat([]byte("0123456789abcdef"), frame.BlockTarget/16*3) // one record larger than a block
	src.Set(strings.Repeat("k", 5000), big)
	src.Set("small", []byte("v"))
	dst := newManual(t, Config[string, []byte]{})
	require.NoError(t, dst.LoadFrom(bytes.NewReader(snapBytes(t, src))))
	assert.Equal(t, snapState(src), snapState(dst))
}

func TestSnapshotKeyTooLarge(t *testing.T) {
	c := newManual(t, Config[string, int]{})
	c.Set(strings.Repeat("k", frame.MaxKeyLen+1), 1)
	err := c.SaveTo(io.Discard)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrCorruptSnapshot)
	assert.Contains(t, err.Error(), "limit")
}

func TestSnapshotPreservesTTL(t *testing.T) {
	src := newManual(t, Config[string, int]{})
	src.SetWithTTL("short", 1, 10*time.Second)
	src.SetWithTTL("long", 2, 100*time.Hour)
	src.Set("forever", 3)
	src.SetWithTTL("end of time", 4, time.Duration(1<<63-1))
	src.advance(4 * time.Second)
	snap := snapBytes(t, src)

	// The loading cache's clock reads something else entirely: what must
	// survive is the time left, not the clock reading.
	dst := newManual(t, Config[string, int]{})
	dst.advance(17 * time.Minute)
	require.NoError(t, dst.LoadFrom(bytes.NewReader(snap)))

	const slack = 100 * time.Millisecond // the wall clock moves between save and load
	for key, left := range map[string]time.Duration{"short": 6 * time.Second, "long": 100*time.Hour - 4*time.Second} {
		ttl, ok := dst.TTL(key)
		require.True(t, ok, key)
		assert.LessOrEqual(t, ttl, left, key)
		assert.Greater(t, ttl, left-slack, key)
	}
	ttl, ok := dst.TTL("forever")
	assert.True(t, ok)
	assert.Zero(t, ttl, "an entry without a deadline must load without one")
	ttl, ok = dst.TTL("end of time")
	assert.True(t, ok)
	assert.Greater(t, ttl, 200*365*24*time.Hour)

	// And the loaded deadlines are live ones: the wheel expires them.
	dst.advance(6 * time.Second)
	_, ok = dst.Get("short")
	assert.False(t, ok)
	assert.Equal(t, uint64(1), dst.Stats().Expirations)
}

func TestSnapshotRealClockTTL(t *testing.T) {
	src, err := New(Config[string, int]{})
	require.NoError(t, err)
	defer src.Close()
	src.SetWithTTL("k", 1, time.Minute)
	snap := snapBytes(t, src)
	dst, err := New(Config[string, int]{})
	require.NoError(t, err)
	defer dst.Close()
	require.NoError(t, dst.LoadFrom(bytes.NewReader(snap)))
	ttl, ok := dst.TTL("k")
	require.True(t, ok)
	assert.InDelta(t, float64(time.Minute), float64(ttl), float64(100*time.Millisecond))
}

func TestLoadSkipsExpired(t *testing.T) {
	src := newManual(t, Config[string, int]{})
	src.SetWithTTL("gone", 1, time.Millisecond)
	src.SetWithTTL("stays", 2, time.Hour)
	snap := snapBytes(t, src)
	time.Sleep(5 * time.Millisecond) // the wall clock decides what has expired at load

	dst := newManual(t, Config[string, int]{})
	require.NoError(t, dst.LoadFrom(bytes.NewReader(snap)))
	_, ok := dst.Get("gone")
	assert.False(t, ok)
	_, ok = dst.Get("stays")
	assert.True(t, ok)
	assert.Equal(t, 1, dst.Len())
	assert.Equal(t, uint64(1), dst.Stats().Sets)
}

func TestSaveSkipsExpired(t *testing.T) {
	c := newManual(t, Config[string, int]{})
	c.SetWithTTL("gone", 1, time.Second)
	c.Set("stays", 2)
	c.clock.now.Add(int64(time.Second)) // expired, but not yet reclaimed
	dst := newManual(t, Config[string, int]{})
	require.NoError(t, dst.LoadFrom(bytes.NewReader(snapBytes(t, c))))
	assert.Equal(t, map[string]snapEntry[int]{"stays": {2, 0}}, snapState(dst))
}

func TestLoadRespectsBudgets(t *testing.T) {
	src := newManual(t, Config[int, string]{})
	for i := range 1000 {
		src.Set(i, strings.Repeat("x", 10))
	}
	snap := snapBytes(t, src)

	t.Run("MaxEntries", func(t *testing.T) {
		var evicted removeLog[int, string]
		dst := newManual(t, Config[int, string]{MaxEntries: 100, Shards: 4, OnRemove: evicted.record})
		require.NoError(t, dst.LoadFrom(bytes.NewReader(snap)))
		assert.Equal(t, 100, dst.Len())
		st := dst.Stats()
		assert.Equal(t, uint64(1000), st.Sets)
		assert.Equal(t, uint64(900), st.Evictions)
		assert.Len(t, evicted.take(), 900)
	})
	t.Run("MaxCost", func(t *testing.T) {
		dst := newManual(t, Config[int, string]{
			MaxCost: 1000, Shards: 4,
			Cost: func(_ int, v string) int64 { return int64(len(v)) },
		})
		require.NoError(t, dst.LoadFrom(bytes.NewReader(snap)))
		st := dst.Stats()
		assert.Equal(t, int64(1000), st.Cost)
		assert.Equal(t, 100, st.Entries)
	})
}

func TestLoadReplacesLiveKeys(t *testing.T) {
	src := newManual(t, Config[string, string]{})
	src.Set("a", "new")
	src.SetWithTTL("b", "loaded", time.Hour)
	snap := snapBytes(t, src)

	var removed removeLog[string, string]
	dst := newManual(t, Config[string, string]{OnRemove: removed.record})
	dst.Set("a", "old")
	dst.Set("keep", "x")
	require.NoError(t, dst.LoadFrom(bytes.NewReader(snap)))

	got := snapState(dst)
	assert.Equal(t, "new", got["a"].value)
	assert.Equal(t, "x", got["keep"].value, "loading adds to the cache")
	assert.Equal(t, "loaded", got["b"].value)
	assert.Equal(t, []removeEvent[string, string]{{"a", "old", ReasonReplaced}}, removed.take())
}

// snapPoint is a value type with a hand-written codec.
type snapPoint struct{ X, Y int32 }

type snapPointCodec struct{ appends, decodes *int }

func (c snapPointCodec) Append(dst []byte, p snapPoint) ([]byte, error) {
	*c.appends++
	dst = binary.BigEndian.AppendUint32(dst, uint32(p.X))
	return binary.BigEndian.AppendUint32(dst, uint32(p.Y)), nil
}

func (c snapPointCodec) Decode(src []byte) (snapPoint, error) {
	*c.decodes++
	if len(src) != 8 {
		return snapPoint{}, errors.New("snapPoint: want 8 bytes")
	}
	return snapPoint{int32(binary.BigEndian.Uint32(src)), int32(binary.BigEndian.Uint32(src[4:]))}, nil
}

type snapUser string

func TestSnapshotCustomCodecs(t *testing.T) {
	var appends, decodes int
	cfg := Config[snapUser, snapPoint]{
		KeyCodec:   StringCodec[snapUser](),
		ValueCodec: snapPointCodec{&appends, &decodes},
	}
	src := newManual(t, cfg)
	src.Set("ann", snapPoint{1, -2})
	src.Set("bob", snapPoint{-3, 4})
	snap := snapBytes(t, src)
	assert.Equal(t, 2, appends)
	assert.Contains(t, string(snap), "ann", "StringCodec stores the key's bytes")

	dst := newManual(t, cfg)
	require.NoError(t, dst.loadVerified(bytes.NewReader(snap)))
	assert.Equal(t, snapState(src), snapState(dst))
	assert.Equal(t, 4, decodes, "verified once, then decoded")
}

func TestSnapshotDefaultCodecs(t *testing.T) {
	type gobRecord struct {
		Name string
		Tags []string
	}
	snapRoundTrip(t, map[int]bool{-1: true, 0: false, 1 << 40: true})
	snapRoundTrip(t, map[uint8]float64{0: -0.5, 255: 1e300})
	snapRoundTrip(t, map[int16]float32{-300: 3.5})
	snapRoundTrip(t, map[uint64]string{1<<64 - 1: "max"})
	snapRoundTrip(t, map[string]gobRecord{"r": {"n", []string{"a", "b"}}}) // GobCodec
	snapRoundTrip(t, map[[2]int]int{{1, 2}: 3})                            // GobCodec for a key
}

func snapRoundTrip[K comparable, V any](t *testing.T, entries map[K]V) {
	t.Helper()
	src := newManual(t, Config[K, V]{})
	for k, v := range entries {
		src.Set(k, v)
	}
	dst := newManual(t, Config[K, V]{})
	require.NoError(t, dst.loadVerified(bytes.NewReader(snapBytes(t, src))))
	got := map[K]V{}
	for k, v := range dst.All() {
		got[k] = v
	}
	assert.Equal(t, entries, got)
}

type snapFailingCodec struct{}

func (snapFailingCodec) Append(dst []byte, v int) ([]byte, error) {
	if v < 0 {
		return dst, errors.New("negative")
	}
	return binary.AppendVarint(dst, int64(v)), nil
}

func (snapFailingCodec) Decode(src []byte) (int, error) {
	if len(src) > 0 && src[0] == 0xff {
		panic("codec bug")
	}
	return 0, errors.New("snapFailingCodec refuses everything")
}

func TestSnapshotCodecFailures(t *testing.T) {
	t.Run("encode", func(t *testing.T) {
		c := newManual(t, Config[string, int]{ValueCodec: snapFailingCodec{}})
		c.Set("a", -1)
		err := c.SaveTo(io.Discard)
		require.ErrorContains(t, err, "negative")
		assert.NotErrorIs(t, err, ErrCorruptSnapshot)
	})
	t.Run("decode", func(t *testing.T) {
		// Version 1, which records no codec: a version 2 snapshot of
		// another codec is refused before any value is decoded.
		snap := rawSnapshot([]rawRecord{{key: []byte("a"), value: []byte{2}}})
		dst := newManual(t, Config[string, int]{ValueCodec: snapFailingCodec{}})
		err := dst.LoadFrom(bytes.NewReader(snap))
		require.ErrorIs(t, err, ErrCorruptSnapshot)
		assert.ErrorContains(t, err, "refuses everything")
		assert.Zero(t, dst.Len())
	})
	t.Run("decode panics", func(t *testing.T) {
		snap := rawSnapshot([]rawRecord{{key: []byte("a"), value: []byte{0xff}}})
		dst := newManual(t, Config[string, int]{ValueCodec: snapFailingCodec{}})
		err := dst.LoadFrom(bytes.NewReader(snap))
		require.ErrorIs(t, err, ErrCorruptSnapshot)
		assert.ErrorContains(t, err, "codec panicked: codec bug")
	})
}

// rawRecord is one record as stored: the wall-clock deadline and the
// encoded key and value.
type rawRecord struct {
	deadline   int64
	key, value []byte
}

// rawSnapshot builds a well-formed snapshot, checksums and all, with one
// block per argument; tests then damage it or fill it with records no
// codec would write. It is of format version 1, which records no key and
// value types, so that any cache loads it.
func rawSnapshot(blocks ...[]rawRecord) []byte {
	var out bytes.Buffer
	fw := frame.NewWriter(&out)
	n := 0
	for _, b := range blocks {
		n += len(b)
	}
	_ = fw.WriteHeader(snapFormat, frame.Header{Version: 1, Count: uint64(n)})
	for _, b := range blocks {
		buf := frame.NewBlock(nil)
		for _, r := range b {
			buf = append(buf, rawRecordBytes(r.deadline, uint64(len(r.key)), r.key, uint64(len(r.value)), r.value)...)
		}
		if len(b) > 0 {
			_ = fw.WriteBlock(frame.CloseBlock(buf, uint32(len(b))), uint32(len(b)))
		}
	}
	_ = fw.WriteTrailer()
	return out.Bytes()
}

// forgedSnapshot is a snapshot of one block holding payload, claiming count
// records, with every checksum valid: what a damaged file that happens to
// pass its checksums, or a malicious one, looks like. Like rawSnapshot, it
// is of version 1.
func forgedSnapshot(count uint32, payload []byte) []byte {
	var out bytes.Buffer
	fw := frame.NewWriter(&out)
	_ = fw.WriteHeader(snapFormat, frame.Header{Version: 1, Count: uint64(count)})
	_ = fw.WriteBlock(frame.CloseBlock(append(frame.NewBlock(nil), payload...), count), count)
	_ = fw.WriteTrailer()
	return out.Bytes()
}

// rawRecordBytes encodes one record by hand, with explicit length fields.
func rawRecordBytes(deadline int64, keyLen uint64, key []byte, valueLen uint64, value []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(deadline))
	b = binary.AppendUvarint(b, keyLen)
	b = append(b, key...)
	b = binary.AppendUvarint(b, valueLen)
	return append(b, value...)
}

// snapPatch returns a copy of b with f applied.
func snapPatch(b []byte, f func(b []byte) []byte) []byte { return f(bytes.Clone(b)) }

// bytesAllocated returns the bytes allocated while f ran.
func bytesAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// corruptSnapshots are damaged snapshots, each with a fragment of the error it
// must produce.
func corruptSnapshots(t testing.TB) []struct {
	name, snap, want string
} {
	good := rawSnapshot(
		[]rawRecord{{0, []byte("a"), []byte("1")}, {0, []byte("b"), []byte("2")}},
		[]rawRecord{{0, []byte("c"), []byte("3")}},
	)
	src := newManual(t, Config[int, string]{}) // the type TestLoadCorrupt loads into
	src.Set(7, "v")
	one := snapBytes(t, src)
	block := frame.HeaderLen // offset of the first block
	far := time.Now().Add(time.Hour).UnixNano()
	cases := []struct{ name, snap, want string }{
		{"empty", "", "truncated at byte 0"},
		{"magic", string(snapPatch(good, func(b []byte) []byte { b[1] = 'X'; return b })), "not a shardcache snapshot"},
		{"text mode", strings.Replace(string(good), "\n", "\r\n", 1), "not a shardcache snapshot"},
		{"version", string(snapPatch(good, func(b []byte) []byte { b[8] = 3; return b })), "format version 3, this build reads versions 1 to 2"},
		{"version 0", string(snapPatch(good, func(b []byte) []byte { b[8] = 0; return b })), "format version 0"},
		{"type metadata", string(snapPatch(one, func(b []byte) []byte {
			b[frame.HeaderLen] = 0xff // the key type's length: runs past the metadata
			binary.LittleEndian.PutUint32(b[frame.HeaderLen+metaLen(t, one):], frame.Checksum(b[:frame.HeaderLen+metaLen(t, one)]))
			return b
		})), "header metadata: field 1 is malformed"},
		{"header checksum", string(snapPatch(good, func(b []byte) []byte { b[20] ^= 1; return b })), "header checksum"},
		{"block checksum", string(snapPatch(good, func(b []byte) []byte { b[block+frame.FrameLen+9] ^= 0x10; return b })), "block 1 (at byte 36): checksum mismatch"},
		{"block count", string(snapPatch(good, func(b []byte) []byte { b[block+1] = 3; return b })), "block 1 (at byte 36)"},
		{"block count within bounds", string(snapPatch(good, func(b []byte) []byte { b[block+1] = 1; return b })), "checksum mismatch"},
		{"frame tag", string(snapPatch(good, func(b []byte) []byte { b[block] = 'X'; return b })), "unknown frame tag"},
		{"trailer count", string(snapPatch(good, func(b []byte) []byte { b[len(b)-12]++; return b })), "file checksum mismatch"},
		{"file checksum", string(snapPatch(good, func(b []byte) []byte { b[len(b)-1] ^= 1; return b })), "file checksum mismatch"},
		{"no trailer", string(good[:len(good)-frame.TrailerLen]), "truncated"},
		{"data after trailer", string(good) + "x", "after the trailer"},
		{"block too long", string(snapPatch(good, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[block+5:], 0xffffffff)
			return b
		})), "exceeds the limit"},
		{"block length beyond the data", string(snapPatch(good, func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[block+5:], 400<<20)
			return b
		})), "truncated"},
		{"more records than bytes", string(forgedSnapshot(1000, rawRecordBytes(0, 1, []byte("k"), 1, []byte("v")))), "cannot fit"},
		{"zero records", string(forgedSnapshot(0, rawRecordBytes(0, 1, []byte("k"), 1, []byte("v")))), "cannot fit"},
		{"key length 2^40", string(forgedSnapshot(1, rawRecordBytes(0, 1<<40, []byte("k"), 1, []byte("v")))), "key length 1099511627776 exceeds the limit"},
		{"value length 2^40", string(forgedSnapshot(1, rawRecordBytes(0, 1, []byte("k"), 1<<40, []byte("v")))), "value length 1099511627776 exceeds the limit"},
		{"value past the block", string(forgedSnapshot(1, rawRecordBytes(0, 1, []byte("k"), 300, []byte("v")))), "runs past the block"},
		{"bad varint", string(forgedSnapshot(1, append(rawRecordBytes(0, 1, []byte("k"), 1, []byte("v"))[:8], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))), "bad key length"},
		{"fewer records than counted", string(forgedSnapshot(2, append(rawRecordBytes(0, 1, []byte("k"), 1, []byte("v")), make([]byte, 10)...))), "record 1"},
		{"bytes after the records", string(forgedSnapshot(1, append(rawRecordBytes(0, 1, []byte("k"), 1, []byte("v")), make([]byte, 10)...))), "10 bytes after the last record"},
		{"negative deadline", string(forgedSnapshot(1, rawRecordBytes(-5, 1, []byte("k"), 1, []byte("v")))), "negative deadline"},
		{"codec refuses the key", string(forgedSnapshot(1, rawRecordBytes(far, 1, []byte{0x80}, 1, []byte("v")))), "key: shardcache: IntCodec"},
	}
	for cut := 1; cut < len(one); cut += 7 {
		cases = append(cases, struct{ name, snap, want string }{fmt.Sprintf("truncated to %d bytes", cut), string(one[:cut]), "truncated"})
	}
	return cases
}

func TestLoadCorrupt(t *testing.T) {
	for _, tc := range corruptSnapshots(t) {
		t.Run(tc.name, func(t *testing.T) {
			// Int keys, so that the codec case has a codec that can refuse.
			c := newManual(t, Config[int, string]{})
			c.SetWithTTL(1, "live", time.Hour)
			before := snapState(c)

			var err error
			n := bytesAllocated(func() { err = c.loadVerified(strings.NewReader(tc.snap)) })
			require.ErrorIs(t, err, ErrCorruptSnapshot)
			assert.ErrorContains(t, err, tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "shardcache: "), err.Error())
			assert.Less(t, n, uint64(4<<20), "a damaged snapshot must not make the loader allocate much")
			assert.Equal(t, before, snapState(c), "a failed LoadFile must leave the cache as it was")

			// LoadFrom reads exactly one snapshot, so it ignores what
			// follows; and it applies the blocks that verify, so the
			// cases whose damage is after the block change the cache.
			err = c.LoadFrom(strings.NewReader(tc.snap))
			if tc.name == "data after trailer" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrCorruptSnapshot)
		})
	}
}

func TestLoadFromStopsAtTheBadBlock(t *testing.T) {
	blocks := [][]rawRecord{
		{{0, []byte("a1"), []byte("1")}, {0, []byte("a2"), []byte("2")}},
		{{0, []byte("b1"), []byte("3")}},
		{{0, []byte("c1"), []byte("4")}},
	}
	good := rawSnapshot(blocks...)
	second := frame.HeaderLen + frame.FrameLen + 2*(8+1+2+1+1) + 4
	require.Equal(t, byte(frame.BlockTag), good[second])
	bad := snapPatch(good, func(b []byte) []byte { b[second+frame.FrameLen+9] ^= 1; return b }) // a byte of the key b1

	c := newManual(t, Config[string, string]{})
	err := c.LoadFrom(bytes.NewReader(bad))
	require.ErrorIs(t, err, ErrCorruptSnapshot)
	assert.ErrorContains(t, err, "block 2")
	assert.Equal(t, map[string]snapEntry[string]{"a1": {"1", 0}, "a2": {"2", 0}}, snapState(c),
		"the blocks before the bad one are applied, nothing after")

	c = newManual(t, Config[string, string]{})
	require.ErrorIs(t, c.loadVerified(bytes.NewReader(bad)), ErrCorruptSnapshot)
	assert.Zero(t, c.Len(), "LoadFile applies nothing")
}

func TestLoadFromReadsExactlyTheSnapshot(t *testing.T) {
	src := newManual(t, Config[string, string]{})
	src.Set("k", "v")
	r := bytes.NewReader(append(snapBytes(t, src), "next"...))
	c := newManual(t, Config[string, string]{})
	require.NoError(t, c.LoadFrom(r))
	rest, _ := io.ReadAll(r)
	assert.Equal(t, "next", string(rest))
}

// faultyIO is an io.Writer or io.Reader over w or r that fails with
// errInjectedIO once n bytes have gone through.
type faultyIO struct {
	w io.Writer
	r io.Reader
	n int
}

var errInjectedIO = errors.New("injected I/O failure")

func (f *faultyIO) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errInjectedIO
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func (f *faultyIO) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errInjectedIO
	}
	k, err := f.r.Read(p[:min(len(p), f.n)])
	f.n -= k
	return k, err
}

func TestSnapshotIOErrors(t *testing.T) {
	c := newManual(t, Config[string, string]{})
	for i := range 3000 {
		c.Set(strconv.Itoa(i), strings.Repeat("v", 200))
	}
	snap := snapBytes(t, c)
	for _, n := range []int{0, 10, frame.HeaderLen, 5000, len(snap) - 1} {
		err := c.SaveTo(&faultyIO{w: io.Discard, n: n})
		require.ErrorIs(t, err, errInjectedIO, n)
		assert.NotErrorIs(t, err, ErrCorruptSnapshot)

		dst := newManual(t, Config[string, string]{})
		err = dst.LoadFrom(&faultyIO{r: bytes.NewReader(snap), n: n})
		require.ErrorIs(t, err, errInjectedIO, n)
		assert.NotErrorIs(t, err, ErrCorruptSnapshot)
	}
}

func TestSaveFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cache.snap")
	c := newManual(t, Config[string, string]{})
	for i := range 3000 {
		c.Set("old:"+strconv.Itoa(i), strings.Repeat("o", 150))
	}
	require.NoError(t, c.SaveFile(path))
	old, err := os.ReadFile(path)
	require.NoError(t, err)
	oldState := snapState(c)

	c.Clear()
	for i := range 3000 {
		c.Set("new:"+strconv.Itoa(i), strings.Repeat("n", 150))
	}
	size := len(snapBytes(t, c))
	require.Greater(t, size, frame.BlockTarget, "the new snapshot should have several blocks")

	// A save that fails at any byte, here at roughly 200 offsets spread over
	// the whole file and every offset of the header and first frame, leaves
	// the old file exactly as it was and no temporary file behind.
	var offsets []int
	for n := 0; n < 64; n++ {
		offsets = append(offsets, n)
	}
	for n := 64; n < size; n += size / 150 {
		offsets = append(offsets, n)
	}
	offsets = append(offsets, size-frame.TrailerLen, size-1)
	for _, n := range offsets {
		c.snap.mu.Lock()
		err := c.saveFile(path, func(w io.Writer) io.Writer { return &faultyIO{w: w, n: n} })
		c.snap.mu.Unlock()
		require.ErrorIs(t, err, errInjectedIO, "fail after %d bytes", n)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.True(t, bytes.Equal(old, got), "fail after %d bytes changed the file", n)
		assertOnlyFile(t, dir, "cache.snap")
	}

	// A crash leaves a partial temporary file (and never a renamed one):
	// loading still sees the old snapshot.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".cache.snap.tmp123"), old[:len(old)/2], 0o600))
	loaded := newManual(t, Config[string, string]{})
	require.NoError(t, loaded.LoadFile(path))
	assert.Equal(t, oldState, snapState(loaded))
	require.NoError(t, os.Remove(filepath.Join(dir, ".cache.snap.tmp123")))

	// A save that succeeds replaces the file.
	require.NoError(t, c.SaveFile(path))
	loaded = newManual(t, Config[string, string]{})
	require.NoError(t, loaded.LoadFile(path))
	assert.Equal(t, snapState(c), snapState(loaded))
	assertOnlyFile(t, dir, "cache.snap")
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	}
}

func assertOnlyFile(t *testing.T, dir, name string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{name}, names)
}

func TestLoadFileErrors(t *testing.T) {
	c := newManual(t, Config[string, string]{})
	err := c.LoadFile(filepath.Join(t.TempDir(), "missing"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.NotErrorIs(t, err, ErrCorruptSnapshot)

	path := filepath.Join(t.TempDir(), "bad")
	require.NoError(t, os.WriteFile(path, []byte("definitely not a snapshot, but long enough for a header"), 0o600))
	require.ErrorIs(t, c.LoadFile(path), ErrCorruptSnapshot)

	require.ErrorIs(t, c.SaveFile(filepath.Join(t.TempDir(), "no", "such", "dir")), fs.ErrNotExist)
}

func TestSnapshotAfterClose(t *testing.T) {
	c := newManual(t, Config[string, string]{})
	snap := snapBytes(t, c)
	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.SaveTo(io.Discard), ErrClosed)
	assert.ErrorIs(t, c.SaveFile(filepath.Join(t.TempDir(), "x")), ErrClosed)
	assert.ErrorIs(t, c.LoadFrom(bytes.NewReader(snap)), ErrClosed)
	assert.ErrorIs(t, c.LoadFile(filepath.Join(t.TempDir(), "x")), ErrClosed)
}

func TestSnapshotConfig(t *testing.T) {
	for _, cfg := range []Config[string, int]{
		{SnapshotEvery: -time.Second, SnapshotPath: "x"},
		{SnapshotEvery: time.Second},
	} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig)
		assert.ErrorContains(t, err, "SnapshotEvery")
	}
}

func TestPeriodicSnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.snap")
	c, err := New(Config[string, int]{SnapshotPath: path, SnapshotEvery: 20 * time.Millisecond})
	require.NoError(t, err)
	defer c.Close()

	// contains loads the current file into a fresh cache and looks for key.
	contains := func(key string) bool {
		d := newManual(t, Config[string, int]{})
		if d.LoadFile(path) != nil {
			return false
		}
		_, ok := d.Get(key)
		return ok
	}
	c.SetWithTTL("first", 1, time.Hour)
	require.Eventually(t, func() bool { return contains("first") }, 5*time.Second, 5*time.Millisecond)
	c.Set("second", 2)
	require.Eventually(t, func() bool { return contains("second") }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, c.Close())
	assertOnlyFile(t, filepath.Dir(path), "cache.snap")
}

func TestFinalSnapshotOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.snap")
	c, err := New(Config[string, int]{SnapshotPath: path})
	require.NoError(t, err)
	for i := range 1000 {
		c.SetWithTTL(strconv.Itoa(i), i, time.Hour)
	}
	_, err = os.Stat(path)
	require.ErrorIs(t, err, fs.ErrNotExist, "no SnapshotEvery: nothing is snapBytes before Close")
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent and saves once")

	d, err := New(Config[string, int]{})
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, d.LoadFile(path))
	assert.Equal(t, 1000, d.Len())
	ttl, ok := d.TTL("7")
	require.True(t, ok)
	assert.InDelta(t, float64(time.Hour), float64(ttl), float64(time.Second))
}

func TestCloseReturnsSnapshotError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gone")
	require.NoError(t, os.Mkdir(dir, 0o700))
	c, err := New(Config[string, int]{SnapshotPath: filepath.Join(dir, "cache.snap")})
	require.NoError(t, err)
	require.NoError(t, os.Remove(dir)) // New checked it; the final save finds it gone
	c.Set("k", 1)
	err = c.Close()
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, ok := c.Get("k")
	assert.False(t, ok, "Close still closes")
}

func TestOnSnapshotErrorMayClose(t *testing.T) {
	var (
		c    *Cache[string, int]
		mu   sync.Mutex
		errs []error
	)
	ready := make(chan struct{}) // c is assigned
	closed := make(chan error, 1)
	c, err := New(Config[string, int]{
		SnapshotPath:  filepath.Join(t.TempDir(), "cache.snap"),
		SnapshotEvery: 5 * time.Millisecond,
		ValueCodec:    snapFailingCodec{}, // fails to encode the negative value below
		OnSnapshotError: func(err error) {
			<-ready
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			select {
			case closed <- c.Close(): // from the snapshot goroutine itself
			default:
			}
		},
	})
	require.NoError(t, err)
	c.Set("k", -1)
	close(ready)
	noDeadlock(t, func() {
		err := <-closed
		assert.ErrorContains(t, err, "encode value: negative", "the final snapshot fails too")
	})
	assert.NoError(t, c.Close())
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, errs)
	assert.ErrorContains(t, errs[0], "encode value: negative")
}

// TestSnapshotConcurrent saves and loads while other goroutines write: run
// with -race. Every saved value must be one that was written for its key.
func TestSnapshotConcurrent(t *testing.T) {
	c, err := New(Config[int, string]{MaxEntries: 2000})
	require.NoError(t, err)
	defer c.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := (i*7 + w) % 3000
				switch i % 5 {
				case 0:
					c.Delete(k)
				case 1:
					c.SetWithTTL(k, "v"+strconv.Itoa(k), time.Duration(i%3)*time.Millisecond)
				default:
					c.Set(k, "v"+strconv.Itoa(k))
				}
				c.Get(k + 1)
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for range 20 {
		snap := snapBytes(t, c)
		d := newManual(t, Config[int, string]{})
		require.NoError(t, d.LoadFrom(bytes.NewReader(snap)))
		for k, v := range d.All() {
			require.Equal(t, "v"+strconv.Itoa(k), v)
		}
		require.NoError(t, c.LoadFrom(bytes.NewReader(snap)))
	}
}

// BenchmarkSnapshot measures SaveTo and LoadFrom on a cache of string keys
// and 100-byte []byte values (every other one with a TTL), through
// in-memory buffers so that only the engine is measured. MB/s counts
// payload bytes (keys plus values), not file bytes:
//
//	go test -run '^$' -bench Snapshot -benchtime 3x -count 6 . | benchstat -col /op -
//
// -short skips the million-entry size. bench/snapshot_test.go compares the
// same operations with theine.
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		if n > 100_000 && testing.Short() {
			continue
		}
		c := newSnapBenchCache(b, n)
		payload := int64(0)
		for k, v := range c.All() {
			payload += int64(len(k) + len(v))
		}
		snap := snapBytes(b, c)
		entries := "entries=" + strconv.Itoa(n)

		b.Run("op=save/"+entries, func(b *testing.B) {
			buf := bytes.NewBuffer(make([]byte, 0, len(snap)))
			b.SetBytes(payload)
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := c.SaveTo(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("op=load/"+entries, func(b *testing.B) {
			b.SetBytes(payload)
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				d, err := New(Config[string, []byte]{})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC() // collect the previous iteration's cache outside the timer
				b.StartTimer()
				if err := d.LoadFrom(bytes.NewReader(snap)); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if d.Len() != n {
					b.Fatalf("loaded %d entries, want %d", d.Len(), n)
				}
				_ = d.Close()
				b.StartTimer()
			}
		})
		_ = c.Close()
	}
}

// newSnapBenchCache returns an unbounded cache holding n entries: keys
// "key:<i>", 100-byte values, every other entry with a one-hour TTL.
func newSnapBenchCache(b *testing.B, n int) *Cache[string, []byte] {
	b.Helper()
	c, err := New(Config[string, []byte]{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		v := make([]byte, 100)
		for j := range v {
			v[j] = byte(i + j)
		}
		if i%2 == 0 {
			c.SetWithTTL("key:"+strconv.Itoa(i), v, time.Hour)
		} else {
			c.Set("key:"+strconv.Itoa(i), v)
		}
	}
	return c
}

// shortWriter passes every byte to w but, on its nth Write (counting from
// 1), reports one byte fewer than it was given, with no error.
type shortWriter struct {
	w        io.Writer
	calls, n int
}

func (s *shortWriter) Write(p []byte) (int, error) {
	s.calls++
	k, err := s.w.Write(p)
	if s.calls == s.n && err == nil && k > 0 {
		k--
	}
	return k, err
}

// TestSaveShortWrite: an io.Writer that reports a short count without an
// error fails the save, wherever it happens (header, a block, the trailer,
// with one encoding goroutine or several), and SaveFile then leaves the
// old file as it was.
func TestSaveShortWrite(t *testing.T) {
	c := parallelFixture(t)
	for _, workers := range []int{1, 3} {
		var count shortWriter
		count.w = io.Discard
		require.NoError(t, c.saveWith(&count, c.Len(), workers))
		require.Greater(t, count.calls, 3)
		for _, n := range []int{1, 2, count.calls / 2, count.calls} {
			t.Run(fmt.Sprintf("workers=%d/write=%d", workers, n), func(t *testing.T) {
				err := c.saveWith(&shortWriter{w: io.Discard, n: n}, c.Len(), workers)
				require.ErrorIs(t, err, io.ErrShortWrite)
				assert.True(t, strings.HasPrefix(err.Error(), "shardcache: "), err.Error())
			})
		}
	}
	t.Run("SaveTo", func(t *testing.T) {
		assert.ErrorIs(t, c.SaveTo(&shortWriter{w: io.Discard, n: 1}), io.ErrShortWrite)
	})
	t.Run("SaveFile", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "cache.snap")
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
		c.snap.mu.Lock()
		err := c.saveFile(path, func(w io.Writer) io.Writer { return &shortWriter{w: w, n: 2} })
		c.snap.mu.Unlock()
		require.ErrorIs(t, err, io.ErrShortWrite)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "old", string(got))
		assertOnlyFile(t, dir, "cache.snap")
	})
}

// countingCodec is IntCodec counting its Appends, to tell whether a save
// got as far as encoding.
type countingCodec struct{ appends *int }

func (c countingCodec) Append(dst []byte, v int) ([]byte, error) {
	*c.appends++
	return IntCodec[int]().Append(dst, v)
}

func (countingCodec) Decode(src []byte) (int, error) { return IntCodec[int]().Decode(src) }

// TestSaveFileBadPath: a path that cannot be a snapshot file fails at once,
// with an error saying why, before anything is encoded or created.
func TestSaveFileBadPath(t *testing.T) {
	var appends int
	c := newManual(t, Config[string, int]{ValueCodec: countingCodec{&appends}})
	c.Set("k", 1)
	dir := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{"", "shardcache: SaveFile: empty path"},
		{dir, "shardcache: SaveFile: " + dir + " is a directory"},
		{dir + string(filepath.Separator), "shardcache: SaveFile: " + dir + string(filepath.Separator) + " is a directory"},
	} {
		t.Run(fmt.Sprintf("path=%q", tc.path), func(t *testing.T) {
			err := c.SaveFile(tc.path)
			require.EqualError(t, err, tc.want)
			assert.Zero(t, appends, "nothing may be encoded for a bad path")
			ents, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, ents, "no temporary file may be created")
		})
	}
	require.NoError(t, c.SaveFile(filepath.Join(dir, "ok.snap")))
	assert.Equal(t, 1, appends)
}

// TestSnapshotPathChecked: New refuses a SnapshotPath that no save could
// write (its directory is missing or not a directory, or it is a directory
// itself), instead of failing at Close, after the entries are gone.
func TestSnapshotPathChecked(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for name, path := range map[string]string{
		"missing directory":   filepath.Join(dir, "missing", "cache.snap"),
		"parent is a file":    filepath.Join(file, "cache.snap"),
		"path is a directory": dir,
		"relative, missing":   filepath.Join("no", "such", "dir", "cache.snap"),
	} {
		t.Run(name, func(t *testing.T) {
			for _, every := range []time.Duration{0, time.Hour} {
				_, err := New(Config[string, int]{SnapshotPath: path, SnapshotEvery: every})
				require.ErrorIs(t, err, ErrInvalidConfig)
				assert.ErrorContains(t, err, "SnapshotPath")
				assert.ErrorContains(t, err, path)
			}
		})
	}
	c, err := New(Config[string, int]{SnapshotPath: filepath.Join(dir, "cache.snap")})
	require.NoError(t, err, "a file that does not exist yet, in a directory that does")
	require.NoError(t, c.Close())
}

// metaLen returns the length of version 2 snapshot snap's header metadata,
// which starts at frame.HeaderLen (after its length field) and is followed
// by the header checksum.
func metaLen(t testing.TB, snap []byte) int {
	require.Equal(t, uint32(2), binary.LittleEndian.Uint32(snap[8:]))
	return int(binary.LittleEndian.Uint32(snap[frame.HeaderLen-4:]))
}

// TestRestoreSnapshot: with RestoreSnapshot, New loads SnapshotPath; a
// missing file starts empty; a damaged or foreign file fails New instead of
// being overwritten at Close.
func TestRestoreSnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.snap")
	cfg := Config[string, int]{SnapshotPath: path, RestoreSnapshot: true}
	c, err := New(cfg)
	require.NoError(t, err, "a missing file is a first start")
	assert.Zero(t, c.Len())
	c.Set("a", 1)
	c.SetWithTTL("b", 2, time.Hour)
	require.NoError(t, c.Close())

	c, err = New(cfg)
	require.NoError(t, err)
	v, ok := c.Get("a")
	assert.True(t, ok)
	assert.Equal(t, 1, v)
	ttl, ok := c.TTL("b")
	assert.True(t, ok)
	assert.InDelta(t, time.Hour, ttl, float64(time.Minute))
	require.NoError(t, c.Close())

	_, err = New(Config[int, int]{SnapshotPath: path, RestoreSnapshot: true})
	assert.ErrorIs(t, err, ErrSnapshotType, "a snapshot of other types is refused")

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	data[len(data)/2] ^= 0xff
	require.NoError(t, os.WriteFile(path, data, 0o644))
	_, err = New(cfg)
	assert.ErrorIs(t, err, ErrCorruptSnapshot)
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, data, after, "a failed restore leaves the file as it was")

	_, err = New(Config[string, int]{RestoreSnapshot: true})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}
