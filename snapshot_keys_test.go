package shardcache

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Keys compared by identity (pointers, channels, unsafe.Pointer, and
// arrays and structs holding one) cannot be saved: a loaded key is a new
// pointer or channel, equal to no key the program holds, so every loaded
// entry would be unreachable. Saving such keys must fail before anything
// is written.

type ptrField struct {
	Name string
	P    *int
}

type nestedChan struct {
	A [2]struct{ C chan int }
}

type blankPtr struct {
	N int
	_ *int // blank fields take no part in ==
}

type anyField struct{ X any }

// chanCodec "encodes" a channel as nothing and decodes a new one: what a
// codec for an identity-only key can at best do.
type chanCodec struct{}

func (chanCodec) Append(dst []byte, _ chan int) ([]byte, error) { return dst, nil }
func (chanCodec) Decode([]byte) (chan int, error)               { return make(chan int), nil }

// saveRefused checks that c refuses to save, through SaveTo and SaveFile,
// with an error wrapping ErrUnsupportedKey that contains want, writing
// nothing.
func saveRefused[K comparable, V any](t *testing.T, c *Cache[K, V], want string) {
	t.Helper()
	var buf bytes.Buffer
	err := c.SaveTo(&buf)
	require.ErrorIs(t, err, ErrUnsupportedKey)
	assert.ErrorContains(t, err, want)
	assert.Zero(t, buf.Len(), "nothing may be written")

	dir := t.TempDir()
	err = c.SaveFile(filepath.Join(dir, "cache.snap"))
	require.ErrorIs(t, err, ErrUnsupportedKey)
	ents, rerr := os.ReadDir(dir)
	require.NoError(t, rerr)
	assert.Empty(t, ents, "SaveFile may create nothing")
}

// saveAccepted checks that c saves and loads back to the same entries.
func saveAccepted[K comparable, V any](t *testing.T, c *Cache[K, V]) {
	t.Helper()
	dst := newManual(t, Config[K, V]{})
	require.NoError(t, dst.loadVerified(bytes.NewReader(snapBytes(t, c))))
	assert.Equal(t, snapState(c), snapState(dst))
}

func TestSaveRefusesIdentityKeys(t *testing.T) {
	x := 1
	t.Run("pointer", func(t *testing.T) {
		c := newManual(t, Config[*int, int]{})
		c.Set(&x, 1)
		saveRefused(t, c, "*int")
		saveRefused(t, newManual(t, Config[*int, int]{}), "*int") // decided by the type, even empty
	})
	t.Run("channel", func(t *testing.T) {
		c := newManual(t, Config[chan int, int]{KeyCodec: chanCodec{}})
		c.Set(make(chan int), 1)
		saveRefused(t, c, "chan int")
	})
	t.Run("unsafe.Pointer", func(t *testing.T) {
		c := newManual(t, Config[unsafe.Pointer, int]{})
		c.Set(unsafe.Pointer(&x), 1)
		saveRefused(t, c, "unsafe.Pointer")
	})
	t.Run("struct field", func(t *testing.T) {
		c := newManual(t, Config[ptrField, int]{})
		c.Set(ptrField{"a", &x}, 1)
		saveRefused(t, c, "*int")
	})
	t.Run("array in struct", func(t *testing.T) {
		c := newManual(t, Config[nestedChan, int]{})
		c.Set(nestedChan{}, 1)
		saveRefused(t, c, "chan int")
	})
	t.Run("array", func(t *testing.T) {
		c := newManual(t, Config[[2]*int, int]{})
		c.Set([2]*int{&x, nil}, 1)
		saveRefused(t, c, "*int")
	})
	t.Run("interface holding a pointer", func(t *testing.T) {
		c := newManual(t, Config[any, int]{})
		c.Set("fine", 1)
		c.Set(&x, 2)
		saveRefused(t, c, "*int")
	})
	t.Run("interface holding a struct with a pointer", func(t *testing.T) {
		c := newManual(t, Config[any, int]{})
		c.Set(ptrField{"a", nil}, 1)
		saveRefused(t, c, "*int")
	})
	t.Run("struct field interface holding a pointer", func(t *testing.T) {
		c := newManual(t, Config[anyField, int]{})
		c.Set(anyField{"fine"}, 1)
		c.Set(anyField{&x}, 2)
		saveRefused(t, c, "*int")
	})

	t.Run("checked while encoding too", func(t *testing.T) {
		// A key set after the check that precedes the save is caught as
		// it is encoded; saveWith skips that check.
		c := newManual(t, Config[any, int]{})
		c.Set(&x, 1)
		for _, workers := range []int{1, 3} {
			err := c.saveWith(io.Discard, c.Len(), workers)
			require.ErrorIs(t, err, ErrUnsupportedKey)
			assert.EqualError(t, err, "shardcache: unsupported snapshot key: a key of type interface {} holds *int, "+
				"a pointer, compared by identity: a loaded key would equal no key of the program")
		}
	})

	// Keys compared by value save as before.
	t.Run("interface holding values", func(t *testing.T) {
		c := newManual(t, Config[any, int]{})
		c.Set("s", 1)
		c.Set(7, 2)
		c.Set(nil, 3)
		saveAccepted(t, c)
	})
	t.Run("struct field interface holding a value", func(t *testing.T) {
		c := newManual(t, Config[anyField, int]{})
		c.Set(anyField{"s"}, 1)
		c.Set(anyField{}, 2)
		saveAccepted(t, c)
	})
	t.Run("blank pointer field", func(t *testing.T) {
		c := newManual(t, Config[blankPtr, int]{})
		c.Set(blankPtr{N: 3}, 1)
		saveAccepted(t, c)
	})
	t.Run("empty array of pointers", func(t *testing.T) {
		c := newManual(t, Config[[0]*int, int]{})
		c.Set([0]*int{}, 1)
		saveAccepted(t, c)
	})
}

// TestSnapshotPathRefusesIdentityKeys: a key type no snapshot can hold is
// refused by New when SnapshotPath is set, rather than by Close, after the
// entries are gone. Interface keys are decided per key and stay allowed.
func TestSnapshotPathRefusesIdentityKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.snap")
	_, err := New(Config[*int, int]{SnapshotPath: path})
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.ErrorIs(t, err, ErrUnsupportedKey)
	assert.ErrorContains(t, err, "SnapshotPath")
	assert.ErrorContains(t, err, "*int")
	_, err = New(Config[ptrField, int]{SnapshotPath: path, SnapshotEvery: time.Hour})
	require.ErrorIs(t, err, ErrUnsupportedKey)

	c, err := New(Config[any, int]{SnapshotPath: path})
	require.NoError(t, err, "interface keys are checked per key, at save")
	c.Set("a", 1)
	require.NoError(t, c.Close())
	_, err = os.Stat(path)
	require.NoError(t, err, "Close saved the interface-keyed cache")
}
