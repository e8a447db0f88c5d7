package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/store"
	"github.com/shardcache/shardcache/store/memory"
)

func newMemory(t testing.TB) *memory.Store {
	s, err := memory.New(shardcache.Config[string, []byte]{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestError(t *testing.T) {
	err := store.Wrap("redisstore", "get", "user:1", store.ErrNotFound)
	if !errors.Is(err, store.ErrNotFound) || err.Error() != `redisstore: get "user:1": store: not found` {
		t.Fatalf("Wrap = %q", err)
	}
	long := store.Wrap("x", "set", strings.Repeat("k", 5000), store.ErrTooLarge)
	if len(long.Error()) > 120 {
		t.Fatalf("a long key makes a %d-byte message", len(long.Error()))
	}
	if store.Wrap("x", "get", "k", nil) != nil {
		t.Fatal("Wrap(nil) is not nil")
	}
}

func TestTyped(t *testing.T) {
	ctx := context.Background()
	users := store.NewTyped(newMemory(t), shardcache.IntCodec[int]())
	if err := users.Set(ctx, "a", 42, 0); err != nil {
		t.Fatal(err)
	}
	if v, err := users.Get(ctx, "a"); err != nil || v != 42 {
		t.Fatalf("Get = %v, %v", v, err)
	}
	if _, err := users.Get(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of a missing key: %v", err)
	}
	users.Store().Set(ctx, "garbage", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0)
	if _, err := users.Get(ctx, "garbage"); err == nil || !strings.Contains(err.Error(), `decode "garbage"`) {
		t.Fatalf("Get of undecodable bytes: %v", err)
	}

	var loads atomic.Int32
	release := make(chan struct{})
	load := func(ctx context.Context, key string) (int, time.Duration, error) {
		loads.Add(1)
		<-release
		return len(key), time.Minute, nil
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := users.GetOrLoad(ctx, "load", load); err != nil || v != 4 {
				t.Errorf("GetOrLoad = %v, %v", v, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for 16 concurrent misses, want 1", n)
	}
	if v, err := users.Get(ctx, "load"); err != nil || v != 4 {
		t.Fatalf("the loaded value was not stored: %v, %v", v, err)
	}

	boom := errors.New("boom")
	if _, err := users.GetOrLoad(ctx, "fail", func(context.Context, string) (int, time.Duration, error) {
		return 0, 0, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("GetOrLoad with a failing loader: %v", err)
	}
	if _, err := users.GetOrLoad(ctx, "panic", func(context.Context, string) (int, time.Duration, error) {
		panic("boom")
	}); !errors.Is(err, shardcache.ErrLoaderPanic) {
		t.Fatalf("GetOrLoad with a panicking loader: %v", err)
	}
	if v, err := users.GetOrLoad(ctx, "nocache", func(context.Context, string) (int, time.Duration, error) {
		return 7, -1, nil
	}); err != nil || v != 7 {
		t.Fatalf("GetOrLoad with a negative ttl = %v, %v", v, err)
	}
	if _, err := users.Get(ctx, "nocache"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a value loaded with a negative ttl was stored: %v", err)
	}
}

// A waiter whose ctx ends stops waiting; the load goes on for the others.
func TestTypedWaiterDeadline(t *testing.T) {
	users := store.NewTyped(newMemory(t), shardcache.StringCodec[string]())
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		users.GetOrLoad(context.Background(), "k", func(context.Context, string) (string, time.Duration, error) {
			<-release
			return "v", 0, nil
		})
	}()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := users.GetOrLoad(ctx, "k", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter past its deadline: %v", err)
	}
	close(release)
	<-done
}

func Example() {
	ctx := context.Background()
	// Any store.Store: memory here, redisstore, memcachestore or tiered in
	// production, with the same code.
	s, err := memory.New(shardcache.Config[string, []byte]{MaxEntries: 10_000})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	names := store.NewTyped(s, shardcache.StringCodec[string]())
	name, err := names.GetOrLoad(ctx, "user:42", func(ctx context.Context, key string) (string, time.Duration, error) {
		return "Ada", time.Hour, nil // the slow lookup, run once per key
	})
	fmt.Println(name, err)
	_, err = s.Get(ctx, "user:43")
	fmt.Println(errors.Is(err, store.ErrNotFound), err)
	// Output:
	// Ada <nil>
	// true memory: get "user:43": store: not found
}
