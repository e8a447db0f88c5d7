package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache/store"
	"github.com/shardcache/shardcache/store/internal/testserver"
	"github.com/shardcache/shardcache/store/redisstore"
	"github.com/shardcache/shardcache/store/storetest"
)

func TestMain(m *testing.M) { testserver.Main(m) }

func single(addr string, ctxTimeout bool) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: ctxTimeout})
}

func TestConformance(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return redisstore.New(single(srv.Addr(), true))
	})
}

// TestConformanceNoContextTimeout runs the suite over a client that does
// not bound its I/O by ctx, where the Store guards each call itself.
func TestConformanceNoContextTimeout(t *testing.T) {
	t.Parallel()
	srv := testserver.Redis(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return redisstore.New(single(srv.Addr(), false))
	})
}

func TestConformanceCluster(t *testing.T) {
	t.Parallel()
	nodes := testserver.RedisCluster(t, 3)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr())
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		return redisstore.New(redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true}))
	})
}

// TestConformanceShardcached runs the suite against this repository's own
// server.
func TestConformanceShardcached(t *testing.T) {
	t.Parallel()
	srv := testserver.Shardcached(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return redisstore.New(single(srv.Addr(), true))
	})
}

// TestDeadline stops the server (killed: connections refused; paused: they
// hang) and checks that every call returns an error by its deadline.
func TestDeadline(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"killed", "paused"} {
		for _, ctxTimeout := range []bool{true, false} {
			t.Run(mode+"/ContextTimeoutEnabled="+map[bool]string{true: "true", false: "false"}[ctxTimeout], func(t *testing.T) {
				t.Parallel()
				srv := testserver.Redis(t)
				s := redisstore.New(single(srv.Addr(), ctxTimeout))
				defer s.Close()
				if err := s.Set(context.Background(), "k", []byte("v"), 0); err != nil {
					t.Fatal(err)
				}
				if mode == "killed" {
					srv.Kill()
				} else {
					srv.Pause()
					defer srv.Resume()
				}
				checkDeadline(t, s)
			})
		}
	}
}

func checkDeadline(t *testing.T, s store.Store) {
	const timeout, slack = 300 * time.Millisecond, 100 * time.Millisecond
	calls := map[string]func(ctx context.Context) error{
		"Get":     func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err },
		"Set":     func(ctx context.Context) error { return s.Set(ctx, "k", []byte("v"), time.Second) },
		"Delete":  func(ctx context.Context) error { return s.Delete(ctx, "k") },
		"GetMany": func(ctx context.Context) error { _, err := s.GetMany(ctx, []string{"k", "j"}); return err },
		"SetMany": func(ctx context.Context) error {
			return s.SetMany(ctx, []store.Item{{Key: "k", Value: []byte("v")}, {Key: "j"}})
		},
		"TTL": func(ctx context.Context) error { _, err := s.TTL(ctx, "k"); return err },
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		cancel()
		if err == nil {
			t.Errorf("%s with the server down: no error", name)
		}
		if took > timeout+slack {
			t.Errorf("%s with the server down took %v, beyond its %v deadline: %v", name, took, timeout, err)
		}
		var se *store.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: %v is not a *store.Error", name, err)
		}
	}
}
