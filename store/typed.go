package store

import (
	"context"
	"errors"
	"time"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/store/internal/flight"
)

// Typed is a Store of values of type V, encoded by a shardcache.Codec. It is
// safe for concurrent use (as safe as its Store and Codec are); its zero
// value is not usable: create one with NewTyped.
//
// GetOrLoad collapses concurrent misses of one key in this process into one
// load. Other processes sharing the backend may load the same key at the
// same time: Typed does not lock across processes.
type Typed[V any] struct {
	s     Store
	codec shardcache.Codec[V]
	loads flight.Group[V]
}

// NewTyped returns a Typed over s with codec (shardcache.GobCodec,
// StringCodec, IntCodec, BytesCodec or a Codec of one's own).
func NewTyped[V any](s Store, codec shardcache.Codec[V]) *Typed[V] {
	return &Typed[V]{s: s, codec: codec}
}

// Store returns the Store t reads and writes.
func (t *Typed[V]) Store() Store { return t.s }

// Get returns the decoded value of key: an error wrapping ErrNotFound if it
// is missing, the Store's error, or a decoding error naming the key.
func (t *Typed[V]) Get(ctx context.Context, key string) (V, error) {
	b, err := t.s.Get(ctx, key)
	if err != nil {
		var zero V
		return zero, err
	}
	v, err := t.codec.Decode(b)
	if err != nil {
		return v, Wrap("store", "decode", key, err)
	}
	return v, nil
}

// Set encodes v and stores it under key for ttl, as Store.Set.
func (t *Typed[V]) Set(ctx context.Context, key string, v V, ttl time.Duration) error {
	b, err := t.codec.Append(nil, v)
	if err != nil {
		return Wrap("store", "encode", key, err)
	}
	return t.s.Set(ctx, key, b, ttl)
}

// Delete removes key, as Store.Delete.
func (t *Typed[V]) Delete(ctx context.Context, key string) error { return t.s.Delete(ctx, key) }

// GetOrLoad returns the value of key, calling load and storing its result
// with the ttl it returns when the key is missing (a negative ttl returns the
// value without storing it). However many goroutines of this process ask for
// one missing key at once, one of them runs load; the others wait for its
// result or for their own ctx, whichever comes first. If the load failed only
// because its caller's ctx ended, a waiter whose ctx is alive loads again.
//
// An error from the Store's Get other than ErrNotFound is returned without
// loading, so that a backend outage does not become a stampede on whatever
// load calls. A load error is returned to every waiter, and a panic in load
// becomes an error wrapping shardcache.ErrLoaderPanic. If storing the loaded
// value fails, GetOrLoad returns the value together with that error.
func (t *Typed[V]) GetOrLoad(ctx context.Context, key string, load shardcache.LoadFunc[string, V]) (V, error) {
	v, err := t.Get(ctx, key)
	if !errors.Is(err, ErrNotFound) {
		return v, err
	}
	v, err = t.loads.Do(ctx, key, func(ctx context.Context) (V, error) {
		v, ttl, err := load(ctx, key)
		if err != nil || ttl < 0 {
			return v, err
		}
		return v, t.Set(ctx, key, v, ttl)
	})
	if err != nil {
		var se *Error
		if !errors.As(err, &se) {
			err = Wrap("store", "get-or-load", key, err)
		}
	}
	return v, err
}
