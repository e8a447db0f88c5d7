package tiered_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/store"
	"github.com/shardcache/shardcache/store/internal/testserver"
	"github.com/shardcache/shardcache/store/memory"
	"github.com/shardcache/shardcache/store/redisstore"
	"github.com/shardcache/shardcache/store/storetest"
	"github.com/shardcache/shardcache/store/tiered"
)

func TestMain(m *testing.M) { testserver.Main(m) }

var l1 = shardcache.Config[string, []byte]{MaxEntries: 10000}

func newMemory(t testing.TB) *memory.Store {
	m, err := memory.New(shardcache.Config[string, []byte]{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newTiered(t testing.TB, l2 store.Store, opts tiered.Options) *tiered.Store {
	t.Helper()
	s, err := tiered.New(l1, l2, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func redisClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
}

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return newTiered(t, newMemory(t), tiered.Options{})
	})
}

func TestConformanceRedis(t *testing.T) {
	srv := testserver.Redis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		c := redisClient(srv.Addr())
		return newTiered(t, redisstore.New(c), tiered.Options{
			Invalidator: redisstore.NewInvalidator(c, "storetest-invalidations"),
		})
	})
}

// pair returns two tiered stores over one Redis, as two processes would
// have them, with invalidation unless L1TTL says otherwise.
func pair(t *testing.T, srv *testserver.Server, invalidate bool, l1ttl time.Duration) (a, b *tiered.Store) {
	mk := func() *tiered.Store {
		c := redisClient(srv.Addr())
		opts := tiered.Options{L1TTL: l1ttl}
		if invalidate {
			opts.Invalidator = redisstore.NewInvalidator(c, "invalidations")
		}
		return newTiered(t, redisstore.New(c), opts)
	}
	return mk(), mk()
}

func get(t *testing.T, s store.Store, key string) string {
	t.Helper()
	v, err := s.Get(context.Background(), key)
	if errors.Is(err, store.ErrNotFound) {
		return "(missing)"
	}
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(v)
}

// eventually polls until s reads want for key, failing after a second.
func eventually(t *testing.T, s store.Store, key, want string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := get(t, s, key)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > time.Second {
			t.Fatalf("Get(%q) = %q a second after the change, want %q", key, got, want)
		}
		runtime.Gosched() // not time.Sleep: an idle Go sleeps for a millisecond at least
	}
}

func TestInvalidation(t *testing.T) {
	srv := testserver.Redis(t)
	a, b := pair(t, srv, true, time.Hour) // L1 copies never go stale by time
	ctx := context.Background()
	if err := a.Set(ctx, "k", []byte("one"), 0); err != nil {
		t.Fatal(err)
	}
	if got := get(t, b, "k"); got != "one" {
		t.Fatalf("b reads %q, want one", got)
	}
	if err := a.Set(ctx, "k", []byte("two"), 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, b, "k", "two")
	if err := a.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	eventually(t, b, "k", "(missing)")
	if err := b.SetMany(ctx, []store.Item{{Key: "k", Value: []byte("three")}, {Key: "j", Value: []byte("j")}}); err != nil {
		t.Fatal(err)
	}
	get(t, a, "j") // a caches j
	if err := b.Set(ctx, "j", []byte("j2"), 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, a, "k", "three")
	eventually(t, a, "j", "j2")
}

// TestNoInvalidationStaleForL1TTL shows the bound without an Invalidator:
// the other process serves its copy until L1TTL passes.
func TestNoInvalidationStaleForL1TTL(t *testing.T) {
	srv := testserver.Redis(t)
	const l1ttl = 300 * time.Millisecond
	a, b := pair(t, srv, false, l1ttl)
	ctx := context.Background()
	a.Set(ctx, "k", []byte("one"), 0)
	get(t, b, "k")
	a.Set(ctx, "k", []byte("two"), 0)
	if got := get(t, b, "k"); got != "one" {
		t.Fatalf("without invalidation b reads %q at once; want its copy, one", got)
	}
	time.Sleep(l1ttl + 50*time.Millisecond)
	if got := get(t, b, "k"); got != "two" {
		t.Fatalf("b reads %q after L1TTL, want two", got)
	}
}

