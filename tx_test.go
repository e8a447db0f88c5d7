package shardcache

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keysIn returns n distinct keys "prefix<i>" that land in shard i of c.
func keysIn[V any](c *Cache[string, V], shard int, prefix string, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		k := fmt.Sprintf("%s%d", prefix, i)
		if int(c.hash(k)&c.mask) == shard {
			out = append(out, k)
		}
	}
	return out
}

func TestAtomic(t *testing.T) {
	t.Run("transfer across shards", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 8})
		a, b := keysIn(c, 1, "a", 1)[0], keysIn(c, 6, "b", 1)[0]
		c.SetWithTTL(a, 10, time.Hour)
		c.Atomic([]string{a, b}, func(tx *Tx[string, int]) {
			e, ok := tx.Get(a)
			require.True(t, ok)
			assert.Equal(t, time.Hour, e.TTL)
			require.True(t, tx.Set(b, e.Value, e.TTL)) // RENAME
			assert.True(t, tx.Delete(a))
			assert.Equal(t, 1, tx.Len())
		})
		_, ok := c.Get(a)
		assert.False(t, ok)
		v, ok := c.Get(b)
		assert.True(t, ok)
		assert.Equal(t, 10, v)
		ttl, _ := c.TTL(b)
		assert.Equal(t, time.Hour, ttl)
	})
	t.Run("Get is an access, Peek is not", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 2})
		c.Set("old", 1)
		c.Set("new", 2)
		c.Atomic([]string{"old"}, func(tx *Tx[string, int]) { tx.Peek("old") })
		c.Set("x", 3)
		_, ok := c.Peek("old")
		assert.False(t, ok, "Peek did not save old from eviction")

		c.Atomic([]string{"new"}, func(tx *Tx[string, int]) {
			_, ok := tx.Get("new")
			assert.True(t, ok)
			_, ok = tx.Get("absent")
			assert.False(t, ok)
		})
		c.Set("y", 4)
		_, ok = c.Peek("new")
		assert.True(t, ok, "Get promoted new: x was the victim")
		st := c.Stats()
		assert.Equal(t, uint64(1), st.Hits)
		assert.Equal(t, uint64(1), st.Misses)
	})
	t.Run("Set ttl/zero never, negative deletes", func(t *testing.T) {
		var rm removed[string]
		c := newManual(t, Config[string, int]{DefaultTTL: time.Minute, OnRemove: rm.add})
		c.Atomic([]string{"a", "b"}, func(tx *Tx[string, int]) {
			assert.True(t, tx.Set("a", 1, 0))
			assert.True(t, tx.Set("b", 1, time.Millisecond))
			assert.False(t, tx.Set("b", 2, -1))
		})
		ttl, ok := c.TTL("a")
		assert.True(t, ok)
		assert.Zero(t, ttl, "DefaultTTL does not apply to Tx.Set")
		_, ok = c.Get("b")
		assert.False(t, ok)
		assert.Equal(t, []RemoveReason{ReasonDeleted}, rm.reasons)
	})
	t.Run("SetKeepTTL keeps a live deadline", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.SetWithTTL("counter", 1, 10*time.Millisecond)
		c.advance(4 * time.Millisecond)
		c.Atomic([]string{"counter", "fresh"}, func(tx *Tx[string, int]) {
			e, _ := tx.Get("counter")
			assert.True(t, tx.SetKeepTTL("counter", e.Value+1)) // INCR
			assert.True(t, tx.SetKeepTTL("fresh", 1))
		})
		ttl, _ := c.TTL("counter")
		assert.Equal(t, 6*time.Millisecond, ttl)
		v, _ := c.Get("counter")
		assert.Equal(t, 2, v)
		ttl, ok := c.TTL("fresh")
		assert.True(t, ok)
		assert.Zero(t, ttl)

		c.advance(6 * time.Millisecond)
		c.Atomic([]string{"counter"}, func(tx *Tx[string, int]) {
			_, ok := tx.Get("counter")
			assert.False(t, ok, "expired")
			assert.True(t, tx.SetKeepTTL("counter", 1))
		})
		ttl, ok = c.TTL("counter")
		assert.True(t, ok)
		assert.Zero(t, ttl, "an expired entry's deadline is not kept")
	})
	t.Run("Expire and ExpireAt", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		c.Set("b", 1)
		c.Atomic([]string{"a", "b", "c"}, func(tx *Tx[string, int]) {
			assert.True(t, tx.Expire("a", 5*time.Millisecond))
			assert.True(t, tx.ExpireAt("b", time.Unix(1, 0)))
			assert.False(t, tx.Expire("c", time.Hour))
		})
		_, ok := c.Get("b")
		assert.False(t, ok)
		c.advance(6 * time.Millisecond)
		assert.Zero(t, c.Len())
	})
	t.Run("duplicate and empty key lists", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 4})
		c.Atomic([]string{"a", "a", "a"}, func(tx *Tx[string, int]) { tx.Set("a", 1, 0) })
		c.Atomic(nil, func(tx *Tx[string, int]) { assert.Equal(t, 1, tx.Len()) })
		many := make([]string, 50)
		for i := range many {
			many[i] = fmt.Sprint(i)
		}
		c.Atomic(many, func(tx *Tx[string, int]) {
			for _, k := range many {
				tx.Set(k, 1, 0)
			}
		})
		assert.Equal(t, 51, c.Len())
	})
	t.Run("after Close/fn runs, nothing found or stored", func(t *testing.T) {
		c := newManual(t, Config[string, int]{})
		c.Set("a", 1)
		require.NoError(t, c.Close())
		ran := false
		c.Atomic([]string{"a"}, func(tx *Tx[string, int]) {
			ran = true
			_, ok := tx.Get("a")
			assert.False(t, ok)
			assert.False(t, tx.Set("a", 2, 0))
			assert.False(t, tx.SetKeepTTL("a", 2))
		})
		assert.True(t, ran)
		assert.Zero(t, c.Len())
	})
	t.Run("a new deadline wakes the janitor", func(t *testing.T) {
		expired := make(chan string, 1)
		c, err := New(Config[string, int]{OnRemove: func(k string, _ int, why RemoveReason) {
			if why == ReasonExpired {
				expired <- k
			}
		}})
		require.NoError(t, err)
		defer c.Close()
		require.Eventually(t, c.idle.Load, time.Second, time.Millisecond)
		c.Atomic([]string{"a"}, func(tx *Tx[string, int]) { tx.Set("a", 1, 5*time.Millisecond) })
		select {
		case k := <-expired:
			assert.Equal(t, "a", k)
		case <-time.After(5 * time.Second):
			t.Fatal("never expired")
		}
	})
}

