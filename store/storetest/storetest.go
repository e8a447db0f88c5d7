// Package storetest is the conformance suite every store.Store adapter
// passes: call Run from a test of the adapter's package with a function
// that returns a fresh, empty-enough Store.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardcache/shardcache/store"
)

// Timeout bounds each call the suite makes, so that a hung backend fails
// the test instead of hanging it.
const Timeout = 10 * time.Second

// Run checks that the stores newStore returns give every semantic of the
// store package's documentation. newStore is called once per subtest (from
// parallel subtests, so it must be safe for concurrent use); the suite closes
// every store it gets in the subtest's Cleanup. Stores may share a backend:
// every subtest uses keys of its own, under a random prefix.
//
// Expiry is checked with real time (TTLs of about a second), so the whole
// suite takes a few seconds; its subtests run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			c.fn(t, s, newKeys(t))
		})
	}
}

// keys makes the keys of one subtest, unique to it, so stores over one
// backend do not see each other's.
type keys string

func newKeys(t *testing.T) keys {
	var b [6]byte
	rand.Read(b[:])
	return keys(fmt.Sprintf("storetest:%x:%s:", b, t.Name()))
}

func (k keys) of(name string) string { return string(k) + name }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return c
}

var cases = []struct {
	name string
	fn   func(t *testing.T, s store.Store, k keys)
}{
	{"RoundTrip", testRoundTrip},
	{"EmptyValue", testEmptyValue},
	{"Missing", testMissing},
	{"Overwrite", testOverwrite},
	{"Delete", testDelete},
	{"TTL", testTTL},
	{"Expiry", testExpiry},
	{"InvalidTTL", testInvalidTTL},
	{"GetMany", testGetMany},
	{"SetMany", testSetMany},
	{"ValueIsolation", testValueIsolation},
	{"Canceled", testCanceled},
	{"Concurrent", testConcurrent},
	{"Close", testClose},
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func mustSet(t *testing.T, s store.Store, key string, v []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Set(ctx(t), key, v, ttl); err != nil {
		t.Fatalf("Set(%.40q, %d bytes, %v): %v", key, len(v), ttl, err)
	}
}

func mustGet(t *testing.T, s store.Store, key string, want []byte) {
	t.Helper()
	got, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get(%.40q): %v", key, err)
	}
	if !bytes.Equal(got, want) || got == nil {
		t.Fatalf("Get(%.40q) = %d bytes %.20q (nil: %v), want %d bytes %.20q", key, len(got), got, got == nil, len(want), want)
	}
}

func wantNotFound(t *testing.T, s store.Store, key string) {
	t.Helper()
	if v, err := s.Get(ctx(t), key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%.40q) = %.20q, %v; want ErrNotFound", key, v, err)
	}
}

func testRoundTrip(t *testing.T, s store.Store, k keys) {
	long := strings.Repeat("k", store.MaxKeyLen-len(k)) // the whole key is MaxKeyLen bytes
	binKey := make([]byte, 256)
	for i := range binKey {
		binKey[i] = byte(i)
	}
	ks := []string{"a", "with space", "new\nline\r\n", "tab\tand\x00nul", string(binKey), "ünïcødé ☃",
		"{hashtag}x", "%s %d", "~reserved", long}
	values := [][]byte{[]byte("v"), []byte("with space\r\nEND\r\n"), randomBytes(1000), randomBytes(64 << 10), randomBytes(1 << 20)}
	for i, name := range ks {
		key := k.of(name)
		if name == long {
			key = string(k) + long
		}
		v := values[i%len(values)]
		mustSet(t, s, key, v, 0)
		mustGet(t, s, key, v)
	}
	// Every value size under every kind of key would be slow over a
	// network; one key per size covers the sizes.
	for i, v := range values {
		key := k.of(fmt.Sprint("size", i))
		mustSet(t, s, key, v, time.Hour)
		mustGet(t, s, key, v)
	}
}

func testEmptyValue(t *testing.T, s store.Store, k keys) {
	for _, v := range [][]byte{{}, nil} {
		key := k.of(fmt.Sprint("empty-", v == nil))
		mustSet(t, s, key, v, 0)
		mustGet(t, s, key, []byte{})
		m, err := s.GetMany(ctx(t), []string{key})
		if got, ok := m[key]; err != nil || !ok || len(got) != 0 {
			t.Fatalf("GetMany of an empty value = %q (present: %v), %v", got, ok, err)
		}
	}
}

func testMissing(t *testing.T, s store.Store, k keys) {
	key := k.of("never-set")
	wantNotFound(t, s, key)
	if ttl, err := s.TTL(ctx(t), key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TTL of a missing key = %v, %v; want ErrNotFound", ttl, err)
	}
	if err := s.Delete(ctx(t), key); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	m, err := s.GetMany(ctx(t), []string{key})
	if err != nil || m == nil || len(m) != 0 {
		t.Fatalf("GetMany of a missing key = %v (nil: %v), %v; want an empty map", m, m == nil, err)
	}
	if m, err := s.GetMany(ctx(t), nil); err != nil || m == nil || len(m) != 0 {
		t.Fatalf("GetMany(nil) = %v, %v; want an empty map", m, err)
	}
	if err := s.SetMany(ctx(t), nil); err != nil {
		t.Fatalf("SetMany(nil): %v", err)
	}
}

