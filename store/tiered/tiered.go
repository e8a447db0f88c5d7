// Package tiered is a near-cache: an embedded shardcache engine (L1) with
// short-lived copies in front of any store.Store (L2), usually Redis.
//
// Reads go to L1 first and, on a miss or a copy older than Options.L1TTL, to
// L2, whose answer refills L1 (read-through; concurrent misses of one key
// make one L2 read). Writes and deletes go to L2 and then to L1
// (write-through), so a process always reads its own writes.
//
// # Several processes
//
// Each process has its own L1, so a write in one leaves the others' copies
// stale. Without an Invalidator they stay stale for up to L1TTL: that is the
// bound on staleness, and the reason L1TTL should be short. With an
// Invalidator (redisstore.NewInvalidator: Redis pub/sub), every write and
// delete publishes its keys after L2 has them, and every other process drops
// its copies when the message arrives, so the staleness window is the
// publish-to-delivery latency (docs/benchmarks/store.md has the measured
// figures), and L1TTL bounds it only when messages are lost, which the
// Invalidator reports so that the whole L1 is dropped.
//
// A read that races an invalidation never refills L1 with the value it
// replaced: each key hashes to a generation counter that invalidations and
// local writes bump, and a refill is stored, under the key's L1 lock, only
// if the counter has not moved since the L2 read began.
//
// # Failures
//
// An L2 error is returned by default. With Options.StaleFor > 0, L1 keeps
// each copy for StaleFor beyond L1TTL (never beyond the key's own ttl) and
// a read whose L2 call fails returns that copy instead of the error.
package tiered

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"sync/atomic"
	"time"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/store"
	"github.com/shardcache/shardcache/store/internal/flight"
)

const name = "tiered"

// DefaultL1TTL is the L1TTL of Options whose L1TTL is 0.
const DefaultL1TTL = time.Second

// Invalidator carries invalidations between the tiered stores of several
// processes; redisstore.Invalidator is one. Implementations are safe for
// concurrent use.
type Invalidator interface {
	// Publish tells the other subscribers that keys changed.
	Publish(ctx context.Context, keys []string) error
	// Subscribe calls invalidate with the keys other publishers send and
	// reset when messages may have been lost, from one goroutine, until
	// Close. It returns once the subscription is in place.
	Subscribe(ctx context.Context, invalidate func(keys []string), reset func()) error
	// Close ends the subscription.
	Close() error
}

// Options configures a tiered Store. The zero value is valid: copies
// fresh for DefaultL1TTL, no invalidation, L2 errors returned.
type Options struct {
	// L1TTL is how long an L1 copy is served without asking L2; 0 means
	// DefaultL1TTL. It bounds how stale a read can be when invalidations
	// are lost, or without an Invalidator.
	L1TTL time.Duration
	// Invalidator, if set, publishes this store's writes and deletes and
	// applies those of other processes. New subscribes; Close closes it.
	Invalidator Invalidator
	// StaleFor > 0 keeps L1 copies that long beyond L1TTL (never beyond the
	// key's own ttl) and serves them when L2 fails; 0 returns L2's error.
	StaleFor time.Duration
	// SubscribeTimeout bounds the subscription New makes; 0 means 10 s.
	SubscribeTimeout time.Duration
}

// Store is a store.Store made of an L1 engine in front of an L2 Store. It
// is safe for concurrent use. An L1 hit costs one engine Get, a clock read
// and a copy of the value; a miss costs the L2 read (one GetItem when L2 is
// a store.ItemGetter, as every adapter of this module is, else Get and TTL)
// plus one L1 store under the key's lock.
type Store struct {
	l1    *shardcache.Cache[string, []byte]
	l2    store.Store
	items store.ItemGetter // l2, if it is one
	opts  Options
	inv   Invalidator

	epoch time.Time // L1 copies' freshness is measured from it (monotonic)
	seed  maphash.Seed
	gens  []atomic.Uint64

	reads  flight.Group[store.Item]
	loads  flight.Group[[]byte]
	closed atomic.Bool
}

const stripes = 4096 // generation counters; a power of two

// header holds an L1 copy's freshness deadline, in nanoseconds since
// Store.epoch, before the value.
const headerLen = 8

var (
	_ store.Store      = (*Store)(nil)
	_ store.ItemGetter = (*Store)(nil)
)

