// Package redisstore is the store.Store of Redis, through go-redis: a single
// server, a Sentinel-managed failover group or a Cluster, and any server that
// speaks Redis's string commands (such as shardcached).
//
// Values are stored as plain Redis strings under the key itself, so other
// Redis clients read and write the same data. TTLs have Redis's millisecond
// resolution (rounded up).
//
// GetMany is one MGET on a single server, and a pipeline of GETs on a
// Cluster or Ring, which go-redis sends to each node at once, one round
// trip per node; SetMany is a pipeline of SETs (with PX for a ttl) likewise.
//
// Invalidator publishes and receives key invalidations over Redis pub/sub,
// for the near-caches of tiered stores in several processes.
package redisstore

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache/store"
)

const name = "redisstore"

// Store is a store.Store over a go-redis client. It is safe for concurrent
// use; each call costs one round trip (GetMany and SetMany: one per node
// they touch), and no goroutine of its own when the client honours ctx
// deadlines (see New).
type Store struct {
	c redis.UniversalClient
	// single: c is one connection pool to one server (a *redis.Client,
	// Sentinel's included), where MGET may span any keys.
	single bool
	// guard: the client does not bound its socket I/O by ctx deadlines,
	// so each call runs on its own goroutine and returns at the deadline.
	guard  bool
	closed atomic.Bool
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.ItemGetter = (*Store)(nil)
)

// New returns a Store over client (redis.NewClient, NewFailoverClient,
// NewClusterClient, NewUniversalClient...). The Store owns the client: Close
// closes it.
//
// Create the client with ContextTimeoutEnabled: true, so that go-redis
// itself bounds every read and write by the ctx deadline. Without it go-redis
// waits for its ReadTimeout (3 s by default) whatever the ctx says, so the
// Store runs each call on a goroutine of its own and returns at the
// deadline, leaving that goroutine to finish (and the connection to be
// closed) within ReadTimeout: correct, but a goroutine per call.
func New(client redis.UniversalClient) *Store {
	s := &Store{c: client, guard: true}
	switch c := client.(type) {
	case *redis.Client:
		s.single, s.guard = true, !c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		s.guard = !c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		s.guard = !c.Options().ContextTimeoutEnabled
	}
	return s
}

// Client returns the client under s.
func (s *Store) Client() redis.UniversalClient { return s.c }

// do runs fn with ctx after the checks every call makes first, bounding it
// by ctx when the client would not (see New). When do returns ctx's error
// early, fn may still be running: callers read what fn writes only when do
// returns nil.
func (s *Store) do(ctx context.Context, op, key string, fn func(ctx context.Context) error) error {
	if s.closed.Load() {
		return store.Wrap(name, op, key, store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return store.Wrap(name, op, key, err)
	}
	if !s.guard || ctx.Done() == nil {
		return s.wrap(op, key, fn(ctx))
	}
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		return s.wrap(op, key, err)
	case <-ctx.Done():
		return store.Wrap(name, op, key, ctx.Err())
	}
}

func (s *Store) wrap(op, key string, err error) error {
	var done *store.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &done):
		return err // already names its key
	case errors.Is(err, redis.Nil):
		err = store.ErrNotFound
	case errors.Is(err, redis.ErrClosed) && s.closed.Load():
		err = store.ErrClosed
	}
	return store.Wrap(name, op, key, err)
}

// Get implements store.Store with GET.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.do(ctx, "get", key, func(ctx context.Context) (err error) {
		v, err = s.c.Get(ctx, key).Bytes()
		return err
	})
	if err != nil {
		return nil, err
	}
	return nonNil(v), nil
}

func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

// pttl turns a PTTL reply, as go-redis gives it, into a TTL: ok is false
// for a missing key.
func pttl(d time.Duration) (ttl time.Duration, ok bool) {
	switch {
	case d == -2: // no such key
		return 0, false
	case d == -1: // no expiry
		return 0, true
	case d <= 0: // expiring this millisecond
		return 0, false
	}
	return d, true
}

