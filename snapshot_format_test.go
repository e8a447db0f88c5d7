package shardcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shardcache/shardcache/internal/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSnapshotFormatV1 pins format version 1 (docs/snapshot-format.md) to
// bytes: testdata/snapshot-v1-*.snap were written by the save code as it
// was before the snapshot code was split into the root package and
// internal/frame, from the fixtures below, on a fixed wall clock. Each file
// must load to exactly its fixture's entries and remaining lifetimes, and
// saving the fixture again must reproduce it byte for byte; larger saves,
// several blocks long, sequential and parallel, must keep the SHA-256 they
// had. A change that makes any of these fail changes the format: it needs a
// new version (and new files), not an update of these.
//
// The saves here write version 1 (which differs from version 2 only in
// the header), so they hold the records' and blocks' bytes too.
//
// -update-snapshot-files rewrites the files from the current code; it
// exists for writing a new version's files and must not be used on
// version 1's.
func TestSnapshotFormatV1(t *testing.T) {
	t.Run("file=strings", func(t *testing.T) {
		testFormatFile(t, 1, "snapshot-v1-strings.snap", []formatEntry[string, []byte]{
			{"", []byte{}, 0},
			{"a", []byte("1"), 0},
			{"ttl", []byte("x"), time.Minute},
			{"héllo, 世界", []byte{0, 0xff, 0x80}, 100 * time.Hour},
			{strings.Repeat("k", 200), bytes.Repeat([]byte("v"), 300), 0}, // two-byte lengths
			{"end of time", []byte("∞"), math.MaxInt64},                   // the deadline saturates
			{"gone", []byte("x"), time.Second},                            // expired at the save
		})
	})
	t.Run("file=ints", func(t *testing.T) {
		testFormatFile(t, 1, "snapshot-v1-ints.snap", []formatEntry[int64, string]{
			{0, "zero", 0},
			{-1, "minus one", time.Minute},
			{1, "", 0},
			{300, strings.Repeat("v", 200), time.Hour},
			{math.MinInt64, "min", 0},
			{math.MaxInt64, "max", 24 * time.Hour},
			{42, "gone", time.Second},
		})
	})

	// Several blocks per save, and shards of several blocks each: the
	// sequential save and the parallel one (whose blocks end with each
	// worker's share of a shard) must keep their exact bytes.
	c := formatBlocksFixture(t)
	c.snap.version = 1
	checkBlockHashes(t, c, map[int]string{
		1: "9c3e70d791e05e10a14857a422bdc5779a3df4ccec583b252ee519830a5ce58f",
		3: "b1606c06a94e353ea20f38867db30a88309222642a1df72cea4745da58cab090",
	})
}

// TestSnapshotFormatV2 pins format version 2 (docs/snapshot-format.md) to
// bytes, as TestSnapshotFormatV1 does version 1's, from the same fixtures:
// version 2 adds the header metadata naming the key and value types and
// codecs, and loading checks it. testdata/snapshot-v2-*.snap were written
// by -update-snapshot-files -run TestSnapshotFormatV2 when version 2 was
// introduced; like version 1's, they must not be rewritten.
func TestSnapshotFormatV2(t *testing.T) {
	strs := []formatEntry[string, []byte]{
		{"", []byte{}, 0},
		{"a", []byte("1"), 0},
		{"ttl", []byte("x"), time.Minute},
		{"héllo, 世界", []byte{0, 0xff, 0x80}, 100 * time.Hour},
		{strings.Repeat("k", 200), bytes.Repeat([]byte("v"), 300), 0},
		{"end of time", []byte("∞"), math.MaxInt64},
		{"gone", []byte("x"), time.Second},
	}
	t.Run("file=strings", func(t *testing.T) {
		testFormatFile(t, 2, "snapshot-v2-strings.snap", strs)
	})
	t.Run("file=ints", func(t *testing.T) {
		testFormatFile(t, 2, "snapshot-v2-ints.snap", []formatEntry[int64, string]{
			{0, "zero", 0},
			{-1, "minus one", time.Minute},
			{1, "", 0},
			{300, strings.Repeat("v", 200), time.Hour},
			{math.MinInt64, "min", 0},
			{math.MaxInt64, "max", 24 * time.Hour},
			{42, "gone", time.Second},
		})
	})

	// The header records the types; a cache of other types refuses the
	// file, while version 1's, which records none, loads unchecked.
	t.Run("types", func(t *testing.T) {
		v2, err := os.ReadFile(filepath.Join("testdata", "snapshot-v2-strings.snap"))
		require.NoError(t, err)
		meta := v2[frame.HeaderLen : frame.HeaderLen+metaLen(t, v2)]
		assert.Equal(t, "\x06string\x07[]uint8\x06string\x05bytes", string(meta))

		other := newManual(t, Config[string, string]{})
		err = other.loadVerified(bytes.NewReader(v2))
		require.ErrorIs(t, err, ErrSnapshotType)
		assert.EqualError(t, err, "shardcache: snapshot type mismatch: "+
			"the snapshot holds string keys and []uint8 values, the cache wants string keys and string values")
		assert.Zero(t, other.Len())

		v1, err := os.ReadFile(filepath.Join("testdata", "snapshot-v1-strings.snap"))
		require.NoError(t, err)
		require.NoError(t, other.loadVerified(bytes.NewReader(v1)), "version 1 records no types")
	})

	checkBlockHashes(t, formatBlocksFixture(t), map[int]string{
		1: "39ed4e75fd2fc2b28edd3c3e9f10a354c3b458794165a1e9948d46d0a744ad7c",
		3: "919820652c1860ea99e4d19a79ddccd071c30d332e2c204708d76b0a2b74b8fd",
	})
}

