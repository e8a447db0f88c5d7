package shardcache

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
)

// Codec turns keys or values of type T into bytes and back, for snapshots
// (SaveTo, LoadFrom). Config.KeyCodec and Config.ValueCodec take one; nil
// picks the built-in codec for the type (see Config.KeyCodec).
//
// A Codec is called concurrently from several goroutines (a save and a load
// may run at the same time), so it must be safe for concurrent use; the
// built-in codecs are stateless.
type Codec[T any] interface {
	// Append appends the encoding of v to dst and returns the extended
	// slice, like strconv.AppendInt. It must not keep dst.
	Append(dst []byte, v T) ([]byte, error)

	// Decode returns the value whose encoding is exactly src. The loader
	// reuses src's memory afterwards, so Decode must copy whatever it keeps.
	// Snapshot bytes come from disk and may be damaged (only checksums
	// vouch for them), so Decode must return an error for input it does not
	// recognise, never panic, and never allocate more than its input
	// justifies.
	Decode(src []byte) (T, error)
}

// codecChecker is implemented by the built-in codecs whose Decode can be
// checked without building a value: LoadFile's verification pass calls check
// instead of Decode, so verifying a file of strings and byte slices costs no
// allocation per entry.
type codecChecker interface {
	check(src []byte) error
}

// prefetcher is implemented by the built-in codecs whose values point at
// bytes: prefetch reads the first and last of them, so that a save can pull
// them into cache ahead of encoding (see prefetch in snapshot_save.go).
type prefetcher[T any] interface {
	prefetch(v T) byte
}

// checkDecode validates src for codec c: check if c has one, else a full
// Decode whose result is dropped.
func checkDecode[T any](c Codec[T], src []byte) error {
	if ck, ok := c.(codecChecker); ok {
		return ck.check(src)
	}
	_, err := c.Decode(src)
	return err
}

// defaultCodec returns the codec New uses for T when the Config leaves it
// nil: the string, byte-slice and integer codecs below for exactly those
// types, fixed-width codecs for bool, float32 and float64, and GobCodec for
// every other type (named string and integer types included: pass
// StringCodec or IntCodec for those). The type switch runs once, in New.
func defaultCodec[T any]() Codec[T] {
	var zero T
	var c any
	switch any(zero).(type) {
	case string:
		c = StringCodec[string]()
	case []byte:
		c = BytesCodec[[]byte]()
	case int:
		c = IntCodec[int]()
	case int8:
		c = IntCodec[int8]()
	case int16:
		c = IntCodec[int16]()
	case int32:
		c = IntCodec[int32]()
	case int64:
		c = IntCodec[int64]()
	case uint:
		c = IntCodec[uint]()
	case uint8:
		c = IntCodec[uint8]()
	case uint16:
		c = IntCodec[uint16]()
	case uint32:
		c = IntCodec[uint32]()
	case uint64:
		c = IntCodec[uint64]()
	case uintptr:
		c = IntCodec[uintptr]()
	case bool:
		c = boolCodec{}
	case float64:
		c = float64Codec{}
	case float32:
		c = float32Codec{}
	default:
		return GobCodec[T]()
	}
	return c.(Codec[T])
}

// StringCodec returns the codec for string-kinded T: the bytes of the
// string, unchanged. It is the default for string; pass it explicitly for a
// named string type (type UserID string), which would otherwise get
// GobCodec. Decode costs one allocation (the string).
func StringCodec[T ~string]() Codec[T] { return stringCodec[T]{} }

type stringCodec[T ~string] struct{}

func (stringCodec[T]) Append(dst []byte, v T) ([]byte, error) { return append(dst, v...), nil }
func (stringCodec[T]) Decode(src []byte) (T, error)           { return T(src), nil }
func (stringCodec[T]) check([]byte) error                     { return nil }
func (stringCodec[T]) name() string                           { return "string" }
func (stringCodec[T]) prefetch(v T) byte {
	if len(v) == 0 {
		return 0
	}
	return v[0] ^ v[len(v)-1]
}

// BytesCodec returns the codec for byte-slice-kinded T: the bytes,
// unchanged. It is the default for []byte. Decode returns a fresh slice
// whose capacity equals its length (one allocation), so appending to one
// loaded value never writes into another; an empty slice, nil or not, loads
// as an empty non-nil slice.
func BytesCodec[T ~[]byte]() Codec[T] { return bytesCodec[T]{} }

type bytesCodec[T ~[]byte] struct{}

func (bytesCodec[T]) Append(dst []byte, v T) ([]byte, error) { return append(dst, v...), nil }
func (bytesCodec[T]) Decode(src []byte) (T, error) {
	if len(src) == 0 {
		return T{}, nil
	}
	v := make(T, len(src))
	copy(v, src)
	return v, nil
}
func (bytesCodec[T]) check([]byte) error { return nil }
func (bytesCodec[T]) name() string       { return "bytes" }
func (bytesCodec[T]) prefetch(v T) byte {
	if len(v) == 0 {
		return 0
	}
	return v[0] ^ v[len(v)-1]
}

