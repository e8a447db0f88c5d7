package shardcache

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"
)

// FuzzCache is a differential test: it decodes the fuzz input into a
// sequence of operations, runs them against a one-shard cache on a manual
// clock and against model (a map, an exact LRU slice and deadlines), and
// compares every result, every OnRemove call in order, Len, Stats and the
// set of live entries. Its seed corpus runs in plain `go test`.
func FuzzCache(f *testing.F) {
	f.Add([]byte{0, 3, 1, 2, 2, 5, 1, 1, 4, 0})
	f.Add([]byte("\x01\x04\x00\x01\x00\x02\x01\x01\x03\x00\x01\x01\x02\x02\x01\x00\x04\x00\x01\x03"))
	f.Add([]byte("\x13\x01\x01\x01\x11\x02\x02\x02\x21\x03\x03\x08\x00\x05\x07\x02\x00\x09\x01\x00"))
	f.Add([]byte("\x82\x01\x01\x01\x01\x02\x02\x01\x03\x03\x02\x04\x04\x07\x03\x07\x04\x00\x03\x00\x06"))
	f.Add([]byte("\x45\x02\x05\x09\x02\x06\x09\x0a\x01\x09\x0b\x00\x07\x06\x07\x0c\x01\x05\x08\x05\x00"))
	f.Add(slices.Repeat([]byte{1, 7, 3, 0, 7, 5, 2, 0, 7, 0, 9}, 20))
	// Costs in units of 2³¹ (colliding hashes and Cost on), some beyond 32
	// bits: big to small by Update, an eviction of them all, Clear.
	f.Add([]byte{0x7b, 1, 1, 3, 1, 2, 4, 1, 3, 2, 0, 1, 0, 3, 1, 2, 1, 4, 5, 0, 4, 0, 4, 4, 0,
		1, 5, 3, 0, 5, 0, 3, 5, 4, 7, 0, 0, 0, 5, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		runDifferential(t, data)
	})
}

// fuzzOp names, for failure messages.
var fuzzOpNames = [...]string{"Get", "Set", "SetWithTTL", "Update", "Delete", "TTL", "Advance", "Clear", "All", "Get"}

type fuzzEvent struct {
	key    int
	value  int
	reason RemoveReason
}

