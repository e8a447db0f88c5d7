package shardcache

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadRefused checks that snap is refused by both loaders of c with an
// error wrapping ErrSnapshotType whose message is want, and that c is left
// as it was.
func loadRefused[K comparable, V any](t *testing.T, c *Cache[K, V], snap []byte, want string) {
	t.Helper()
	before := snapState(c)
	err := c.LoadFrom(bytes.NewReader(snap))
	require.ErrorIs(t, err, ErrSnapshotType)
	assert.NotErrorIs(t, err, ErrCorruptSnapshot)
	assert.EqualError(t, err, want)
	assert.Equal(t, before, snapState(c), "LoadFrom stored entries of a snapshot it refused")

	path := filepath.Join(t.TempDir(), "cache.snap")
	require.NoError(t, os.WriteFile(path, snap, 0o600))
	err = c.LoadFile(path)
	require.ErrorIs(t, err, ErrSnapshotType)
	assert.EqualError(t, err, want)
	assert.Equal(t, before, snapState(c), "LoadFile stored entries of a snapshot it refused")
}

func TestLoadChecksTypes(t *testing.T) {
	ints := newManual(t, Config[int, int]{})
	for i := range 100 {
		ints.Set(i, -i)
	}
	intSnap := snapBytes(t, ints)

	t.Run("key and value types", func(t *testing.T) {
		c := newManual(t, Config[string, []byte]{})
		c.Set("live", []byte("x"))
		loadRefused(t, c, intSnap, "shardcache: snapshot type mismatch: "+
			"the snapshot holds int keys and int values, the cache wants string keys and []uint8 values")
	})
	t.Run("value type", func(t *testing.T) {
		c := newManual(t, Config[int, uint]{})
		loadRefused(t, c, intSnap, "shardcache: snapshot type mismatch: "+
			"the snapshot holds int keys and int values, the cache wants int keys and uint values")
	})
	t.Run("named type", func(t *testing.T) {
		src := newManual(t, Config[snapUser, string]{KeyCodec: StringCodec[snapUser]()})
		src.Set("ann", "a")
		c := newManual(t, Config[string, string]{})
		loadRefused(t, c, snapBytes(t, src), "shardcache: snapshot type mismatch: "+
			"the snapshot holds shardcache.snapUser keys and string values, the cache wants string keys and string values")
	})
	t.Run("value codec", func(t *testing.T) {
		var appends int
		src := newManual(t, Config[string, int]{ValueCodec: countingCodec{&appends}})
		src.Set("a", 1)
		c := newManual(t, Config[string, int]{})
		loadRefused(t, c, snapBytes(t, src), "shardcache: snapshot type mismatch: "+
			"the snapshot holds string keys (codec string) and int values (codec shardcache.countingCodec), "+
			"the cache wants string keys (codec string) and int values (codec varint)")
	})
	t.Run("same types load", func(t *testing.T) {
		c := newManual(t, Config[int, int]{})
		require.NoError(t, c.loadVerified(bytes.NewReader(intSnap)))
		assert.Equal(t, snapState(ints), snapState(c))
	})
}