func TestAtomicAll(t *testing.T) {
	c := newManual(t, Config[string, int]{Shards: 8})
	for i := range 100 {
		c.Set(fmt.Sprint(i), i)
	}
	c.SetWithTTL("expired", 1, time.Millisecond)
	c.clock.now.Add(int64(time.Millisecond))
	c.AtomicAll(func(tx *Tx[string, int]) {
		seen := map[string]bool{}
		for k := range tx.Keys {
			_, ok := tx.Get(k) // reads are allowed inside Keys
			require.True(t, ok)
			seen[k] = true
		}
		assert.Len(t, seen, 100, "the expired key is skipped")
		n := 0
		tx.Keys(func(string) bool { n++; return n < 10 })
		assert.Equal(t, 10, n, "false stops")
		assert.Equal(t, 101, tx.Len())
		tx.Clear()
		assert.Zero(t, tx.Len())
		assert.True(t, tx.Set("after", 1, 0))
	})
	assert.Equal(t, 1, c.Len())
}

func TestAtomicMisuse(t *testing.T) {
	c := newManual(t, Config[string, int]{Shards: 8})
	a, b := keysIn(c, 2, "a", 1)[0], keysIn(c, 5, "b", 1)[0]
	t.Run("key outside the locked shards panics", func(t *testing.T) {
		assert.PanicsWithValue(t,
			"shardcache: Tx used on key "+b+", whose shard its Atomic did not lock: list every key the function uses in Atomic's keys",
			func() { c.Atomic([]string{a}, func(tx *Tx[string, int]) { tx.Get(b) }) })
	})
	t.Run("use after return panics", func(t *testing.T) {
		var kept *Tx[string, int]
		c.Atomic([]string{a}, func(tx *Tx[string, int]) { kept = tx })
		assert.PanicsWithValue(t, "shardcache: Tx used after the function passed to Atomic returned",
			func() { kept.Get(a) })
		assert.Panics(t, func() { kept.Len() })
	})
	t.Run("Clear and Keys outside AtomicAll panic", func(t *testing.T) {
		assert.PanicsWithValue(t, "shardcache: Tx.Clear needs every shard locked: call it inside AtomicAll, not Atomic",
			func() { c.Atomic([]string{a}, func(tx *Tx[string, int]) { tx.Clear() }) })
		assert.Panics(t, func() {
			c.Atomic([]string{a}, func(tx *Tx[string, int]) { tx.Keys(func(string) bool { return true }) })
		})
	})
	t.Run("writes inside Keys panic", func(t *testing.T) {
		c.Set(a, 1)
		for name, write := range map[string]func(tx *Tx[string, int]){
			"Set":    func(tx *Tx[string, int]) { tx.Set(a, 2, 0) },
			"Delete": func(tx *Tx[string, int]) { tx.Delete(a) },
			"Expire": func(tx *Tx[string, int]) { tx.Expire(a, -1) },
			"Clear":  func(tx *Tx[string, int]) { tx.Clear() },
		} {
			assert.Panics(t, func() {
				c.AtomicAll(func(tx *Tx[string, int]) {
					tx.Keys(func(string) bool { write(tx); return true })
				})
			}, name)
		}
		v, ok := c.Get(a)
		assert.True(t, ok)
		assert.Equal(t, 1, v)
	})
	// Every panic above released its locks: this would deadlock otherwise.
	c.AtomicAll(func(tx *Tx[string, int]) {})
}

