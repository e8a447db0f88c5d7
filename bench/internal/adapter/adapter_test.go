package adapter

import (
	"errors"
	"strconv"
	"testing"
)

// TestSmoke runs every adapter through the contract the suite relies on:
// a Set key is found with its value, an absent key misses, and Close returns.
func TestSmoke(t *testing.T) {
	t.Run("keys=string", func(t *testing.T) {
		smoke(t, func(i int) string { return "k" + strconv.Itoa(i) })
	})
	t.Run("keys=int", func(t *testing.T) {
		smoke(t, func(i int) uint64 { return uint64(i) * 0x9e3779b97f4a7c15 })
	})
}

func smoke[K Key](t *testing.T, key func(int) K) {
	for _, f := range All[K, uint64]() {
		t.Run("cache="+f.Name, func(t *testing.T) {
			c, err := f.New(Config{Capacity: 1000, Exact: true})
			if errors.Is(err, ErrUnsupported) {
				t.Skipf("%s: %v", f.Name, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Name() != f.Name && !f.SimOnly {
				t.Errorf("Name() = %q, factory says %q", c.Name(), f.Name)
			}
			// Admission policies (TinyLFU) may refuse a brand-new key while
			// the cache is full, never while it has room: use few keys.
			for i := range 10 {
				c.Set(key(i), uint64(i)+100)
			}
			for i := range 10 {
				if v, ok := c.Get(key(i)); !ok || v != uint64(i)+100 {
					t.Errorf("Get(%v) = %d, %v; want %d, true", key(i), v, ok, i+100)
				}
			}
			if v, ok := c.Get(key(12345)); ok {
				t.Errorf("Get(absent) = %d, true; want a miss", v)
			}
			c.Set(key(3), 7) // overwrite
			if v, ok := c.Get(key(3)); !ok || v != 7 {
				t.Errorf("after overwrite Get = %d, %v; want 7, true", v, ok)
			}
		})
	}
}

// TestBounded checks that each bounded cache stays near its capacity after
// many distinct keys (go-cache is unbounded by design and is skipped).
func TestBounded(t *testing.T) {
	const capacity = 500
	for _, f := range All[uint64, uint64]() {
		t.Run("cache="+f.Name, func(t *testing.T) {
			c, err := f.New(Config{Capacity: capacity, Exact: true})
			if errors.Is(err, ErrUnsupported) {
				t.Skipf("%s: %v", f.Name, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := range uint64(20 * capacity) {
				c.Set(i, i)
			}
			held := 0
			for i := range uint64(20 * capacity) {
				if _, ok := c.Get(i); ok {
					held++
				}
			}
			// A little slack: some caches admit one over before evicting.
			if held == 0 || held > capacity+capacity/10 {
				t.Errorf("holds %d of %d keys set, capacity %d", held, 20*capacity, capacity)
			}
		})
	}
}

func TestCapacityMustBePositive(t *testing.T) {
	for _, f := range All[string, int]() {
		if _, err := f.New(Config{}); err == nil {
			t.Errorf("%s: New with capacity 0 succeeded", f.Name)
		}
	}
}

func TestLookup(t *testing.T) {
	if f, err := Lookup[string, int]("otter"); err != nil || f.Name != "otter" {
		t.Fatalf("Lookup(otter) = %q, %v", f.Name, err)
	}
	if _, err := Lookup[string, int]("nope"); err == nil {
		t.Fatal("Lookup(nope) succeeded")
	}
}