// TestStalenessWindow measures how long the other process may serve the
// old value after a write returned: from a.Set's return to the moment b's
// L1 drops its copy (its OnRemove), after which b's next Get reads the new
// value. docs/benchmarks/store.md quotes the figures.
func TestStalenessWindow(t *testing.T) {
	srv := testserver.Redis(t)
	removed := make(chan time.Time, 1)
	cfg := shardcache.Config[string, []byte]{OnRemove: func(key string, _ []byte, r shardcache.RemoveReason) {
		if r == shardcache.ReasonDeleted {
			select {
			case removed <- time.Now():
			default:
			}
		}
	}}
	mk := func(l1 shardcache.Config[string, []byte]) *tiered.Store {
		c := redisClient(srv.Addr())
		s, err := tiered.New(l1, redisstore.New(c), tiered.Options{L1TTL: time.Hour,
			Invalidator: redisstore.NewInvalidator(c, "invalidations")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := mk(shardcache.Config[string, []byte]{}), mk(cfg)
	ctx := context.Background()
	if err := a.Set(ctx, "k", []byte("initial"), 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // b has received that write's invalidation
	const rounds = 500
	// windows: from Set's return (negative: delivered before it returned);
	// bounds: from Set's call, which bounds the window from the moment L2
	// held the value.
	windows, bounds := make([]time.Duration, 0, rounds), make([]time.Duration, 0, rounds)
	for i := range rounds {
		want := fmt.Sprint("v", i)
		get(t, b, "k") // b holds a copy
		if _, ok := b.L1().Peek("k"); !ok {
			t.Fatalf("write %d: b did not keep a copy", i)
		}
		begin := time.Now()
		if err := a.Set(ctx, "k", []byte(want), 0); err != nil {
			t.Fatal(err)
		}
		done := time.Now()
		select {
		case at := <-removed:
			windows = append(windows, at.Sub(done))
			bounds = append(bounds, at.Sub(begin))
		case <-time.After(time.Second):
			t.Fatalf("write %d: b's copy was not invalidated within a second", i)
		}
		if got := get(t, b, "k"); got != want {
			t.Fatalf("b reads %q after the invalidation, want %q", got, want)
		}
	}
	for _, w := range []struct {
		what string
		d    []time.Duration
	}{{"from Set's return", windows}, {"from Set's call", bounds}} {
		slices.Sort(w.d)
		t.Logf("invalidation %s to the other L1's drop, %d writes: p50 %v, p90 %v, p99 %v, max %v",
			w.what, rounds, w.d[rounds/2], w.d[rounds*9/10], w.d[rounds*99/100], w.d[rounds-1])
	}
}

// TestNoStaleRefill races reads of b against writes of a: once the writes
// stop and the last invalidation is delivered, b must read the last value,
// never a refill of an older one.
func TestNoStaleRefill(t *testing.T) {
	srv := testserver.Redis(t)
	a, b := pair(t, srv, true, time.Hour)
	ctx := context.Background()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				b.Get(ctx, "k")
			}
		}()
	}
	for i := range 300 {
		if err := a.Set(ctx, "k", []byte(fmt.Sprint(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	eventually(t, b, "k", "299")
	time.Sleep(20 * time.Millisecond) // no late refill overwrites it
	if got := get(t, b, "k"); got != "299" {
		t.Fatalf("b reads %q after the writes settled, want 299", got)
	}
}

// TestResetOnReconnect kills the subscription's connection: the store must
// drop its L1, since invalidations may be lost.
func TestResetOnReconnect(t *testing.T) {
	srv := testserver.Redis(t)
	a, b := pair(t, srv, true, time.Hour)
	ctx := context.Background()
	a.Set(ctx, "k", []byte("one"), 0)
	time.Sleep(50 * time.Millisecond) // or its invalidation may drop the copy b is about to take
	get(t, b, "k")
	if b.L1().Len() == 0 {
		t.Fatal("b has no L1 copy")
	}
	// CLIENT KILL TYPE pubsub drops every subscriber's connection.
	if _, err := testserver.Command(srv.Addr(), "CLIENT", "KILL", "TYPE", "pubsub"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for b.L1().Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("b kept its L1 after its subscription broke")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// And invalidation works again after the resubscription.
	get(t, b, "k")
	time.Sleep(100 * time.Millisecond)
	a.Set(ctx, "k", []byte("two"), 0)
	eventually(t, b, "k", "two")
}

// failing is a Store whose calls fail while down is set.
type failing struct {
	store.Store
	down atomic.Bool
}

var errDown = errors.New("backend down")

func (f *failing) Get(ctx context.Context, key string) ([]byte, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.Get(ctx, key)
}

func (f *failing) TTL(ctx context.Context, key string) (time.Duration, error) {
	if f.down.Load() {
		return 0, errDown
	}
	return f.Store.TTL(ctx, key)
}

func (f *failing) GetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.GetMany(ctx, keys)
}

func TestL2Failure(t *testing.T) {
	for _, staleFor := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprint("StaleFor=", staleFor), func(t *testing.T) {
			l2 := &failing{Store: newMemory(t)}
			s := newTiered(t, l2, tiered.Options{L1TTL: 20 * time.Millisecond, StaleFor: staleFor})
			ctx := context.Background()
			s.Set(ctx, "k", []byte("v"), 0)
			l2.down.Store(true)
			if got := get(t, s, "k"); got != "v" { // fresh: L2 not asked
				t.Fatalf("fresh copy = %q", got)
			}
			time.Sleep(30 * time.Millisecond)
			v, err := s.Get(ctx, "k")
			m, errMany := s.GetMany(ctx, []string{"k"})
			if staleFor == 0 {
				if !errors.Is(err, errDown) || !errors.Is(errMany, errDown) {
					t.Fatalf("L2 down, no StaleFor: Get = %q, %v; GetMany = %v, %v; want the L2 error", v, err, m, errMany)
				}
				return
			}
			if err != nil || string(v) != "v" || errMany != nil || string(m["k"]) != "v" {
				t.Fatalf("L2 down, StaleFor: Get = %q, %v; GetMany = %v, %v; want the stale copy", v, err, m, errMany)
			}
			if _, err := s.Get(ctx, "other"); !errors.Is(err, errDown) {
				t.Fatalf("L2 down, no copy: %v; want the L2 error", err)
			}
		})
	}
}

func TestGetOrLoad(t *testing.T) {
	s := newTiered(t, newMemory(t), tiered.Options{})
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(ctx context.Context, key string) ([]byte, time.Duration, error) {
		loads.Add(1)
		<-release
		return []byte("loaded " + key), time.Minute, nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.GetOrLoad(context.Background(), "k", load)
			if err != nil || string(v) != "loaded k" {
				t.Errorf("GetOrLoad = %q, %v", v, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for 20 concurrent misses, want 1", n)
	}
	if v, err := s.L2().Get(context.Background(), "k"); err != nil || string(v) != "loaded k" {
		t.Fatalf("L2 after GetOrLoad = %q, %v; want the loaded value written through", v, err)
	}
	_, err := s.GetOrLoad(context.Background(), "p", func(context.Context, string) ([]byte, time.Duration, error) {
		panic("boom")
	})
	if !errors.Is(err, shardcache.ErrLoaderPanic) {
		t.Fatalf("GetOrLoad with a panicking loader: %v", err)
	}
}

func TestDeadline(t *testing.T) {
	srv := testserver.Redis(t)
	c := redisClient(srv.Addr())
	s := newTiered(t, redisstore.New(c), tiered.Options{Invalidator: redisstore.NewInvalidator(c, "inv")})
	srv.Pause()
	defer srv.Resume()
	const timeout = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	_, err := s.Get(ctx, "k")
	if took := time.Since(start); err == nil || took > timeout+100*time.Millisecond {
		t.Fatalf("Get with Redis paused: %v after %v", err, took)
	}
}