// GetItem implements store.ItemGetter with GET and PTTL in one pipeline
// (both go to the key's node).
func (s *Store) GetItem(ctx context.Context, key string) (store.Item, error) {
	it := store.Item{Key: key}
	err := s.do(ctx, "get-item", key, func(ctx context.Context) error {
		var get *redis.StringCmd
		var ttl *redis.DurationCmd
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			get, ttl = p.Get(ctx, key), p.PTTL(ctx, key)
			return nil
		})
		if err != nil {
			return err
		}
		v, _ := get.Bytes()
		d, ok := pttl(ttl.Val())
		if !ok {
			return redis.Nil
		}
		it.Value, it.TTL = nonNil(v), d
		return nil
	})
	if err != nil {
		return store.Item{}, err // it may still be written by an abandoned call
	}
	return it, nil
}

// GetItems implements store.ItemGetter with a pipeline of GET and PTTL per
// key.
func (s *Store) GetItems(ctx context.Context, keys []string) ([]store.Item, error) {
	items := make([]store.Item, 0, len(keys))
	err := s.do(ctx, "get-items", "", func(ctx context.Context) error {
		if len(keys) == 0 {
			return nil
		}
		gets := make([]*redis.StringCmd, len(keys))
		ttls := make([]*redis.DurationCmd, len(keys))
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				gets[i], ttls[i] = p.Get(ctx, k), p.PTTL(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, k := range keys {
			v, err := gets[i].Bytes()
			d, ok := pttl(ttls[i].Val())
			if err != nil || !ok || ttls[i].Err() != nil {
				continue
			}
			items = append(items, store.Item{Key: k, Value: nonNil(v), TTL: d})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// redisTTL is ttl rounded up to Redis's millisecond.
func redisTTL(ttl time.Duration) time.Duration {
	if r := ttl % time.Millisecond; r != 0 {
		ttl += time.Millisecond - r
	}
	return ttl
}

// Set implements store.Store with SET, and PX for a ttl.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := store.CheckKey(key); err != nil {
		return store.Wrap(name, "set", key, err)
	}
	if err := store.CheckTTL(ttl); err != nil {
		return store.Wrap(name, "set", key, err)
	}
	return s.do(ctx, "set", key, func(ctx context.Context) error {
		return s.c.Set(ctx, key, value, redisTTL(ttl)).Err()
	})
}

// Delete implements store.Store with DEL.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.do(ctx, "delete", key, func(ctx context.Context) error {
		return s.c.Del(ctx, key).Err()
	})
}

// GetMany implements store.Store: one MGET on a single server, a pipeline
// of GETs otherwise (a Cluster's MGET cannot span slots).
func (s *Store) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	m := make(map[string][]byte, len(keys))
	err := s.do(ctx, "get-many", "", func(ctx context.Context) error {
		if len(keys) == 0 {
			return nil
		}
		if s.single {
			vals, err := s.c.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			for i, v := range vals {
				if str, ok := v.(string); ok {
					m[keys[i]] = []byte(str)
				}
			}
			return nil
		}
		gets := make([]*redis.StringCmd, len(keys))
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				gets[i] = p.Get(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, k := range keys {
			if v, err := gets[i].Bytes(); err == nil {
				m[k] = nonNil(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// SetMany implements store.Store with a pipeline of SETs (not MULTI: other
// clients may see some items before others).
func (s *Store) SetMany(ctx context.Context, items []store.Item) error {
	if err := store.CheckItems(name, "set-many", items); err != nil {
		return err
	}
	return s.do(ctx, "set-many", "", func(ctx context.Context) error {
		if len(items) == 0 {
			return nil
		}
		cmds, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, it := range items {
				p.Set(ctx, it.Key, it.Value, redisTTL(it.TTL))
			}
			return nil
		})
		if err != nil {
			// Name the first item that failed, when one did.
			for i, c := range cmds {
				if c.Err() != nil && i < len(items) {
					return store.Wrap(name, "set", items[i].Key, c.Err())
				}
			}
		}
		return err
	})
}

// TTL implements store.Store with PTTL.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	var ttl time.Duration
	err := s.do(ctx, "ttl", key, func(ctx context.Context) error {
		d, err := s.c.PTTL(ctx, key).Result()
		if err != nil {
			return err
		}
		var ok bool
		if ttl, ok = pttl(d); !ok {
			return redis.Nil
		}
		return nil
	})
	if err != nil {
		return 0, err // ttl may still be written by an abandoned call
	}
	return ttl, nil
}

// Close closes the client. It is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return store.Wrap(name, "close", "", s.c.Close())
}