// TestAtomicPanicReleases: a panicking fn keeps what it changed (no
// rollback), releases every lock, and the OnRemove calls it owes are made,
// after the unlock, before the panic reaches the caller.
func TestAtomicPanicReleases(t *testing.T) {
	var (
		c       *Cache[string, int]
		reasons []RemoveReason
		readOK  []bool
	)
	c = newManual(t, Config[string, int]{Shards: 8, OnRemove: func(k string, _ int, why RemoveReason) {
		reasons = append(reasons, why)
		_, ok := c.Get(k) // would deadlock under the shard lock
		readOK = append(readOK, ok)
	}})
	a, b := keysIn(c, 1, "a", 1)[0], keysIn(c, 7, "b", 1)[0]
	c.Set(a, 1)
	c.Set(b, 1)
	func() {
		defer func() { assert.Equal(t, "boom", recover()) }()
		c.Atomic([]string{a, b}, func(tx *Tx[string, int]) {
			tx.Set(a, 2, 0) // ReasonReplaced
			tx.Delete(b)    // ReasonDeleted
			panic("boom")
		})
	}()
	assert.Equal(t, []RemoveReason{ReasonReplaced, ReasonDeleted}, reasons)
	assert.Equal(t, []bool{true, false}, readOK)
	v, _ := c.Get(a)
	assert.Equal(t, 2, v, "not rolled back")

	// runtime.Goexit too.
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Atomic([]string{a, b}, func(tx *Tx[string, int]) { tx.Delete(a); runtime.Goexit() })
	}()
	<-done
	assert.Equal(t, ReasonDeleted, reasons[len(reasons)-1])
	c.AtomicAll(func(tx *Tx[string, int]) { assert.Zero(t, tx.Len()) })
}

// TestAtomicOnRemoveReasons: evictions, replacements, expirations and
// deletions made inside fn reach OnRemove with their reasons, in order,
// once fn has returned.
func TestAtomicOnRemoveReasons(t *testing.T) {
	var rm removed[string]
	inside := true
	c := newManual(t, Config[string, int]{Shards: 1, MaxEntries: 3, OnRemove: func(k string, v int, why RemoveReason) {
		assert.False(t, inside, "OnRemove ran inside fn")
		rm.add(k, v, why)
	}})
	c.Set("lru", 1)
	c.Set("x", 1)
	c.SetWithTTL("short", 1, time.Millisecond)
	c.clock.now.Add(int64(time.Millisecond))
	c.Atomic([]string{"x"}, func(tx *Tx[string, int]) {
		tx.Set("x", 2, 0)        // replaced
		tx.Set("short", 2, 0)    // the expired value leaves as expired
		tx.Set("new", 1, 0)      // evicts lru
		tx.Expire("new", -1)     // deleted
		tx.Set("new2", 1, 0)     // room from new's deletion
		assert.Empty(t, rm.keys) // nothing reported yet
		inside = false
	})
	assert.Equal(t, []string{"x", "short", "lru", "new"}, rm.keys)
	assert.Equal(t, []RemoveReason{ReasonReplaced, ReasonExpired, ReasonEvicted, ReasonDeleted}, rm.reasons)
}