// New returns a Store with an L1 engine configured by l1 (its bounds,
// policy, OnRemove...; DefaultTTL is not used, and Cost and OnRemove see
// values with an 8-byte header) in front of l2. The Store owns l2 and the
// Invalidator: Close closes them. It returns an error wrapping
// shardcache.ErrInvalidConfig for a bad l1 or negative durations in opts,
// or the Invalidator's if subscribing fails.
func New(l1 shardcache.Config[string, []byte], l2 store.Store, opts Options) (*Store, error) {
	if opts.L1TTL < 0 || opts.StaleFor < 0 || opts.SubscribeTimeout < 0 {
		return nil, store.Wrap(name, "new", "", fmt.Errorf("%w: negative duration in Options", shardcache.ErrInvalidConfig))
	}
	if opts.L1TTL == 0 {
		opts.L1TTL = DefaultL1TTL
	}
	if opts.SubscribeTimeout == 0 {
		opts.SubscribeTimeout = 10 * time.Second
	}
	c, err := shardcache.New(l1)
	if err != nil {
		return nil, store.Wrap(name, "new", "", err)
	}
	s := &Store{l1: c, l2: l2, opts: opts, inv: opts.Invalidator, epoch: time.Now(),
		seed: maphash.MakeSeed(), gens: make([]atomic.Uint64, stripes)}
	s.items, _ = l2.(store.ItemGetter)
	if s.inv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), opts.SubscribeTimeout)
		defer cancel()
		if err := s.inv.Subscribe(ctx, s.invalidate, s.reset); err != nil {
			c.Close()
			return nil, store.Wrap(name, "new", "", err)
		}
	}
	return s, nil
}

// L1 returns the near-cache engine, for its statistics.
func (s *Store) L1() *shardcache.Cache[string, []byte] { return s.l1 }

// L2 returns the Store behind the near-cache.
func (s *Store) L2() store.Store { return s.l2 }

func (s *Store) gen(key string) *atomic.Uint64 {
	return &s.gens[maphash.String(s.seed, key)&(stripes-1)]
}

func (s *Store) now() int64 { return int64(time.Since(s.epoch)) }

// invalidate drops keys from L1, and makes refills in flight for them drop
// what they read.
func (s *Store) invalidate(keys []string) {
	for _, k := range keys {
		g := s.gen(k)
		s.l1.Atomic([]string{k}, func(tx *shardcache.Tx[string, []byte]) {
			g.Add(1)
			tx.Delete(k)
		})
	}
}

// reset drops all of L1: invalidations may have been lost.
func (s *Store) reset() {
	for i := range s.gens {
		s.gens[i].Add(1)
	}
	s.l1.Clear()
}

// l1TTL is the engine ttl of a copy of a key with ttl left in L2.
func (s *Store) l1TTL(ttl time.Duration) time.Duration {
	keep := s.opts.L1TTL + s.opts.StaleFor
	if ttl > 0 && ttl < keep {
		return ttl
	}
	return keep
}

func (s *Store) envelope(value []byte) []byte {
	b := make([]byte, headerLen+len(value))
	binary.LittleEndian.PutUint64(b, uint64(s.now()+int64(s.opts.L1TTL)))
	copy(b[headerLen:], value)
	return b
}

// fill stores a copy of it in L1 unless key's generation moved from g.
func (s *Store) fill(it store.Item, g uint64) {
	ttl, b := s.l1TTL(it.TTL), s.envelope(it.Value)
	gen := s.gen(it.Key)
	s.l1.Atomic([]string{it.Key}, func(tx *shardcache.Tx[string, []byte]) {
		if gen.Load() == g {
			tx.Set(it.Key, b, ttl)
		}
	})
}

// write replaces key's L1 copy after a write of this process (value nil:
// a delete, or a write whose outcome is unknown).
func (s *Store) write(key string, value []byte, ttl time.Duration, keep bool) {
	var b []byte
	if keep {
		b = s.envelope(value)
	}
	gen := s.gen(key)
	s.l1.Atomic([]string{key}, func(tx *shardcache.Tx[string, []byte]) {
		gen.Add(1)
		if keep {
			tx.Set(key, b, s.l1TTL(ttl))
		} else {
			tx.Delete(key)
		}
	})
}

// lookup returns key's L1 copy and whether it is fresh; ok is false
// without one.
func (s *Store) lookup(key string) (v []byte, fresh, ok bool) {
	b, ok := s.l1.Get(key)
	if !ok || len(b) < headerLen {
		return nil, false, false
	}
	return b[headerLen:], s.now() < int64(binary.LittleEndian.Uint64(b)), true
}

