// Package memcachestore is the store.Store of Memcached, through
// gomemcache (one server or a pool of them, which gomemcache's selector
// shards keys over).
//
// Memcached holds less than the Store interface promises, so the adapter
// bridges the differences inside:
//
//   - Keys: memcached takes at most 250 bytes without spaces or control
//     characters. Such a key is used as it is; any other (longer, binary,
//     with spaces or newlines, or starting with the reserved "~") is stored
//     under "~" and the unpadded base64url SHA-256 of the key, so every
//     key of 1..4096 bytes works and no two collide in practice.
//   - Expiry: memcached counts whole seconds on a clock that ticks once a
//     second, and reads an expiration over 30 days as a Unix time. The
//     adapter sends ceil(ttl)+1 seconds (as a Unix time beyond 30 days), so
//     memcached never drops a key early, and keeps the exact deadline, in
//     Unix milliseconds, in an 8-byte header before the value; Get and TTL
//     honour that deadline, so a key expires after its ttl to the
//     millisecond and TTL reports the time left to the millisecond.
//   - Values: an item beyond memcached's size limit (-I, 1 MiB by default,
//     which includes the key and the header) gets store.ErrTooLarge. Run
//     memcached with -I 2m or more to store values of a full 1 MiB.
//
// Items are marked with Flags = ItemFlags; an item without that mark (written
// by another client) is read as a bare value without expiry.
//
// gomemcache takes no ctx and bounds each operation by its Client.Timeout
// (500 ms by default) instead, so every call runs on a goroutine of its own
// and returns when ctx ends, leaving that goroutine to finish within the
// client's Timeout.
//
// GetMany is one GetMulti (one "gets" per server). gomemcache has no batched
// store command, so SetMany runs up to 16 Sets at a time on separate
// connections: give the client a MaxIdleConns of 16 or more, or each SetMany
// opens connections anew.
package memcachestore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/shardcache/shardcache/store"
)

const name = "memcachestore"

// ItemFlags marks the items the adapter writes (their value starts with the
// deadline header).
const ItemFlags = 0x53430001

const (
	headerLen       = 8
	maxRelative     = 30 * 24 * 60 * 60 // memcached reads a larger expiration as a Unix time
	setManyParallel = 16
)

// Store is a store.Store over a gomemcache client. It is safe for
// concurrent use. Each call costs one round trip and one goroutine (see the
// package documentation), SetMany one round trip per item, 16 at a time.
type Store struct {
	c      *memcache.Client
	closed atomic.Bool
	now    func() time.Time
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.ItemGetter = (*Store)(nil)
)

// New returns a Store over client. The Store owns the client: Close closes
// its connections.
func New(client *memcache.Client) *Store {
	return &Store{c: client, now: time.Now}
}

// Client returns the client under s.
func (s *Store) Client() *memcache.Client { return s.c }

// Key returns the memcached key under which s stores key (see the package
// documentation).
func Key(key string) string {
	if len(key) <= 250 && !strings.HasPrefix(key, "~") && legal(key) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "~" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func legal(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] == 0x7f {
			return false
		}
	}
	return true
}

// do runs fn on a goroutine and returns its error, or ctx's if ctx ends
// first, after the checks every call makes. fn may then still be running:
// callers read what fn writes only when do returns nil.
func (s *Store) do(ctx context.Context, op, key string, fn func() error) error {
	if s.closed.Load() {
		return store.Wrap(name, op, key, store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return store.Wrap(name, op, key, err)
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return wrap(op, key, err)
	case <-ctx.Done():
		return store.Wrap(name, op, key, ctx.Err())
	}
}

func wrap(op, key string, err error) error {
	var done *store.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &done):
		return err
	case errors.Is(err, memcache.ErrCacheMiss):
		err = store.ErrNotFound
	case strings.Contains(err.Error(), "too large"):
		// "SERVER_ERROR object too large for cache"
		err = errors.Join(store.ErrTooLarge, err)
	}
	return store.Wrap(name, op, key, err)
}

// encode returns the item memcached stores for key.
func (s *Store) encode(key string, value []byte, ttl time.Duration) *memcache.Item {
	v := make([]byte, headerLen+len(value))
	copy(v[headerLen:], value)
	it := &memcache.Item{Key: Key(key), Value: v, Flags: ItemFlags}
	if ttl > 0 {
		now := s.now()
		binary.BigEndian.PutUint64(v, uint64(now.Add(ttl).UnixMilli()))
		secs := int64((ttl+time.Second-1)/time.Second) + 1
		if secs > maxRelative {
			secs += now.Unix()
		}
		if secs <= 1<<31-1 {
			it.Expiration = int32(secs)
		} // else beyond 2038: no expiry in memcached, the header's deadline holds
	}
	return it
}