func TestAtomicAllocs(t *testing.T) {
	const runs = 1000
	t.Run("one key", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 8, OnRemove: func(string, int, RemoveReason) {}})
		c.Set("k", 0)
		key := "k"
		i := 0
		assert.Zero(t, testing.AllocsPerRun(runs, func() {
			c.Atomic([]string{key}, func(tx *Tx[string, int]) {
				e, _ := tx.Get(key)
				i++
				tx.SetKeepTTL(key, e.Value+i)
			})
		}))
	})
	t.Run("two keys", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 8})
		assert.Zero(t, testing.AllocsPerRun(runs, func() {
			c.Atomic([]int{1, 2}, func(tx *Tx[int, int]) {
				e, _ := tx.Get(1)
				tx.Set(2, e.Value+1, 0)
			})
		}))
	})
	t.Run("all", func(t *testing.T) {
		c := newManual(t, Config[int, int]{Shards: 8})
		c.Set(1, 1)
		assert.Zero(t, testing.AllocsPerRun(runs, func() {
			c.AtomicAll(func(tx *Tx[int, int]) { tx.Get(1) })
		}))
	})
}

// TestAtomicBudget: sets inside Atomic keep the whole cache within
// MaxEntries and MaxCost, and make room from the other shards the Tx holds
// (which a plain steal could not lock), or from any shard in AtomicAll.
func TestAtomicBudget(t *testing.T) {
	t.Run("room from another shard the Tx holds", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 2, MaxEntries: 4})
		full := keysIn(c, 1, "full", 5)
		for _, k := range full[:4] {
			require.True(t, c.Set(k, 1))
		}
		empty := keysIn(c, 0, "empty", 1)[0]
		c.Atomic([]string{empty, full[4]}, func(tx *Tx[string, int]) {
			assert.True(t, tx.Set(empty, 1, 0), "shard 1 is the Tx's: evict from it")
		})
		assert.Equal(t, 4, c.Len())
		_, ok := c.Peek(full[0])
		assert.False(t, ok, "shard 1's LRU victim made room")
	})
	t.Run("AtomicAll fills an empty shard of a full cache", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 16, MaxEntries: 16})
		for _, k := range keysIn(c, 3, "k", 16) {
			require.True(t, c.Set(k, 1))
		}
		c.AtomicAll(func(tx *Tx[string, int]) {
			for s := range 16 {
				for _, k := range keysIn(c, s, "new", 2) {
					assert.True(t, tx.Set(k, 1, 0))
					assert.LessOrEqual(t, tx.Len(), 16)
				}
			}
		})
		assert.Equal(t, 16, c.Len())
	})
	t.Run("cost bound", func(t *testing.T) {
		c := newManual(t, Config[string, int]{Shards: 4, MaxCost: 100, Cost: func(_ string, v int) int64 { return int64(v) }})
		c.AtomicAll(func(tx *Tx[string, int]) {
			for i := range 50 {
				tx.Set(fmt.Sprint(i), 10+i%7, 0)
				require.LessOrEqual(t, tx.c.Cost(), int64(100))
			}
			assert.False(t, tx.Set("huge", 101, 0), "above MaxCost")
		})
		assert.LessOrEqual(t, c.Cost(), int64(100))
		assert.Positive(t, c.Stats().Rejected)
	})
	t.Run("concurrent Atomic sets at full cache", func(t *testing.T) {
		const max = 64
		c := newManual(t, Config[int, int]{Shards: 16, MaxEntries: max, MaxCost: 3 * max,
			Cost: func(k, _ int) int64 { return int64(1 + k%3) }})
		var wg sync.WaitGroup
		var stop atomic.Bool
		for g := range 4 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(g), 1))
				for i := 0; i < 3000; i++ {
					keys := []int{r.IntN(1000), r.IntN(1000), r.IntN(1000)}
					c.Atomic(keys, func(tx *Tx[int, int]) {
						for _, k := range keys {
							tx.Set(k, i, 0)
						}
					})
				}
			})
		}
		wg.Go(func() {
			for !stop.Load() {
				c.Set(rand.IntN(1000), 1)
			}
		})
		wg.Go(func() {
			for !stop.Load() {
				c.AtomicAll(func(tx *Tx[int, int]) {
					assert.LessOrEqual(t, tx.Len(), max)
					assert.LessOrEqual(t, c.Cost(), int64(3*max))
				})
			}
		})
		time.Sleep(10 * time.Millisecond)
		for i := 0; i < 4; i++ {
			assert.LessOrEqual(t, c.Len(), max)
			assert.LessOrEqual(t, c.Cost(), int64(3*max))
			time.Sleep(5 * time.Millisecond)
		}
		stop.Store(true)
		wg.Wait()
		assert.LessOrEqual(t, c.Len(), max)
	})
}

