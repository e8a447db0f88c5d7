package shardcache

import (
	"encoding/binary"
	"fmt"
	"reflect"

	"github.com/shardcache/shardcache/internal/frame"
)

// A snapshot's bytes mean something only to a cache with the same key and
// value types and codecs: an int's varint decodes as a one-byte string
// without complaint. From format version 2 on, the header's metadata
// records the cache's type identity, and a load refuses a snapshot whose
// identity is not the loading cache's (ErrSnapshotType) before it stores
// anything. Version 1 snapshots carry none and load unchecked.

// snapIdent is a cache's type identity as a snapshot records it: the key
// and value types as reflect prints them ("int", "[]uint8",
// "main.UserID"), and the names of their codecs: a built-in codec's own
// ("string", "varint", "gob", ...), or a custom Codec's Go type.
type snapIdent struct {
	keyType, valueType   string
	keyCodec, valueCodec string
}

// namedCodec is implemented by the built-in codecs: name is what a
// snapshot records for them.
type namedCodec interface {
	name() string
}

func newSnapIdent[K comparable, V any](keys Codec[K], values Codec[V]) snapIdent {
	return snapIdent{
		keyType:    reflect.TypeFor[K]().String(),
		valueType:  reflect.TypeFor[V]().String(),
		keyCodec:   codecName(keys),
		valueCodec: codecName(values),
	}
}

// codecName returns what a snapshot records for codec c, which must not be
// wrapped by pickCodec yet.
func codecName[T any](c Codec[T]) string {
	if n, ok := c.(namedCodec); ok {
		return n.name()
	}
	return reflect.TypeOf(c).String()
}

// fields returns the identity's fields in the order the metadata stores them.
func (id *snapIdent) fields() []*string {
	return []*string{&id.keyType, &id.valueType, &id.keyCodec, &id.valueCodec}
}

// appendMeta appends the header metadata recording id: its four fields,
// each a uvarint length and that many bytes.
func (id snapIdent) appendMeta(dst []byte) []byte {
	for _, f := range id.fields() {
		dst = binary.AppendUvarint(dst, uint64(len(*f)))
		dst = append(dst, *f...)
	}
	return dst
}

// parseMeta returns the identity that header metadata b records. b comes
// from a header whose checksum matched, but is checked all the same.
func parseMeta(b []byte) (snapIdent, error) {
	var id snapIdent
	for i, f := range id.fields() {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return snapIdent{}, corrupt("header metadata: field %d is malformed", i+1)
		}
		*f = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) != 0 {
		return snapIdent{}, corrupt("header metadata: %d bytes after the last field", len(b))
	}
	return id, nil
}

// checkIdent returns an error wrapping ErrSnapshotType unless a snapshot
// recording h's identity can be loaded by the cache with identity want.
// A version 1 header records none: it passes.
func checkIdent(h frame.Header, want snapIdent) error {
	if !snapFormat.HasMeta(h.Version) {
		return nil
	}
	got, err := parseMeta(h.Meta)
	if err != nil {
		return err
	}
	switch {
	case got == want:
		return nil
	case got.keyType != want.keyType || got.valueType != want.valueType:
		return fmt.Errorf("%w: the snapshot holds %s keys and %s values, the cache wants %s keys and %s values",
			ErrSnapshotType, got.keyType, got.valueType, want.keyType, want.valueType)
	}
	return fmt.Errorf("%w: the snapshot holds %s keys (codec %s) and %s values (codec %s), "+
		"the cache wants %s keys (codec %s) and %s values (codec %s)", ErrSnapshotType,
		got.keyType, got.keyCodec, got.valueType, got.valueCodec,
		want.keyType, want.keyCodec, want.valueType, want.valueCodec)
}