func runDifferential(t *testing.T, data []byte) {
	// The first byte picks the configuration.
	conf := data[0]
	data = data[1:]
	cfg := Config[int, int]{Shards: 1, MaxEntries: 1 + int(conf&7)}
	if conf&0x08 != 0 {
		cfg.Hasher = func(k int) uint64 { return uint64(k & 3) } // colliding hashes share probe runs
	}
	if conf&0x10 != 0 {
		// With colliding hashes, costs are also scaled by 2³¹ so that they
		// straddle what an entry's 32-bit cost field holds (shard.costOf).
		scale := int64(1)
		if conf&0x08 != 0 {
			scale = 1 << 31
		}
		cfg.MaxCost = (1 + int64(conf>>5)) * scale                          // 1..8
		cfg.Cost = func(_, v int) int64 { return (int64(v%7) - 1) * scale } // -1..5: negative and oversized costs too
	}
	if conf&0x80 != 0 {
		cfg.MaxEntries = 0
	}
	var events []fuzzEvent
	cfg.OnRemove = func(k, v int, r RemoveReason) { events = append(events, fuzzEvent{k, v, r}) }
	c := newManual(t, cfg)
	m := newModel(cfg)

	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	for step := 0; len(data) > 0; step++ {
		op := next() % len(fuzzOpNames)
		key := next() % 12
		val := next()
		where := fmt.Sprintf("step %d: %s(%d, %d)", step, fuzzOpNames[op], key, val)
		events = events[:0]
		switch op {
		case 0, 9:
			v, ok := c.Get(key)
			mv, mok := m.get(key)
			if v != mv || ok != mok {
				t.Fatalf("%s: got (%d, %v), model (%d, %v)", where, v, ok, mv, mok)
			}
		case 1:
			c.Set(key, val)
			m.set(key, val, 0)
		case 2:
			ttl := fuzzDuration(next())
			if val&1 == 1 {
				ttl = -ttl
			}
			c.SetWithTTL(key, val, ttl)
			m.set(key, val, ttl)
		case 3:
			ok := c.Update(key, val)
			if mok := m.update(key, val); ok != mok {
				t.Fatalf("%s: got %v, model %v", where, ok, mok)
			}
		case 4:
			ok := c.Delete(key)
			if mok := m.delete(key); ok != mok {
				t.Fatalf("%s: got %v, model %v", where, ok, mok)
			}
		case 5:
			d, ok := c.TTL(key)
			md, mok := m.ttl(key)
			if d != md || ok != mok {
				t.Fatalf("%s: got (%v, %v), model (%v, %v)", where, d, ok, md, mok)
			}
		case 6:
			d := fuzzDuration(val)
			c.advance(d)
			m.advance(d)
			// Entries expiring in one pass may be reported in any order
			// within a tick.
			sortEvents(events)
			sortEvents(m.events)
		case 7:
			c.Clear()
			m.clear()
			sortEvents(events)
			sortEvents(m.events)
		case 8:
			got := map[int]int{}
			for k, v := range c.All() {
				if _, dup := got[k]; dup {
					t.Fatalf("%s: key %d yielded twice", where, k)
				}
				got[k] = v
			}
			if want := m.live(); !mapsEqual(got, want) {
				t.Fatalf("%s: All = %v, model %v", where, got, want)
			}
		}
		if !slices.Equal(events, m.events) {
			t.Fatalf("%s: OnRemove calls %v, model %v", where, events, m.events)
		}
		m.events = m.events[:0]
		if c.Len() != len(m.order) {
			t.Fatalf("%s: Len %d, model %d", where, c.Len(), len(m.order))
		}
		if st := c.Stats(); st != m.stats() {
			t.Fatalf("%s: Stats %+v, model %+v", where, st, m.stats())
		}
		if cfg.MaxEntries > 0 && c.Len() > cfg.MaxEntries {
			t.Fatalf("%s: Len %d over MaxEntries %d", where, c.Len(), cfg.MaxEntries)
		}
	}
}

// fuzzDuration maps a byte to a duration: mostly a few milliseconds, not
// aligned to the clock tick, sometimes much longer.
func fuzzDuration(b int) time.Duration {
	switch {
	case b < 200:
		return time.Duration(b) * 317 * time.Microsecond
	case b < 250:
		return time.Duration(b-199) * time.Second
	default:
		return time.Duration(b-249) * time.Hour
	}
}

func sortEvents(ev []fuzzEvent) {
	slices.SortFunc(ev, func(a, b fuzzEvent) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.value, b.value), cmp.Compare(a.reason, b.reason))
	})
}

