package shardcache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/shardcache/shardcache/internal/frame"
	"github.com/stretchr/testify/require"
)

// FuzzLoadSnapshot feeds arbitrary bytes to the loader, as LoadFile (verify,
// then apply) and as LoadFrom, on a cache with string keys (whose codec
// accepts any bytes, so the fuzzer works on the framing) and one with int
// keys (whose codec refuses most bytes). For every input:
//
//   - nothing panics;
//   - the loader allocates at most a small constant plus a fixed multiple
//     of the input's size, whatever lengths the input claims;
//   - every error wraps ErrCorruptSnapshot, or ErrSnapshotType for an
//     intact header recording other types (the input is in memory, so
//     there is no I/O error to report);
//   - a failed LoadFile leaves the cache exactly as it was, and an input
//     LoadFile accepts, LoadFrom accepts too.
//
// The seed corpus (valid snapshots, and every damaged one TestLoadCorrupt
// uses) runs in plain go test; go test -fuzz FuzzLoadSnapshot explores.
func FuzzLoadSnapshot(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, data, Config[string, []byte]{MaxEntries: 64})
		fuzzLoad(t, data, Config[int, string]{MaxEntries: 64})
	})
}

func fuzzLoad[K comparable, V any](t *testing.T, data []byte, cfg Config[K, V]) {
	budget := uint64(1<<20 + 64*len(data))

	c := newManual(t, cfg)
	var k K
	var v V
	c.SetWithTTL(k, v, time.Hour) // one live entry the load must not disturb
	before := snapState(c)
	var fileErr error
	if n := bytesAllocated(func() { fileErr = c.loadVerified(bytes.NewReader(data)) }); n > budget {
		t.Fatalf("LoadFile allocated %d bytes for a %d-byte input", n, len(data))
	}
	if fileErr != nil {
		requireLoadErr(t, fileErr)
		require.Equal(t, before, snapState(c), "a failed LoadFile changed the cache")
	}

	d := newManual(t, cfg)
	var streamErr error
	if n := bytesAllocated(func() { streamErr = d.LoadFrom(bytes.NewReader(data)) }); n > budget {
		t.Fatalf("LoadFrom allocated %d bytes for a %d-byte input", n, len(data))
	}
	if streamErr != nil {
		requireLoadErr(t, streamErr)
		require.Error(t, fileErr, "LoadFile accepted what LoadFrom refused")
	}
}

// requireLoadErr fails t unless err is one a load of in-memory input may
// return: corruption, or a snapshot of other types.
func requireLoadErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrSnapshotType) {
		require.ErrorIs(t, err, ErrCorruptSnapshot)
	}
}

// fuzzSeeds returns valid snapshots of both fuzzed cache types and the
// damaged snapshots of TestLoadCorrupt.
func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	s := newManual(tb, Config[string, []byte]{})
	seeds = append(seeds, snapBytes(tb, s)) // empty
	for i := range 20 {
		s.SetWithTTL("key:"+strconv.Itoa(i), bytes.Repeat([]byte{byte(i)}, i*10), time.Duration(i)*time.Hour)
	}
	seeds = append(seeds, snapBytes(tb, s))
	n := newManual(tb, Config[int, string]{})
	for i := range 20 {
		n.SetWithTTL(i*1000-5000, strconv.Itoa(i), time.Duration(i)*time.Minute)
	}
	seeds = append(seeds, snapBytes(tb, n))
	for _, tc := range corruptSnapshots(tb) {
		seeds = append(seeds, []byte(tc.snap))
	}
	return seeds
}

// TestForgedLengthsFailFast: lengths claiming a terabyte are refused before
// anything is allocated for them, and a length that is within the limits
// but beyond the data costs only the data actually present.
func TestForgedLengthsFailFast(t *testing.T) {
	var lengthOnly []byte // a block header claiming 500 MiB, then 1 KiB of data
	lengthOnly = append(lengthOnly, rawSnapshot()[:frame.HeaderLen]...)
	lengthOnly = append(lengthOnly, frame.BlockTag)
	lengthOnly = binary.LittleEndian.AppendUint32(lengthOnly, 1)
	lengthOnly = binary.LittleEndian.AppendUint32(lengthOnly, 500<<20)
	lengthOnly = append(lengthOnly, make([]byte, 1024)...)

	for name, snap := range map[string][]byte{
		"key 2^40":   forgedSnapshot(1, rawRecordBytes(0, 1<<40, []byte("k"), 1, []byte("v"))),
		"value 2^40": forgedSnapshot(1, rawRecordBytes(0, 1, []byte("k"), 1<<40, []byte("v"))),
		"value 2^63": forgedSnapshot(1, rawRecordBytes(0, 1, []byte("k"), 1<<63, []byte("v"))),
		"block 4 GiB": snapPatch(forgedSnapshot(1, rawRecordBytes(0, 1, []byte("k"), 1, []byte("v"))), func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[frame.HeaderLen+5:], 0xffffffff)
			return b
		}),
		"block 500 MiB": lengthOnly,
	} {
		t.Run(name, func(t *testing.T) {
			c := newManual(t, Config[string, []byte]{})
			var err error
			start := time.Now()
			n := bytesAllocated(func() { err = c.LoadFrom(bytes.NewReader(snap)) })
			require.ErrorIs(t, err, ErrCorruptSnapshot)
			require.Less(t, n, uint64(256<<10), "allocated %d bytes", n)
			require.Less(t, time.Since(start), time.Second)
		})
	}
}