func testOverwrite(t *testing.T, s store.Store, k keys) {
	key := k.of("x")
	mustSet(t, s, key, []byte("one"), time.Hour)
	mustSet(t, s, key, []byte("two"), 0)
	mustGet(t, s, key, []byte("two"))
	if ttl, err := s.TTL(ctx(t), key); err != nil || ttl != 0 {
		t.Fatalf("TTL after overwriting with ttl 0 = %v, %v; want 0 (the old ttl is gone)", ttl, err)
	}
	mustSet(t, s, key, []byte("three"), time.Hour)
	if ttl, err := s.TTL(ctx(t), key); err != nil || ttl <= 59*time.Minute || ttl > time.Hour+time.Second {
		t.Fatalf("TTL after overwriting with 1h = %v, %v", ttl, err)
	}
}

func testDelete(t *testing.T, s store.Store, k keys) {
	key := k.of("x")
	mustSet(t, s, key, []byte("v"), 0)
	if err := s.Delete(ctx(t), key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, s, key)
	if err := s.Delete(ctx(t), key); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
}

func testTTL(t *testing.T, s store.Store, k keys) {
	for _, ttl := range []time.Duration{time.Millisecond * 1500, 10 * time.Second, 45 * 24 * time.Hour, 400 * 24 * time.Hour} {
		key := k.of(ttl.String())
		mustSet(t, s, key, []byte("v"), ttl)
		got, err := s.TTL(ctx(t), key)
		// Within the backend's resolution: a second, as memcached's and
		// Redis's EX would have it, plus the time the calls took.
		if err != nil || got > ttl+time.Second || got < ttl-2*time.Second || got <= 0 {
			t.Errorf("TTL after Set with %v = %v, %v", ttl, got, err)
		}
	}
	key := k.of("forever")
	mustSet(t, s, key, []byte("v"), 0)
	if got, err := s.TTL(ctx(t), key); err != nil || got != 0 {
		t.Errorf("TTL after Set with 0 = %v, %v; want 0", got, err)
	}
}

func testExpiry(t *testing.T, s store.Store, k keys) {
	const ttl = 1200 * time.Millisecond
	key, many := k.of("x"), k.of("many")
	start := time.Now()
	mustSet(t, s, key, []byte("v"), ttl)
	if err := s.SetMany(ctx(t), []store.Item{{Key: many, Value: []byte("m"), TTL: ttl}}); err != nil {
		t.Fatalf("SetMany: %v", err)
	}
	// Never earlier: still there just before the deadline (a read that
	// starts then may finish after it, so stop a little short).
	time.Sleep(time.Until(start.Add(ttl - 300*time.Millisecond)))
	if v, err := s.Get(ctx(t), key); err != nil && time.Since(start) < ttl {
		t.Fatalf("Get %v after Set with ttl %v = %q, %v; expired early", time.Since(start), ttl, v, err)
	}
	time.Sleep(time.Until(start.Add(ttl + 200*time.Millisecond)))
	wantNotFound(t, s, key)
	wantNotFound(t, s, many)
	if m, err := s.GetMany(ctx(t), []string{key, many}); err != nil || len(m) != 0 {
		t.Fatalf("GetMany after expiry = %v, %v; want nothing", m, err)
	}
	if got, err := s.TTL(ctx(t), key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TTL after expiry = %v, %v; want ErrNotFound", got, err)
	}
}

func testInvalidTTL(t *testing.T, s store.Store, k keys) {
	key := k.of("x")
	mustSet(t, s, key, []byte("before"), 0)
	if err := s.Set(ctx(t), key, []byte("after"), -time.Second); !errors.Is(err, store.ErrInvalidTTL) {
		t.Fatalf("Set with a negative ttl: %v; want ErrInvalidTTL", err)
	}
	mustGet(t, s, key, []byte("before"))
	other := k.of("other")
	err := s.SetMany(ctx(t), []store.Item{{Key: other, Value: []byte("o")}, {Key: key, Value: []byte("after"), TTL: -1}})
	if !errors.Is(err, store.ErrInvalidTTL) {
		t.Fatalf("SetMany with a negative ttl: %v; want ErrInvalidTTL", err)
	}
	if !strings.Contains(err.Error(), "x") {
		t.Errorf("SetMany's error %q does not name the key", err)
	}
	mustGet(t, s, key, []byte("before"))
	wantNotFound(t, s, other)
}

func testGetMany(t *testing.T, s store.Store, k keys) {
	// Enough keys to span every slot range of a Cluster.
	const n = 300
	want := make(map[string][]byte)
	var ks []string
	for i := range n {
		key := k.of(fmt.Sprint(i))
		ks = append(ks, key)
		if i%3 != 0 {
			want[key] = []byte(fmt.Sprint("value ", i))
			mustSet(t, s, key, want[key], time.Hour)
		}
	}
	ks = append(ks, ks[1]) // a repeated key is harmless
	got, err := s.GetMany(ctx(t), ks)
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("GetMany returned %d keys, want %d", len(got), len(want))
	}
	for key, v := range want {
		if !bytes.Equal(got[key], v) {
			t.Fatalf("GetMany[%q] = %q, want %q", key, got[key], v)
		}
	}
}

