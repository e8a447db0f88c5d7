// Package memory is the store.Store of the embedded shardcache engine: no
// network, no serialisation, for tests and for services that run on one
// node.
package memory

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/store"
)

const name = "memory"

// clockTick is the engine's clock resolution: an entry may be seen expired
// up to one tick before its deadline as measured by time.Now, so Set adds a
// tick to every ttl to honour "never earlier".
const clockTick = time.Millisecond

// Store is a store.Store over a shardcache.Cache. It is safe for concurrent
// use. It copies values in and out, so callers may reuse what they pass to
// Set and change what Get returns; a hit costs one engine Get and one copy.
// ctx is checked once at the start of each call: nothing here blocks.
type Store struct {
	c      *shardcache.Cache[string, []byte]
	closed atomic.Bool
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.ItemGetter = (*Store)(nil)
)

// New returns a Store over a new engine configured by cfg (bounds, policy,
// OnRemove...). cfg.DefaultTTL is not used: every write has its own ttl. It
// returns the engine's error, wrapping shardcache.ErrInvalidConfig, for a
// Config the engine refuses.
func New(cfg shardcache.Config[string, []byte]) (*Store, error) {
	c, err := shardcache.New(cfg)
	if err != nil {
		return nil, store.Wrap(name, "new", "", err)
	}
	return &Store{c: c}, nil
}

// Cache returns the engine under s, for its statistics and methods the
// Store interface lacks. Writing through it bypasses the copies s makes.
func (s *Store) Cache() *shardcache.Cache[string, []byte] { return s.c }

// check returns the error a call must fail with before it starts, if any.
func (s *Store) check(ctx context.Context, op, key string) error {
	if s.closed.Load() {
		return store.Wrap(name, op, key, store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return store.Wrap(name, op, key, err)
	}
	return nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.check(ctx, "get", key); err != nil {
		return nil, err
	}
	v, ok := s.c.Get(key)
	if !ok {
		return nil, store.Wrap(name, "get", key, store.ErrNotFound)
	}
	return store.Clone(v), nil
}

// GetItem implements store.ItemGetter: the value and its time left, read
// together under one lock.
func (s *Store) GetItem(ctx context.Context, key string) (store.Item, error) {
	if err := s.check(ctx, "get-item", key); err != nil {
		return store.Item{}, err
	}
	e, ok := s.c.GetEntry(key)
	if !ok {
		return store.Item{}, store.Wrap(name, "get-item", key, store.ErrNotFound)
	}
	return store.Item{Key: key, Value: store.Clone(e.Value), TTL: e.TTL}, nil
}

// GetItems implements store.ItemGetter.
func (s *Store) GetItems(ctx context.Context, keys []string) ([]store.Item, error) {
	if err := s.check(ctx, "get-items", ""); err != nil {
		return nil, err
	}
	items := make([]store.Item, 0, len(keys))
	for _, k := range keys {
		if e, ok := s.c.GetEntry(k); ok {
			items = append(items, store.Item{Key: k, Value: store.Clone(e.Value), TTL: e.TTL})
		}
	}
	return items, nil
}

// Set implements store.Store. An entry the engine refuses (a cost above
// MaxCost, or one TinyLFU admission turns away) is not an error: a cache
// may drop what it holds at any time.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.check(ctx, "set", key); err != nil {
		return err
	}
	if err := store.CheckKey(key); err != nil {
		return store.Wrap(name, "set", key, err)
	}
	if err := store.CheckTTL(ttl); err != nil {
		return store.Wrap(name, "set", key, err)
	}
	s.c.SetWithTTL(key, store.Clone(value), engineTTL(ttl))
	return nil
}

// engineTTL rounds ttl up by the engine's clock tick (see clockTick).
func engineTTL(ttl time.Duration) time.Duration {
	if ttl == 0 || ttl > 1<<62 {
		return ttl
	}
	return ttl + clockTick
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, "delete", key); err != nil {
		return err
	}
	s.c.Delete(key)
	return nil
}

// GetMany implements store.Store.
func (s *Store) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	if err := s.check(ctx, "get-many", ""); err != nil {
		return nil, err
	}
	m := make(map[string][]byte, len(keys))
	for _, k := range keys {
		if v, ok := s.c.Get(k); ok {
			m[k] = store.Clone(v)
		}
	}
	return m, nil
}

// SetMany implements store.Store. It is not atomic: a concurrent reader may
// see some items stored before others.
func (s *Store) SetMany(ctx context.Context, items []store.Item) error {
	if err := s.check(ctx, "set-many", ""); err != nil {
		return err
	}
	if err := store.CheckItems(name, "set-many", items); err != nil {
		return err
	}
	for _, it := range items {
		s.c.SetWithTTL(it.Key, store.Clone(it.Value), engineTTL(it.TTL))
	}
	return nil
}

// TTL implements store.Store, to the engine's millisecond resolution.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.check(ctx, "ttl", key); err != nil {
		return 0, err
	}
	ttl, ok := s.c.TTL(key)
	if !ok {
		return 0, store.Wrap(name, "ttl", key, store.ErrNotFound)
	}
	return ttl, nil
}

// Close closes the engine, dropping every entry. It is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return store.Wrap(name, "close", "", s.c.Close())
}
