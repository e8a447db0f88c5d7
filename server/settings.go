package server

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/server/config"
)

// settings mirrors the configuration values the connections read on every
// command or accept, as atomics: reading them takes no lock. CONFIG SET's
// hooks (applyConfig) keep them current.
type settings struct {
	requirePass      atomic.Pointer[string]
	timeout          atomic.Int64 // nanoseconds; 0: never
	maxClients       atomic.Int64
	maxMemory        atomic.Int64
	noEviction       atomic.Bool
	policy           atomic.Pointer[string]
	protoMaxBulkLen  atomic.Int64
	protectedMode    atomic.Bool
	port             atomic.Int64
	dir              atomic.Pointer[string]
	dbfilename       atomic.Pointer[string]
	shutdownTimeout  atomic.Int64
	slowlogThreshold atomic.Int64 // microseconds; negative: off
	save             atomic.Pointer[[]config.SaveRule]
	configFile       string
}

func (s *Server) saveRules() []config.SaveRule {
	if p := s.set.save.Load(); p != nil {
		return *p
	}
	return nil
}

// mirror copies v into the settings.
func (st *settings) mirror(v *config.Values) {
	st.requirePass.Store(&v.RequirePass)
	st.timeout.Store(int64(v.Timeout))
	st.maxClients.Store(int64(v.MaxClients))
	st.maxMemory.Store(v.MaxMemory)
	st.noEviction.Store(v.MaxMemoryPolicy == "noeviction")
	policy := v.MaxMemoryPolicy
	st.policy.Store(&policy)
	st.protoMaxBulkLen.Store(v.ProtoMaxBulkLen)
	st.protectedMode.Store(v.ProtectedMode)
	st.port.Store(int64(v.Port))
	dir, file := v.Dir, v.DBFilename
	st.dir.Store(&dir)
	st.dbfilename.Store(&file)
	st.shutdownTimeout.Store(int64(v.ShutdownTimeout))
	st.slowlogThreshold.Store(int64(v.SlowlogLogSlowerThan))
	save := v.Save
	st.save.Store(&save)
}

// applyConfig mirrors the configuration and registers the hooks that apply
// CONFIG SET's changes to the running server.
func (s *Server) applyConfig() error {
	v := s.cfg.Snapshot()
	s.set.mirror(v)
	s.slowlog.max = v.SlowlogMaxLen
	startLFU := v.MaxMemoryPolicy == config.PolicyAllKeysLFU
	s.aofHooks()
	s.cfg.OnChange("maxmemory-policy", func(old, cur config.Values) error {
		// The engine's admission filter is chosen in New: a running
		// server switches between noeviction and the evicting policy it
		// started with, not between LRU and LFU.
		switch {
		case cur.MaxMemoryPolicy == config.PolicyAllKeysLFU && !startLFU:
			return errors.New("allkeys-lfu needs a restart: the admission filter is chosen at start")
		case cur.MaxMemoryPolicy == config.PolicyAllKeysLRU && startLFU:
			return errors.New("allkeys-lru needs a restart: the admission filter is chosen at start")
		}
		return s.cache.SetMaxCost(engineMaxCost(&cur))
	})
	s.cfg.OnChange("maxmemory", func(old, cur config.Values) error {
		return s.cache.SetMaxCost(engineMaxCost(&cur))
	})
	for _, name := range []string{"requirepass", "timeout", "maxclients", "maxmemory", "maxmemory-policy",
		"proto-max-bulk-len", "protected-mode", "save", "shutdown-timeout", "slowlog-log-slower-than", "slowlog-max-len"} {
		s.cfg.OnChange(name, func(old, cur config.Values) error {
			s.set.mirror(&cur)
			s.slowlog.setMax(cur.SlowlogMaxLen)
			return nil
		})
	}
	return nil
}

// engineMaxCost is the engine's cost bound for v: maxmemory when the
// policy evicts; none under noeviction, where the server refuses writes
// with -OOM instead (overMemory).
func engineMaxCost(v *config.Values) int64 {
	if v.MaxMemoryPolicy == "noeviction" {
		return 0
	}
	return v.MaxMemory
}

// newCache builds the keyspace from the configuration.
func (s *Server) newCache() (*shardcache.Cache[string, []byte], error) {
	v := s.cfg.Snapshot()
	cfg := shardcache.Config[string, []byte]{
		Shards:  v.Shards,
		MaxCost: engineMaxCost(v),
		Cost:    entryCost,
		// Logs expirations and evictions to the AOF (aof.go).
		OnRemove: s.onRemove,
	}
	if v.MaxMemoryPolicy == "allkeys-lfu" {
		cfg.Admission = shardcache.AdmitTinyLFU
	}
	c, err := shardcache.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("keyspace: %w", err)
	}
	return c, nil
}

func (l *slowlog) setMax(n int) {
	l.mu.Lock()
	l.max = n
	if over := len(l.entries) - n; n > 0 && over > 0 {
		l.entries = append(l.entries[:0], l.entries[over:]...)
	}
	l.mu.Unlock()
}
