package shardcache

import (
	"bytes"
	"encoding/gob"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// codecRoundTrip encodes every value after a prefix (codecs append), decodes
// it back and compares; the prefix must survive untouched.
func codecRoundTrip[T any](t *testing.T, c Codec[T], values ...T) {
	t.Helper()
	for _, v := range values {
		prefix := []byte("prefix")
		b, err := c.Append(bytes.Clone(prefix), v)
		require.NoError(t, err, "%v", v)
		require.Equal(t, prefix, b[:len(prefix)], "Append must keep dst")
		enc := b[len(prefix):]
		got, err := c.Decode(enc)
		require.NoError(t, err, "%v", v)
		assert.Equal(t, v, got)
		assert.NoError(t, checkDecode(c, enc))
	}
}

func TestCodecsRoundTrip(t *testing.T) {
	codecRoundTrip(t, defaultCodec[string](), "", "a", "héllo, 世界", string([]byte{0, 0xff, 0x80}))
	codecRoundTrip(t, defaultCodec[[]byte](), []byte{}, []byte("x"), bytes.Repeat([]byte{7}, 1000))
	codecRoundTrip(t, defaultCodec[int](), 0, 1, -1, math.MaxInt, math.MinInt)
	codecRoundTrip(t, defaultCodec[int8](), 0, math.MaxInt8, math.MinInt8)
	codecRoundTrip(t, defaultCodec[int16](), 0, math.MaxInt16, math.MinInt16)
	codecRoundTrip(t, defaultCodec[int32](), 0, math.MaxInt32, math.MinInt32)
	codecRoundTrip(t, defaultCodec[int64](), 0, math.MaxInt64, math.MinInt64)
	codecRoundTrip(t, defaultCodec[uint](), 0, math.MaxUint)
	codecRoundTrip(t, defaultCodec[uint8](), 0, math.MaxUint8)
	codecRoundTrip(t, defaultCodec[uint16](), 0, math.MaxUint16)
	codecRoundTrip(t, defaultCodec[uint32](), 0, math.MaxUint32)
	codecRoundTrip(t, defaultCodec[uint64](), 0, math.MaxUint64)
	codecRoundTrip(t, defaultCodec[uintptr](), 0, 1<<20)
	codecRoundTrip(t, defaultCodec[bool](), true, false)
	codecRoundTrip(t, defaultCodec[float64](), 0, math.Copysign(0, -1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64)
	codecRoundTrip(t, defaultCodec[float32](), 0, -1.5, math.MaxFloat32)

	type user struct {
		Name  string
		Roles map[string]bool
		Next  *int
	}
	seven := 7
	codecRoundTrip(t, defaultCodec[user](), user{}, user{"ann", map[string]bool{"admin": true}, &seven})
	codecRoundTrip(t, defaultCodec[[3]uint16](), [3]uint16{1, 2, 3})
	codecRoundTrip(t, defaultCodec[[]string](), []string{"a", "b"})
}

func TestCodecNaN(t *testing.T) {
	// NaN != NaN, so compare bits: the payload survives.
	nan := math.Float64frombits(0x7ff8_0000_dead_beef)
	b, err := defaultCodec[float64]().Append(nil, nan)
	require.NoError(t, err)
	got, err := defaultCodec[float64]().Decode(b)
	require.NoError(t, err)
	assert.Equal(t, math.Float64bits(nan), math.Float64bits(got))
}

type (
	celsius  int16
	hostname string
	blob     []byte
)

func TestCodecsForNamedTypes(t *testing.T) {
	codecRoundTrip(t, IntCodec[celsius](), -40, 100, math.MinInt16)
	codecRoundTrip(t, StringCodec[hostname](), "example.com")
	codecRoundTrip(t, BytesCodec[blob](), blob("raw"))
	// Without them, named types get gob, which works but is bigger.
	codecRoundTrip(t, defaultCodec[hostname](), "example.com")
	_, isGob := defaultCodec[hostname]().(gobCodec[hostname])
	assert.True(t, isGob)
}

func TestBytesCodecCopies(t *testing.T) {
	c := BytesCodec[[]byte]()
	src := []byte("hello")
	v, err := c.Decode(src)
	require.NoError(t, err)
	src[0] = 'j'
	assert.Equal(t, "hello", string(v), "Decode must not keep src")
	assert.Equal(t, len(v), cap(v))

	empty, err := c.Decode(nil)
	require.NoError(t, err)
	assert.NotNil(t, empty)
	assert.Empty(t, empty)
}

func TestIntCodecAcrossWidths(t *testing.T) {
	// A snapshot written with one integer type loads into another whenever
	// the numbers fit, and is refused when they do not.
	wide := IntCodec[int64]()
	b, err := wide.Append(nil, 100)
	require.NoError(t, err)
	v, err := IntCodec[int8]().Decode(b)
	require.NoError(t, err)
	assert.Equal(t, int8(100), v)

	b, err = wide.Append(nil, 300)
	require.NoError(t, err)
	_, err = IntCodec[int8]().Decode(b)
	assert.ErrorContains(t, err, "overflows int8")

	ub, err := IntCodec[uint64]().Append(nil, 1<<40)
	require.NoError(t, err)
	_, err = IntCodec[uint32]().Decode(ub)
	assert.ErrorContains(t, err, "overflows uint32")
}

func TestCodecsRefuseBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"int empty", decodeErr(IntCodec[int](), nil)},
		{"int unterminated", decodeErr(IntCodec[int](), []byte{0x80, 0x80})},
		{"int trailing", decodeErr(IntCodec[int](), []byte{0x02, 0x00})},
		{"int 11 bytes", decodeErr(IntCodec[uint64](), bytes.Repeat([]byte{0xff}, 11))},
		{"bool 2", decodeErr(defaultCodec[bool](), []byte{2})},
		{"bool long", decodeErr(defaultCodec[bool](), []byte{1, 0})},
		{"float64 short", decodeErr(defaultCodec[float64](), []byte{1, 2, 3})},
		{"float32 long", decodeErr(defaultCodec[float32](), make([]byte, 8))},
		{"gob garbage", decodeErr(GobCodec[struct{ A int }](), []byte("garbage"))},
		{"gob empty", decodeErr(GobCodec[struct{ A int }](), nil)},
		{"gob trailing", decodeErr(GobCodec[int](), append(gobBytes(t, 5), 0))},
		{"gob wrong type", decodeErr(GobCodec[string](), gobBytes(t, 5))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Error(t, tc.err)
			assert.Contains(t, tc.err.Error(), "shardcache: ")
		})
	}
}

