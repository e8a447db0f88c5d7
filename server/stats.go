package server

import (
	"math/bits"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds of the command latency histogram, in
// microseconds: powers of two from 1 µs to about 1 s, the resolution
// Prometheus's histogram_quantile needs for a cache's latencies.
const latencyBuckets = 21

// cmdStats counts one command's calls and time. Many connections record
// at once: each field is an atomic, and the buckets are a fixed array, so
// recording allocates nothing and takes no lock.
type cmdStats struct {
	calls    atomic.Uint64
	usec     atomic.Uint64
	rejected atomic.Uint64
	failed   atomic.Uint64
	buckets  [latencyBuckets + 1]atomic.Uint64 // the last is +Inf
}

// cmdStatsSet is one command's statistics for each Protocol.
type cmdStatsSet [numProtocols]cmdStats

// record counts one call that took d, and hands a slow one to the slow log.
func (st *cmdStats) record(d time.Duration) {
	us := uint64(d / time.Microsecond)
	st.calls.Add(1)
	st.usec.Add(us)
	b := 0
	if us > 0 {
		b = bits.Len64(us - 1) // the first bucket 2^b µs ≥ us
	}
	st.buckets[min(b, latencyBuckets)].Add(1)
}

// maybeSlow logs a command that took d if it is slower than
// slowlog-log-slower-than.
func (c *client) maybeSlow(d time.Duration, name string, args [][]byte) {
	th := c.srv.set.slowlogThreshold.Load()
	if th < 0 || int64(d/time.Microsecond) < th {
		return
	}
	// Redis keeps at most 32 arguments of at most 128 bytes each.
	n := min(len(args), 32)
	own := make([]string, n)
	for i := range n {
		own[i] = clip(string(args[i]), 128)
	}
	if n < len(args) {
		own[n-1] = "... (" + itoa(len(args)-n+1) + " more arguments)"
	}
	c.srv.slowlog.add(slowEntry{at: time.Now(), duration: d, name: name, args: own, client: c.raddr, clientName: loadString(&c.name)})
}

// bucketBound returns bucket i's upper bound in seconds.
func bucketBound(i int) float64 { return float64(uint64(1)<<i) / 1e6 }

// slowlog keeps the last commands that took longer than
// slowlog-log-slower-than, as Redis's SLOWLOG does (without their
// arguments, which are not kept past the command).
type slowlog struct {
	mu      sync.Mutex
	nextID  int64
	entries []slowEntry // newest last
	max     int
}

type slowEntry struct {
	id         int64
	at         time.Time
	duration   time.Duration
	name       string
	args       []string
	client     string
	clientName string
}

func (l *slowlog) add(e slowEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max == 0 {
		l.max = 128
	}
	e.id = l.nextID
	l.entries = append(l.entries, e)
	l.nextID++
	if over := len(l.entries) - l.max; over > 0 {
		l.entries = append(l.entries[:0], l.entries[over:]...)
	}
}

func (l *slowlog) get(n int) []slowEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	out := make([]slowEntry, 0, n)
	for i := len(l.entries) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, l.entries[i])
	}
	return out
}

func (l *slowlog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

func (l *slowlog) reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}

func itoa(n int) string { return strconv.Itoa(n) }