// decode returns the value and time left of an item, and false if its
// deadline has passed.
func (s *Store) decode(it *memcache.Item) (value []byte, ttl time.Duration, ok bool) {
	if it.Flags != ItemFlags || len(it.Value) < headerLen {
		return store.Clone(it.Value), 0, true
	}
	if d := int64(binary.BigEndian.Uint64(it.Value)); d != 0 {
		ttl = time.UnixMilli(d).Sub(s.now())
		if ttl <= 0 {
			return nil, 0, false
		}
	}
	return it.Value[headerLen:], ttl, true
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	it, err := s.GetItem(ctx, key)
	return it.Value, err
}

// GetItem implements store.ItemGetter: the time left comes from the item's
// header, so it costs what Get costs.
func (s *Store) GetItem(ctx context.Context, key string) (store.Item, error) {
	item := store.Item{Key: key}
	err := s.do(ctx, "get", key, func() error {
		it, err := s.c.Get(Key(key))
		if err != nil {
			return err
		}
		var ok bool
		if item.Value, item.TTL, ok = s.decode(it); !ok {
			return memcache.ErrCacheMiss
		}
		return nil
	})
	if err != nil {
		return store.Item{}, err
	}
	return item, nil
}

// GetItems implements store.ItemGetter with one GetMulti.
func (s *Store) GetItems(ctx context.Context, keys []string) ([]store.Item, error) {
	var items []store.Item
	err := s.do(ctx, "get-many", "", func() error {
		if len(keys) == 0 {
			return nil
		}
		mk := make([]string, len(keys))
		for i, k := range keys {
			mk[i] = Key(k)
		}
		got, err := s.c.GetMulti(mk)
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(got))
		for i, k := range keys {
			if it, ok := got[mk[i]]; ok && !seen[k] {
				seen[k] = true
				if v, ttl, live := s.decode(it); live {
					items = append(items, store.Item{Key: k, Value: v, TTL: ttl})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err // items may still be written by the abandoned call
	}
	return items, nil
}

// GetMany implements store.Store with one GetMulti.
func (s *Store) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	items, err := s.GetItems(ctx, keys)
	if err != nil {
		return nil, err
	}
	m := make(map[string][]byte, len(items))
	for _, it := range items {
		m[it.Key] = it.Value
	}
	return m, nil
}

// Set implements store.Store.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := store.CheckKey(key); err != nil {
		return store.Wrap(name, "set", key, err)
	}
	if err := store.CheckTTL(ttl); err != nil {
		return store.Wrap(name, "set", key, err)
	}
	it := s.encode(key, value, ttl)
	return s.do(ctx, "set", key, func() error { return s.c.Set(it) })
}

// SetMany implements store.Store, 16 Sets at a time.
func (s *Store) SetMany(ctx context.Context, items []store.Item) error {
	if err := store.CheckItems(name, "set-many", items); err != nil {
		return err
	}
	enc := make([]*memcache.Item, len(items))
	for i, it := range items {
		enc[i] = s.encode(it.Key, it.Value, it.TTL)
	}
	return s.do(ctx, "set-many", "", func() error {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			first error
			next  atomic.Int64
		)
		for range min(setManyParallel, len(enc)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(enc) || ctx.Err() != nil {
						return
					}
					if err := s.c.Set(enc[i]); err != nil {
						mu.Lock()
						if first == nil {
							first = wrap("set", items[i].Key, err)
						}
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		return first
	})
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.do(ctx, "delete", key, func() error {
		if err := s.c.Delete(Key(key)); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
			return err
		}
		return nil
	})
}

// TTL implements store.Store. Memcached cannot report an item's
// expiration, so TTL reads the item and its header: it costs a Get.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	it, err := s.GetItem(ctx, key)
	if err != nil {
		var se *store.Error
		if errors.As(err, &se) {
			se.Op = "ttl"
		}
		return 0, err
	}
	return it.TTL, nil
}

// Close closes the client's idle connections. It is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return store.Wrap(name, "close", "", s.c.Close())
}