func (s *Store) check(ctx context.Context, op, key string) error {
	if s.closed.Load() {
		return store.Wrap(name, op, key, store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return store.Wrap(name, op, key, err)
	}
	return nil
}

// readL2 reads key's value and ttl from L2.
func (s *Store) readL2(ctx context.Context, key string) (store.Item, error) {
	if s.items != nil {
		return s.items.GetItem(ctx, key)
	}
	v, err := s.l2.Get(ctx, key)
	if err != nil {
		return store.Item{}, err
	}
	ttl, err := s.l2.TTL(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		ttl, err = time.Millisecond, nil // expired between the two calls: keep it briefly
	}
	return store.Item{Key: key, Value: v, TTL: ttl}, err
}

// GetItem implements store.ItemGetter: key's value and time left, from L1
// when it holds a fresh copy (the time left is then the copy's, which is at
// most the key's).
func (s *Store) GetItem(ctx context.Context, key string) (store.Item, error) {
	if err := s.check(ctx, "get", key); err != nil {
		return store.Item{}, err
	}
	if e, ok := s.l1.GetEntry(key); ok && len(e.Value) >= headerLen {
		if fresh := int64(binary.LittleEndian.Uint64(e.Value)) - s.now(); fresh > 0 {
			return store.Item{Key: key, Value: store.Clone(e.Value[headerLen:]), TTL: e.TTL}, nil
		}
	}
	it, err := s.reads.Do(ctx, key, func(ctx context.Context) (store.Item, error) {
		g := s.gen(key).Load()
		it, err := s.readL2(ctx, key)
		switch {
		case err == nil:
			s.fill(it, g)
		case errors.Is(err, store.ErrNotFound):
			s.write(key, nil, 0, false)
		}
		return it, err
	})
	if err == nil {
		it.Value = store.Clone(it.Value) // the waiters share it
		return it, nil
	}
	if e, ok := s.l1.GetEntry(key); ok && s.opts.StaleFor > 0 && len(e.Value) >= headerLen && !errors.Is(err, store.ErrNotFound) {
		return store.Item{Key: key, Value: store.Clone(e.Value[headerLen:]), TTL: e.TTL}, nil
	}
	return store.Item{}, s.wrap("get", key, err)
}

// wrap names the tiered store in an error that does not name a store yet.
func (s *Store) wrap(op, key string, err error) error {
	var se *store.Error
	if err == nil || errors.As(err, &se) {
		return err
	}
	return store.Wrap(name, op, key, err)
}

// Get implements store.Store: a fresh L1 copy, or L2's value (which then
// refreshes L1), or, with StaleFor, a stale copy if L2 fails.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.check(ctx, "get", key); err != nil {
		return nil, err
	}
	if v, fresh, ok := s.lookup(key); ok && fresh {
		return store.Clone(v), nil
	}
	it, err := s.GetItem(ctx, key)
	return it.Value, err
}

// GetOrLoad returns key's value as Get does, and on ErrNotFound calls
// load, once for all the goroutines of this process asking at the same
// time, and stores its result with the ttl it returns, through to L2 (a
// negative ttl returns the value without storing it). An L2 error other than
// ErrNotFound is returned (or a stale copy served, with StaleFor) without
// calling load. A panic in load becomes an error wrapping
// shardcache.ErrLoaderPanic.
func (s *Store) GetOrLoad(ctx context.Context, key string, load shardcache.LoadFunc[string, []byte]) ([]byte, error) {
	v, err := s.Get(ctx, key)
	if !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	v, err = s.loads.Do(ctx, key, func(ctx context.Context) ([]byte, error) {
		v, ttl, err := load(ctx, key)
		if err != nil || ttl < 0 {
			return v, err
		}
		return v, s.Set(ctx, key, v, ttl)
	})
	if err != nil {
		return nil, s.wrap("get-or-load", key, err)
	}
	return store.Clone(v), nil
}

// publish sends keys to the other processes, if there is an Invalidator.
func (s *Store) publish(ctx context.Context, op string, keys []string) error {
	if s.inv == nil || len(keys) == 0 {
		return nil
	}
	return s.wrap(op, keys[0], s.inv.Publish(ctx, keys))
}