func decodeErr[T any](c Codec[T], b []byte) error {
	_, err := c.Decode(b)
	if cerr := checkDecode(c, b); (cerr == nil) != (err == nil) {
		panic("checkDecode disagrees with Decode")
	}
	return err
}

func gobBytes(t *testing.T, v int) []byte {
	b, err := GobCodec[int]().Append(nil, v)
	require.NoError(t, err)
	return b
}

// TestCheckAgreesWithDecode: LoadFile's verification pass uses check where
// a codec has one, so it must accept exactly what Decode accepts.
func TestCheckAgreesWithDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.Uint32())
			if r.IntN(2) == 0 {
				b[i] &= 0x81 // small bytes and continuation bits: valid and invalid varints alike
			}
		}
		agree(t, IntCodec[int8](), b)
		agree(t, IntCodec[int](), b)
		agree(t, IntCodec[uint16](), b)
		agree(t, IntCodec[uint64](), b)
		agree(t, defaultCodec[bool](), b)
		agree(t, defaultCodec[float32](), b)
		agree(t, defaultCodec[float64](), b)
		agree(t, defaultCodec[string](), b)
		agree(t, defaultCodec[[]byte](), b)
	}
}

func agree[T any](t *testing.T, c Codec[T], b []byte) {
	t.Helper()
	_, err := c.Decode(b)
	if cerr := checkDecode(c, b); (cerr == nil) != (err == nil) {
		t.Fatalf("%T on %x: check says %v, Decode says %v", c, b, cerr, err)
	}
}

type shape interface{ Area() float64 }

type square struct{ Side float64 }

func (s square) Area() float64 { return s.Side * s.Side }

func TestGobCodecInterfaces(t *testing.T) {
	gob.Register(square{})
	codecRoundTrip[shape](t, GobCodec[shape](), square{2})

	type unregistered struct{ X int }
	_, err := GobCodec[any]().Append(nil, unregistered{1})
	assert.ErrorContains(t, err, "shardcache: GobCodec")
}