func mapsEqual(a, b map[int]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// model is the reference the fuzz test compares the cache with: the
// simplest code that has the documented semantics of a one-shard cache.
type model struct {
	cfg    Config[int, int]
	now    int64
	order  []int // keys, most recently used first
	vals   map[int]int
	costs  map[int]int64
	dls    map[int]int64
	events []fuzzEvent
	st     Stats
}

func newModel(cfg Config[int, int]) *model {
	return &model{cfg: cfg, vals: map[int]int{}, costs: map[int]int64{}, dls: map[int]int64{}}
}

func (m *model) expired(k int) bool { d := m.dls[k]; return d != 0 && d <= m.now }

func (m *model) has(k int) bool { _, ok := m.vals[k]; return ok }

func (m *model) promote(k int) {
	i := slices.Index(m.order, k)
	m.order = slices.Insert(slices.Delete(m.order, i, i+1), 0, k)
}

func (m *model) remove(k int, why RemoveReason) {
	i := slices.Index(m.order, k)
	m.order = slices.Delete(m.order, i, i+1)
	m.events = append(m.events, fuzzEvent{k, m.vals[k], why})
	m.st.Cost -= m.costs[k]
	delete(m.vals, k)
	delete(m.costs, k)
	delete(m.dls, k)
	switch why {
	case ReasonEvicted:
		m.st.Evictions++
	case ReasonExpired:
		m.st.Expirations++
	}
}

func (m *model) cost(k, v int) int64 {
	if m.cfg.Cost == nil {
		return 1
	}
	return m.cfg.Cost(k, v)
}

func (m *model) fits(c int64) bool { return c >= 0 && (m.cfg.MaxCost == 0 || c <= m.cfg.MaxCost) }

func (m *model) evict() {
	for (m.cfg.MaxEntries > 0 && len(m.order) > m.cfg.MaxEntries) || (m.cfg.MaxCost > 0 && m.st.Cost > m.cfg.MaxCost) {
		victim := m.order[len(m.order)-1]
		why := ReasonEvicted
		if m.expired(victim) {
			why = ReasonExpired
		}
		m.remove(victim, why)
	}
}

func (m *model) get(k int) (int, bool) {
	if !m.has(k) || m.expired(k) {
		m.st.Misses++
		return 0, false
	}
	m.st.Hits++
	m.promote(k)
	return m.vals[k], true
}

func (m *model) set(k, v int, ttl time.Duration) {
	if ttl < 0 {
		m.delete(k)
		return
	}
	c := m.cost(k, v)
	if !m.fits(c) {
		if m.has(k) {
			why := ReasonReplaced
			if m.expired(k) {
				why = ReasonExpired
			}
			m.remove(k, why)
		}
		m.st.Rejected++
		return
	}
	var d int64
	if ttl > 0 {
		d = m.now + int64(ttl)
	}
	if m.has(k) {
		why := ReasonReplaced
		if m.expired(k) {
			why = ReasonExpired
			m.st.Expirations++
		}
		m.events = append(m.events, fuzzEvent{k, m.vals[k], why})
		m.st.Cost += c - m.costs[k]
		m.promote(k)
	} else {
		m.st.Cost += c
		m.order = slices.Insert(m.order, 0, k)
	}
	m.vals[k], m.costs[k], m.dls[k] = v, c, d
	m.st.Sets++
	m.evict()
}

func (m *model) update(k, v int) bool {
	if !m.has(k) {
		return false
	}
	if m.expired(k) {
		m.remove(k, ReasonExpired)
		return false
	}
	c := m.cost(k, v)
	if !m.fits(c) {
		m.remove(k, ReasonReplaced)
		m.st.Rejected++
		return false
	}
	m.events = append(m.events, fuzzEvent{k, m.vals[k], ReasonReplaced})
	m.st.Cost += c - m.costs[k]
	m.vals[k], m.costs[k] = v, c
	m.promote(k)
	m.evict()
	return true
}

func (m *model) delete(k int) bool {
	if !m.has(k) {
		return false
	}
	live := !m.expired(k)
	why := ReasonDeleted
	if !live {
		why = ReasonExpired
	}
	m.remove(k, why)
	return live
}

func (m *model) ttl(k int) (time.Duration, bool) {
	if !m.has(k) || m.expired(k) {
		return 0, false
	}
	if m.dls[k] == 0 {
		return 0, true
	}
	return time.Duration(m.dls[k] - m.now), true
}

// advance moves the clock and expires what the wheel fires: every entry
// whose deadline lies in a tick that has fully elapsed.
func (m *model) advance(d time.Duration) {
	m.now += int64(d)
	edge := m.now - m.now%int64(clockTick)
	for _, k := range slices.Clone(m.order) {
		if dl := m.dls[k]; dl != 0 && dl < edge {
			m.remove(k, ReasonExpired)
		}
	}
}

func (m *model) clear() {
	for _, k := range slices.Clone(m.order) {
		m.remove(k, ReasonCleared)
	}
}

func (m *model) live() map[int]int {
	out := map[int]int{}
	for k, v := range m.vals {
		if !m.expired(k) {
			out[k] = v
		}
	}
	return out
}

func (m *model) stats() Stats {
	st := m.st
	st.Entries = len(m.order)
	for _, k := range m.order {
		if m.dls[k] != 0 {
			st.Expiring++
		}
	}
	return st
}