func testSetMany(t *testing.T, s store.Store, k keys) {
	var items []store.Item
	for i := range 200 {
		ttl := time.Duration(0)
		if i%2 == 1 {
			ttl = time.Hour
		}
		items = append(items, store.Item{Key: k.of(fmt.Sprint(i)), Value: randomBytes(mrand.IntN(100)), TTL: ttl})
	}
	if err := s.SetMany(ctx(t), items); err != nil {
		t.Fatalf("SetMany: %v", err)
	}
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	got, err := s.GetMany(ctx(t), ks)
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	for _, it := range items {
		if v, ok := got[it.Key]; !ok || !bytes.Equal(v, it.Value) {
			t.Fatalf("after SetMany, GetMany[%q] = %q (present: %v), want %q", it.Key, v, ok, it.Value)
		}
	}
	for _, it := range items[:4] {
		ttl, err := s.TTL(ctx(t), it.Key)
		if err != nil || (it.TTL == 0) != (ttl == 0) || ttl > it.TTL+time.Second {
			t.Fatalf("TTL(%q) after SetMany with %v = %v, %v", it.Key, it.TTL, ttl, err)
		}
	}
}

func testValueIsolation(t *testing.T, s store.Store, k keys) {
	key := k.of("x")
	v := []byte("original")
	mustSet(t, s, key, v, 0)
	copy(v, "CHANGED!")
	got, err := s.Get(ctx(t), key)
	if err != nil || string(got) != "original" {
		t.Fatalf("Get after changing the slice passed to Set = %q, %v", got, err)
	}
	copy(got, "CHANGED!")
	mustGet(t, s, key, []byte("original"))
	m, _ := s.GetMany(ctx(t), []string{key})
	copy(m[key], "CHANGED!")
	mustGet(t, s, key, []byte("original"))
}

func testCanceled(t *testing.T, s store.Store, k keys) {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	key := k.of("x")
	calls := map[string]func() error{
		"Get":     func() error { _, err := s.Get(c, key); return err },
		"Set":     func() error { return s.Set(c, key, []byte("v"), 0) },
		"Delete":  func() error { return s.Delete(c, key) },
		"GetMany": func() error { _, err := s.GetMany(c, []string{key}); return err },
		"SetMany": func() error { return s.SetMany(c, []store.Item{{Key: key, Value: []byte("v")}}) },
		"TTL":     func() error { _, err := s.TTL(c, key); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled ctx: %v; want an error wrapping context.Canceled", name, err)
		}
	}
}

// testConcurrent has goroutines write, read and delete overlapping keys;
// every value read must be one some goroutine wrote for that key. Run with
// the race detector, it also checks the adapter's own synchronisation.
func testConcurrent(t *testing.T, s store.Store, k keys) {
	const goroutines, rounds, nkeys = 8, 150, 16
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(uint64(g), 1))
			c := ctx(t)
			for i := range rounds {
				key := k.of(fmt.Sprint(r.IntN(nkeys)))
				var err error
				switch r.IntN(6) {
				case 0, 1:
					err = s.Set(c, key, []byte(fmt.Sprintf("%s=%d/%d", key, g, i)), time.Duration(r.IntN(2))*time.Hour)
				case 2:
					err = s.Delete(c, key)
				case 3:
					var m map[string][]byte
					m, err = s.GetMany(c, []string{key, k.of("0")})
					for mk, v := range m {
						if !bytes.HasPrefix(v, []byte(mk+"=")) {
							err = fmt.Errorf("GetMany[%q] = %q, written for another key", mk, v)
						}
					}
				case 4:
					err = s.SetMany(c, []store.Item{{Key: key, Value: []byte(key + "=many")}})
				default:
					var v []byte
					v, err = s.Get(c, key)
					if errors.Is(err, store.ErrNotFound) {
						err = nil
					} else if err == nil && !bytes.HasPrefix(v, []byte(key+"=")) {
						err = fmt.Errorf("Get(%q) = %q, written for another key", key, v)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testClose(t *testing.T, s store.Store, k keys) {
	key := k.of("x")
	mustSet(t, s, key, []byte("v"), 0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	c := ctx(t)
	calls := map[string]func() error{
		"Get":     func() error { _, err := s.Get(c, key); return err },
		"Set":     func() error { return s.Set(c, key, []byte("v"), 0) },
		"Delete":  func() error { return s.Delete(c, key) },
		"GetMany": func() error { _, err := s.GetMany(c, []string{key}); return err },
		"SetMany": func() error { return s.SetMany(c, []store.Item{{Key: key, Value: []byte("v")}}) },
		"TTL":     func() error { _, err := s.TTL(c, key); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v; want an error wrapping store.ErrClosed", name, err)
		}
	}
}