// checkBlockHashes saves c with each worker count and checks the SHA-256
// of the bytes, for a snapshot of several blocks.
func checkBlockHashes(t *testing.T, c *Cache[string, string], want map[int]string) {
	for _, workers := range slices.Sorted(maps.Keys(want)) {
		t.Run("blocks/workers="+strconv.Itoa(workers), func(t *testing.T) {
			snap := saveWith(t, c, workers)
			require.Greater(t, len(snap), 4*frame.BlockTarget)
			sum := sha256.Sum256(snap)
			assert.Equal(t, want[workers], hex.EncodeToString(sum[:]), "the bytes of a %d-byte snapshot changed", len(snap))
		})
	}
}

// formatBlocksFixture is a cache whose snapshot is several blocks long,
// each of its shards several blocks, on the fixtures' wall clock.
func formatBlocksFixture(t *testing.T) *Cache[string, string] {
	c := newManual(t, Config[string, string]{Shards: 8})
	c.snap.wallNow = func() time.Time { return formatWall }
	c.advance(90 * time.Second)
	for i := range 3000 {
		ttl := time.Duration(0)
		if i%3 == 0 {
			ttl = time.Duration(i+1) * time.Minute
		}
		c.SetWithTTL("k"+strconv.Itoa(i), strings.Repeat(strconv.Itoa(i%10), 400+i%700), ttl)
	}
	return c
}

var updateSnapshotFiles = flag.Bool("update-snapshot-files", false,
	"rewrite testdata/snapshot-v*.snap from the current code (never version 1's: see TestSnapshotFormatV1)")

// formatWall is the wall-clock time the format fixtures are saved and
// loaded at.
var formatWall = time.Date(2030, time.January, 2, 3, 4, 5, 6, time.UTC)

// formatEntry is one entry of a format fixture; ttl 0 means none.
type formatEntry[K comparable, V any] struct {
	key   K
	value V
	ttl   time.Duration
}

// formatAge is how long the fixture's clock runs between the Sets and the
// save: entries whose TTL is shorter have expired by then, but are not yet
// reclaimed, so the save must skip them itself.
const formatAge = 2 * time.Second

// testFormatFile checks the file testdata/name, of format version
// version, against entries: it loads to them, and a cache holding them
// saves to it.
func testFormatFile[K comparable, V any](t *testing.T, version uint32, name string, entries []formatEntry[K, V]) {
	path := filepath.Join("testdata", name)
	src := newManual(t, Config[K, V]{Shards: 4})
	src.snap.version = version
	src.snap.wallNow = func() time.Time { return formatWall }
	src.advance(90 * time.Second)
	for _, e := range entries {
		src.SetWithTTL(e.key, e.value, e.ttl)
	}
	src.clock.now.Add(int64(formatAge))
	saved := snapBytes(t, src)
	if *updateSnapshotFiles {
		require.NoError(t, os.WriteFile(path, saved, 0o644))
	}
	file, err := os.ReadFile(path)
	require.NoError(t, err)

	t.Run("load", func(t *testing.T) {
		// On another clock reading: what the file carries is the time left.
		dst := newManual(t, Config[K, V]{Shards: 2})
		dst.snap.wallNow = func() time.Time { return formatWall }
		dst.advance(17 * time.Minute)
		require.NoError(t, dst.loadVerified(bytes.NewReader(file)))
		want := map[K]snapEntry[V]{}
		for _, e := range entries {
			switch {
			case e.ttl == 0:
				want[e.key] = snapEntry[V]{e.value, 0}
			case e.ttl == math.MaxInt64:
				// Saved as the largest deadline, which is this far from
				// the load's wall clock.
				want[e.key] = snapEntry[V]{e.value, time.Duration(math.MaxInt64 - formatWall.UnixNano())}
			case e.ttl > formatAge:
				want[e.key] = snapEntry[V]{e.value, e.ttl - formatAge}
			}
		}
		assert.Equal(t, want, snapState(dst))
	})
	t.Run("save", func(t *testing.T) {
		assert.Equal(t, file, saved, "saving the fixture no longer writes %s", path)
	})
}