// TestAtomicStress moves amounts between accounts in different shards
// through Atomic while other goroutines Get, Set and Delete other keys and
// AtomicAll audits: the total over the accounts, read in one Atomic or
// AtomicAll, never changes. Run with -race.
func TestAtomicStress(t *testing.T) {
	const (
		accounts = 32
		total    = accounts * 100
	)
	c, err := New(Config[string, int]{Shards: 16})
	require.NoError(t, err)
	defer c.Close()
	names := make([]string, accounts)
	for i := range names {
		names[i] = fmt.Sprintf("acct:%d", i)
		c.Set(names[i], total/accounts)
	}
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	var movers, wg sync.WaitGroup
	var stop atomic.Bool
	for g := range 4 {
		movers.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 2))
			for range iters {
				from, to := names[r.IntN(accounts)], names[r.IntN(accounts)]
				amount := r.IntN(10)
				c.Atomic([]string{to, from}, func(tx *Tx[string, int]) {
					f, ok1 := tx.Get(from)
					d, ok2 := tx.Get(to)
					if !assert.True(t, ok1 && ok2) || from == to || f.Value < amount {
						return
					}
					tx.SetKeepTTL(from, f.Value-amount)
					tx.SetKeepTTL(to, d.Value+amount)
				})
			}
		})
	}
	// Auditors: a random subset cannot be checked, so read all accounts in
	// one Atomic, and the whole cache in AtomicAll.
	wg.Go(func() {
		for !stop.Load() {
			c.Atomic(names, func(tx *Tx[string, int]) {
				sum := 0
				for _, k := range names {
					e, _ := tx.Peek(k)
					sum += e.Value
				}
				assert.Equal(t, total, sum)
			})
		}
	})
	wg.Go(func() {
		for !stop.Load() {
			c.AtomicAll(func(tx *Tx[string, int]) {
				sum := 0
				for k := range tx.Keys {
					if len(k) > 5 && k[:5] == "acct:" {
						e, _ := tx.Peek(k)
						sum += e.Value
					}
				}
				assert.Equal(t, total, sum)
			})
		}
	})
	// Noise on other keys of the same shards.
	for g := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 3))
			for !stop.Load() {
				k := fmt.Sprintf("noise:%d", r.IntN(500))
				switch r.IntN(3) {
				case 0:
					c.Set(k, 1)
				case 1:
					c.Get(k)
				default:
					c.Delete(k)
				}
			}
		})
	}
	movers.Wait()
	stop.Store(true)
	wg.Wait()
}

// TestTxSetKeepsLiveKey pins what SetKeepTTL's doc promises: a live entry
// keeps the key it was stored with, so a caller may pass a key that
// aliases a buffer it reuses afterwards.
func TestTxSetKeepsLiveKey(t *testing.T) {
	c := newManual(t, Config[string, int]{})
	c.Set("counter", 1)
	buf := []byte("counter")
	alias := unsafe.String(&buf[0], len(buf))
	c.Atomic([]string{alias}, func(tx *Tx[string, int]) {
		e, ok := tx.Get(alias)
		require.True(t, ok)
		require.True(t, tx.SetKeepTTL(alias, e.Value+1))
		require.True(t, tx.Set(alias, e.Value+2, 0))
	})
	copy(buf, "XXXXXXX") // the caller reuses its buffer
	v, ok := c.Get("counter")
	assert.True(t, ok)
	assert.Equal(t, 3, v)
	for k := range c.Keys() {
		assert.Equal(t, "counter", k)
	}
}
