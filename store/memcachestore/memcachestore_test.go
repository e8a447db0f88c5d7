package memcachestore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/shardcache/shardcache/store"
	"github.com/shardcache/shardcache/store/internal/testserver"
	"github.com/shardcache/shardcache/store/memcachestore"
	"github.com/shardcache/shardcache/store/storetest"
)

func newClient(addr string) *memcache.Client {
	c := memcache.New(addr)
	c.MaxIdleConns = 16
	return c
}

func TestConformance(t *testing.T) {
	// 2 MiB items, so that a value of a full MiB fits with its key and header.
	srv := testserver.Memcached(t, "-I", "2m")
	storetest.Run(t, func(t *testing.T) store.Store {
		return memcachestore.New(newClient(srv.Addr()))
	})
}

func TestTooLarge(t *testing.T) {
	srv := testserver.Memcached(t) // the default 1 MiB limit
	s := memcachestore.New(newClient(srv.Addr()))
	defer s.Close()
	ctx := context.Background()
	err := s.Set(ctx, "big", make([]byte, 1<<20), 0)
	if !errors.Is(err, store.ErrTooLarge) || !strings.Contains(err.Error(), `"big"`) {
		t.Fatalf("Set of 1 MiB into a 1 MiB memcached: %v; want ErrTooLarge naming the key", err)
	}
	err = s.SetMany(ctx, []store.Item{{Key: "small", Value: []byte("s")}, {Key: "big", Value: make([]byte, 2<<20)}})
	if !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("SetMany with a 2 MiB item: %v; want ErrTooLarge", err)
	}
	// The connection is still usable afterwards.
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
}

func TestKey(t *testing.T) {
	long := strings.Repeat("x", 251)
	for _, k := range []string{"plain", "with space", "nl\n", long, "~plain", "\x00", "\x7f"} {
		mk := memcachestore.Key(k)
		safe := len(mk) <= 250 && !strings.ContainsAny(mk, " \n\r\t\x00\x7f")
		if !safe {
			t.Errorf("Key(%q) = %q, not a memcached key", k, mk)
		}
		if (mk == k) != (k == "plain") {
			t.Errorf("Key(%q) = %q", k, mk)
		}
	}
	if memcachestore.Key("~plain") == memcachestore.Key("~"+memcachestore.Key("~plain")[1:]) {
		t.Error("a key starting with ~ collides with a mapped key")
	}
}

// TestLongTTL checks the 30-day rule: a ttl beyond it is sent as a Unix
// time, which memcached must not read as "already expired".
func TestLongTTL(t *testing.T) {
	srv := testserver.Memcached(t)
	c := newClient(srv.Addr())
	s := memcachestore.New(c)
	defer s.Close()
	ctx := context.Background()
	for _, ttl := range []time.Duration{29 * 24 * time.Hour, 31 * 24 * time.Hour, 20 * 365 * 24 * time.Hour} {
		if err := s.Set(ctx, "k", []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
		// Read memcached's own item, not the header: it must still be there.
		it, err := c.Get("k")
		if err != nil || !bytes.HasSuffix(it.Value, []byte("v")) {
			t.Fatalf("ttl %v: memcached dropped the item: %v", ttl, err)
		}
	}
}

func TestForeignItem(t *testing.T) {
	srv := testserver.Memcached(t)
	c := newClient(srv.Addr())
	s := memcachestore.New(c)
	defer s.Close()
	if err := c.Set(&memcache.Item{Key: "foreign", Value: []byte("raw")}); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(context.Background(), "foreign"); err != nil || string(v) != "raw" {
		t.Fatalf("Get of an item another client wrote = %q, %v", v, err)
	}
}

func TestDeadline(t *testing.T) {
	for _, mode := range []string{"killed", "paused"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv := testserver.Memcached(t)
			c := newClient(srv.Addr())
			c.Timeout = 5 * time.Second // longer than the ctx: the ctx must win
			s := memcachestore.New(c)
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
			const timeout, slack = 300 * time.Millisecond, 100 * time.Millisecond
			calls := map[string]func(ctx context.Context) error{
				"Get":     func(ctx context.Context) error { _, err := s.Get(ctx, "k"); return err },
				"Set":     func(ctx context.Context) error { return s.Set(ctx, "k", []byte("v"), time.Second) },
				"Delete":  func(ctx context.Context) error { return s.Delete(ctx, "k") },
				"GetMany": func(ctx context.Context) error { _, err := s.GetMany(ctx, []string{"k", "j"}); return err },
				"SetMany": func(ctx context.Context) error { return s.SetMany(ctx, []store.Item{{Key: "k"}, {Key: "j"}}) },
				"TTL":     func(ctx context.Context) error { _, err := s.TTL(ctx, "k"); return err },
			}
			for name, call := range calls {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				start := time.Now()
				err := call(ctx)
				took := time.Since(start)
				cancel()
				if err == nil || took > timeout+slack {
					t.Errorf("%s with memcached %s: %v after %v (deadline %v)", name, mode, err, took, timeout)
				}
			}
		})
	}
}