// Set implements store.Store: L2 first, then L1, then the invalidation.
// If L2 fails, L1's copy is dropped (L2 may or may not hold the value) and
// the error returned; if only the publish fails, its error is returned
// after both tiers hold the value, and other processes may serve their old
// copies for up to L1TTL.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.check(ctx, "set", key); err != nil {
		return err
	}
	if err := store.CheckTTL(ttl); err != nil {
		return store.Wrap(name, "set", key, err)
	}
	if err := s.l2.Set(ctx, key, value, ttl); err != nil {
		if !errors.Is(err, store.ErrInvalidKey) && !errors.Is(err, store.ErrTooLarge) {
			s.write(key, nil, 0, false)
		}
		return s.wrap("set", key, err)
	}
	s.write(key, value, ttl, true)
	return s.publish(ctx, "set", []string{key})
}

// Delete implements store.Store: L2, then L1 (whatever L2 said), then the
// invalidation.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, "delete", key); err != nil {
		return err
	}
	err := s.l2.Delete(ctx, key)
	s.write(key, nil, 0, false)
	if err != nil {
		return s.wrap("delete", key, err)
	}
	return s.publish(ctx, "delete", []string{key})
}

// GetMany implements store.Store: fresh L1 copies, and one L2 batch for the
// rest, whose answers refill L1 when L2 is a store.ItemGetter. If L2 fails
// and StaleFor is set, it returns stale copies, provided there is one for
// every key L1 lacked fresh.
func (s *Store) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	if err := s.check(ctx, "get-many", ""); err != nil {
		return nil, err
	}
	m := make(map[string][]byte, len(keys))
	var miss []string
	var gens []uint64
	for _, k := range keys {
		if v, fresh, ok := s.lookup(k); ok && fresh {
			m[k] = store.Clone(v)
		} else {
			miss = append(miss, k)
			gens = append(gens, s.gen(k).Load())
		}
	}
	if len(miss) == 0 {
		return m, nil
	}
	var err error
	if s.items != nil {
		var items []store.Item
		if items, err = s.items.GetItems(ctx, miss); err == nil {
			index := make(map[string]uint64, len(miss))
			for i, k := range miss {
				index[k] = gens[i]
			}
			for _, it := range items {
				m[it.Key] = it.Value
				s.fill(it, index[it.Key])
			}
		}
	} else {
		var got map[string][]byte
		if got, err = s.l2.GetMany(ctx, miss); err == nil {
			for k, v := range got {
				m[k] = v
			}
		}
	}
	if err == nil {
		return m, nil
	}
	if s.opts.StaleFor > 0 {
		for _, k := range miss {
			v, _, ok := s.lookup(k)
			if !ok {
				return nil, s.wrap("get-many", "", err)
			}
			m[k] = store.Clone(v)
		}
		return m, nil
	}
	return nil, s.wrap("get-many", "", err)
}

// GetItems implements store.ItemGetter, reading every key from L2 (it is
// what a tier above this one would refill from).
func (s *Store) GetItems(ctx context.Context, keys []string) ([]store.Item, error) {
	if err := s.check(ctx, "get-many", ""); err != nil {
		return nil, err
	}
	var items []store.Item
	for _, k := range keys {
		it, err := s.GetItem(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// SetMany implements store.Store: one L2 batch, then L1, then one
// invalidation message for all the keys. If L2 fails, L1's copies of every
// item are dropped.
func (s *Store) SetMany(ctx context.Context, items []store.Item) error {
	if err := s.check(ctx, "set-many", ""); err != nil {
		return err
	}
	if err := store.CheckItems(name, "set-many", items); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	err := s.l2.SetMany(ctx, items)
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
		s.write(it.Key, it.Value, it.TTL, err == nil)
	}
	if err != nil {
		return s.wrap("set-many", "", err)
	}
	return s.publish(ctx, "set-many", keys)
}

// TTL implements store.Store, asking L2 (the authority on expiry).
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.check(ctx, "ttl", key); err != nil {
		return 0, err
	}
	ttl, err := s.l2.TTL(ctx, key)
	return ttl, s.wrap("ttl", key, err)
}

// Close closes the Invalidator, L1 and L2, and returns their errors
// joined. It is idempotent.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	var errs []error
	if s.inv != nil {
		errs = append(errs, s.inv.Close())
	}
	errs = append(errs, s.l1.Close(), s.l2.Close())
	return s.wrap("close", "", errors.Join(errs...))
}