// IntCodec returns the codec for integer-kinded T: a varint (zig-zag for
// signed types, as encoding/binary.AppendVarint), so small numbers take one
// byte and a snapshot written on a 64-bit machine loads on a 32-bit one
// whenever the numbers fit. It is the default for the built-in integer
// types; pass it explicitly for a named one. Decode refuses a number that
// does not fit in T, and never allocates.
func IntCodec[T ~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr]() Codec[T] {
	return intCodec[T]{signed: ^T(0) < 0}
}

type intCodec[T ~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr] struct {
	signed bool
}

func (c intCodec[T]) Append(dst []byte, v T) ([]byte, error) {
	if c.signed {
		return binary.AppendVarint(dst, int64(v)), nil
	}
	return binary.AppendUvarint(dst, uint64(v)), nil
}

func (c intCodec[T]) Decode(src []byte) (T, error) {
	if c.signed {
		x, n := binary.Varint(src)
		if n <= 0 || n != len(src) {
			return 0, fmt.Errorf("shardcache: IntCodec: %d bytes are not one varint", len(src))
		}
		if v := T(x); int64(v) == x {
			return v, nil
		}
		return 0, fmt.Errorf("shardcache: IntCodec: %d overflows %T", x, T(0))
	}
	x, n := binary.Uvarint(src)
	if n <= 0 || n != len(src) {
		return 0, fmt.Errorf("shardcache: IntCodec: %d bytes are not one uvarint", len(src))
	}
	if v := T(x); uint64(v) == x {
		return v, nil
	}
	return 0, fmt.Errorf("shardcache: IntCodec: %d overflows %T", x, T(0))
}

func (c intCodec[T]) name() string {
	if c.signed {
		return "varint"
	}
	return "uvarint"
}

func (c intCodec[T]) check(src []byte) error {
	_, err := c.Decode(src)
	return err
}

// boolCodec stores a bool as one byte, 0 or 1.
type boolCodec struct{}

func (boolCodec) Append(dst []byte, v bool) ([]byte, error) {
	if v {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}

func (boolCodec) Decode(src []byte) (bool, error) {
	if len(src) != 1 || src[0] > 1 {
		return false, errors.New("shardcache: bool codec: want one byte, 0 or 1")
	}
	return src[0] == 1, nil
}

func (boolCodec) name() string { return "bool" }

func (c boolCodec) check(src []byte) error {
	_, err := c.Decode(src)
	return err
}

// float64Codec stores the IEEE 754 bits, little-endian; NaN payloads and
// the sign of zero survive.
type float64Codec struct{}

func (float64Codec) Append(dst []byte, v float64) ([]byte, error) {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v)), nil
}

func (float64Codec) Decode(src []byte) (float64, error) {
	if len(src) != 8 {
		return 0, fmt.Errorf("shardcache: float64 codec: want 8 bytes, got %d", len(src))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(src)), nil
}

func (float64Codec) name() string { return "float64" }

func (c float64Codec) check(src []byte) error {
	_, err := c.Decode(src)
	return err
}

// float32Codec stores the IEEE 754 bits, little-endian.
type float32Codec struct{}

func (float32Codec) Append(dst []byte, v float32) ([]byte, error) {
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(v)), nil
}

func (float32Codec) Decode(src []byte) (float32, error) {
	if len(src) != 4 {
		return 0, fmt.Errorf("shardcache: float32 codec: want 4 bytes, got %d", len(src))
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(src)), nil
}

func (float32Codec) name() string { return "float32" }

func (c float32Codec) check(src []byte) error {
	_, err := c.Decode(src)
	return err
}

// GobCodec returns a codec that encodes each value with encoding/gob, on its
// own: every encoding carries its type description, so any record decodes
// without the ones before it. It is the default for types without a
// built-in codec. It works for any type gob can encode (exported fields;
// interface values need gob.Register), but costs microseconds and several
// allocations per value and tens of bytes of type description: supply a
// Codec for a type that is saved often.
func GobCodec[T any]() Codec[T] { return gobCodec[T]{} }

type gobCodec[T any] struct{}

func (gobCodec[T]) name() string { return "gob" }

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (gobCodec[T]) Append(dst []byte, v T) ([]byte, error) {
	w := appendWriter{b: dst}
	// Encoding through a pointer makes an interface-typed T encode as an
	// interface (its concrete type must be registered), matching Decode.
	if err := gob.NewEncoder(&w).Encode(&v); err != nil {
		return dst, fmt.Errorf("shardcache: GobCodec: %w", err)
	}
	return w.b, nil
}

func (gobCodec[T]) Decode(src []byte) (T, error) {
	var v T
	r := bytes.NewReader(src)
	if err := gob.NewDecoder(r).Decode(&v); err != nil {
		var zero T
		return zero, fmt.Errorf("shardcache: GobCodec: %w", err)
	}
	if r.Len() != 0 {
		var zero T
		return zero, fmt.Errorf("shardcache: GobCodec: %d bytes after the value", r.Len())
	}
	return v, nil
}
