package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// errorReply writes an error reply and counts it: by its prefix for
// INFO errorstats, and as a failed call of the running command.
func (c *client) errorReply(msg string) {
	c.failed = true
	c.srv.errors.count(msg)
	c.w.Error(msg)
}

// errorCounts counts error replies by their first word (ERR, WRONGPASS,
// OOM, ...), as INFO errorstats reports them.
type errorCounts struct {
	mu     sync.RWMutex
	counts map[string]*atomic.Uint64
	total  atomic.Uint64
}

func (e *errorCounts) count(msg string) {
	e.total.Add(1)
	prefix, _, _ := strings.Cut(msg, " ")
	e.mu.RLock()
	n := e.counts[prefix]
	e.mu.RUnlock()
	if n == nil {
		e.mu.Lock()
		if e.counts == nil {
			e.counts = map[string]*atomic.Uint64{}
		}
		if n = e.counts[prefix]; n == nil && len(e.counts) < 128 {
			n = new(atomic.Uint64)
			e.counts[prefix] = n
		}
		e.mu.Unlock()
		if n == nil {
			return // Redis too stops tracking new prefixes past 128
		}
	}
	n.Add(1)
}

func (s *Server) errorReplies() uint64 { return s.errors.total.Load() }

func (s *Server) eachErrorStat(fn func(string, uint64)) {
	s.errors.mu.RLock()
	names := make([]string, 0, len(s.errors.counts))
	for n := range s.errors.counts {
		names = append(names, n)
	}
	s.errors.mu.RUnlock()
	slices.Sort(names)
	for _, n := range names {
		s.errors.mu.RLock()
		v := s.errors.counts[n].Load()
		s.errors.mu.RUnlock()
		fn(n, v)
	}
}

func (s *Server) resetStats() {
	s.commandsProcessed.Store(0)
	s.rejectedCalls.Store(0)
	s.connectionsReceived.Store(0)
	s.rejectedConns.Store(0)
	s.keyspaceHits.Store(0)
	s.keyspaceMisses.Store(0)
	s.authFailures.Store(0)
	s.errors.mu.Lock()
	s.errors.counts = nil
	s.errors.total.Store(0)
	s.errors.mu.Unlock()
	s.eachCommandStats(func(_ string, set *cmdStatsSet) {
		for j := range set {
			st := &set[j]
			st.calls.Store(0)
			st.usec.Store(0)
			st.rejected.Store(0)
			st.failed.Store(0)
			for i := range st.buckets {
				st.buckets[i].Store(0)
			}
		}
	})
	s.slowlog.reset()
}

// countLookup counts a read of a key for keyspace_hits/misses.
func (s *Server) countLookup(hit bool) {
	if hit {
		s.keyspaceHits.Add(1)
	} else {
		s.keyspaceMisses.Add(1)
	}
}

// entryCost is what one key costs against maxmemory: its bytes and the
// per-entry overhead.
func entryCost(key string, value []byte) int64 {
	return int64(len(key)+cap(value)) + entryOverhead
}

// usedMemory is the memory the keyspace accounts for: the sum of the
// entries' costs, which is what maxmemory bounds.
func (s *Server) usedMemory() int64 { return s.cache.Cost() }

func (s *Server) notePeak(used int64) int64 {
	for {
		p := s.peakMemory.Load()
		if used <= p {
			return p
		}
		if s.peakMemory.CompareAndSwap(p, used) {
			return used
		}
	}
}

// overMemory reports whether a command that may grow memory must be
// refused: under noeviction, when used memory exceeds maxmemory.
func (s *Server) overMemory() bool {
	mm := s.set.maxMemory.Load()
	return mm > 0 && s.set.noEviction.Load() && s.cache.Cost() > mm
}

// fits reports whether a value for key can be stored at all: under a
// maxmemory with eviction, an entry bigger than the whole budget cannot
// (Redis answers OOM after evicting everything).
func (s *Server) fits(key string, value []byte) bool {
	mm := s.set.maxMemory.Load()
	return mm == 0 || entryCost(key, value) <= mm
}

func (s *Server) needsAuth() bool {
	p := s.set.requirePass.Load()
	return p != nil && *p != ""
}

func (s *Server) idleTimeout() time.Duration { return time.Duration(s.set.timeout.Load()) }

func (s *Server) shutdownTimeout() time.Duration {
	if d := time.Duration(s.set.shutdownTimeout.Load()); d > 0 {
		return d
	}
	return 10 * time.Second
}

func (s *Server) lfu() bool { return loadString(&s.set.policy) == "allkeys-lfu" }

// opsPerSec is the instantaneous command rate, sampled by the stats
// ticker.
func (s *Server) opsPerSec() int64 { return s.ops.rate.Load() }

// opsSampler samples total_commands_processed ten times a second and keeps
// the rate over the last second, as Redis's instantaneous_ops_per_sec.
type opsSampler struct {
	rate    atomic.Int64
	samples [10]uint64
	i       int
}

func (o *opsSampler) run(s *Server) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		cur := s.commandsProcessed.Load()
		old := o.samples[o.i]
		o.samples[o.i] = cur
		o.i = (o.i + 1) % len(o.samples)
		if old != 0 || cur < uint64(len(o.samples)) {
			o.rate.Store(int64(cur - old))
		}
	}
}

// expiresEstimate returns the number of keys with a TTL and their average
// TTL in milliseconds, for INFO keyspace.
func (s *Server) expiresEstimate() (n int64, avgMs int64) {
	n = int64(s.cache.Stats().Expiring)
	if n == 0 {
		return 0, 0
	}
	// Sample up to 64 keys with a TTL, as Redis's estimate is sampled too.
	var sum, seen int64
	for range 256 {
		k, ok := s.cache.RandomKey()
		if !ok {
			break
		}
		if e, ok := s.cache.GetEntry(k); ok && e.TTL > 0 {
			sum += e.TTL.Milliseconds()
			if seen++; seen == 64 {
				break
			}
		}
	}
	if seen == 0 {
		return n, 0
	}
	return n, sum / seen
}

func newRunID() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func sortClients(cs []*client) {
	slices.SortFunc(cs, func(a, b *client) int { return int(a.id - b.id) })
}

// isEMFILE reports whether an accept failed for want of file descriptors
// (EMFILE, ENFILE): worth retrying after a pause.
func isEMFILE(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// protectedModeError is Redis's refusal of a non-loopback client when
// protected mode is on and no password is set.
const protectedModeError = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

// protectedDenies reports whether protected mode refuses conn.
func (s *Server) protectedDenies(conn net.Conn) bool { return s.ProtectedDenies(conn.RemoteAddr()) }

// ProtectedDenies reports whether protected mode refuses a client at
// addr: it is on, no password is set, and addr is a TCP address off the
// loopback interface. The remote APIs ask it for every call, as RESP does
// for every connection. Safe for concurrent use.
func (s *Server) ProtectedDenies(addr net.Addr) bool {
	if !s.set.protectedMode.Load() || s.needsAuth() {
		return false
	}
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return false // a Unix socket (or an in-process pipe) is local
	}
	return !ta.IP.IsLoopback()
}

// monotonic is the time since the server started, from the monotonic
// clock alone: cheaper than time.Now, which also reads the wall clock.
func (s *Server) monotonic() time.Duration { return time.Since(s.started) }
