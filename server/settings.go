package server

import (
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
	s.aofHooks()
	s.cfg.OnChange("maxmemory-policy", func(old, cur config.Values) error {
		// Into noeviction: lift the engine's bound, then stop keeping an
		// order; out of it: order the keys, then bound them (which
		// evicts down to maxmemory at once, as Redis does at the next
		// write).
		p, a := enginePolicy(&cur)
		if p == shardcache.NoEviction {
			if err := s.cache.SetMaxCost(engineMaxCost(&cur)); err != nil {
				return err
			}
			return s.cache.SetPolicy(p, a)
		}
		if err := s.cache.SetPolicy(p, a); err != nil {
			return err
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

// enginePolicy is the engine's policy for v's maxmemory-policy: NoEviction
// keeps no order (the server answers -OOM itself, see engineMaxCost), and
// allkeys-lfu is LRU with TinyLFU admission, which makes W-TinyLFU.
func enginePolicy(v *config.Values) (shardcache.Policy, shardcache.Admission) {
	switch v.MaxMemoryPolicy {
	case config.PolicyNoEviction:
		return shardcache.NoEviction, shardcache.AdmitAll
	case config.PolicyAllKeysLFU:
		return shardcache.LRU, shardcache.AdmitTinyLFU
	}
	return shardcache.LRU, shardcache.AdmitAll
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
	cfg.Policy, cfg.Admission = enginePolicy(v)
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
