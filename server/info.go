package server

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// infoSections are INFO's sections in Redis's order; "default" and "all"
// select among them.
var infoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "commandstats", "errorstats", "keyspace"}

// defaultSections are those INFO prints without an argument: all but
// commandstats, as Redis 7.
var defaultSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "errorstats", "keyspace"}

func cmdInfo(c *client, args [][]byte) {
	want := map[string]bool{}
	if len(args) == 1 {
		for _, s := range defaultSections {
			want[s] = true
		}
	}
	for _, a := range args[1:] {
		switch s := strings.ToLower(string(a)); s {
		case "all", "everything":
			for _, s := range infoSections {
				want[s] = true
			}
		case "default":
			for _, s := range defaultSections {
				want[s] = true
			}
		default:
			want[s] = true
		}
	}
	var b strings.Builder
	for _, s := range infoSections {
		if !want[s] {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		c.srv.infoSection(&b, s, c)
	}
	c.w.Verbatim("txt", b.String())
}

// infoSection writes one INFO section: "# Title" and field:value lines,
// each ending in \r\n as Redis writes them.
func (s *Server) infoSection(b *strings.Builder, name string, c *client) {
	f := func(k string, v any) { fmt.Fprintf(b, "%s:%v\r\n", k, v) }
	now := time.Now()
	switch name {
	case "server":
		b.WriteString("# Server\r\n")
		f("redis_version", RedisVersion)
		f("shardcached_version", Version)
		f("redis_git_sha1", "00000000")
		f("redis_git_dirty", 0)
		f("redis_build_id", "0")
		f("redis_mode", "standalone")
		f("os", runtime.GOOS+" "+runtime.GOARCH)
		f("arch_bits", strconv.IntSize)
		if s.loops.Load() != nil {
			f("multiplexing_api", "epoll")
		} else {
			f("multiplexing_api", "go")
		}
		f("go_version", runtime.Version())
		f("process_id", os.Getpid())
		f("process_supervised", "no")
		f("run_id", s.runID)
		f("tcp_port", s.set.port.Load())
		f("server_time_usec", now.UnixMicro())
		up := now.Sub(s.started)
		f("uptime_in_seconds", int64(up/time.Second))
		f("uptime_in_days", int64(up/(24*time.Hour)))
		f("hz", 10)
		f("configured_hz", 10)
		f("lru_clock", now.Unix()&(1<<24-1))
		exe, _ := os.Executable()
		f("executable", exe)
		f("config_file", s.set.configFile)
		f("io_threads_active", 0)
	case "clients":
		b.WriteString("# Clients\r\n")
		f("connected_clients", s.clients.n.Load())
		f("cluster_connections", 0)
		f("maxclients", s.set.maxClients.Load())
		f("client_recent_max_input_buffer", 0)
		f("client_recent_max_output_buffer", 0)
		f("blocked_clients", 0)
		f("tracking_clients", 0)
		f("clients_in_timeout_table", 0)
	case "memory":
		used := s.usedMemory()
		peak := s.notePeak(used)
		rss := residentBytes()
		b.WriteString("# Memory\r\n")
		f("used_memory", used)
		f("used_memory_human", humanBytes(used))
		f("used_memory_rss", rss)
		f("used_memory_rss_human", humanBytes(rss))
		f("used_memory_peak", peak)
		f("used_memory_peak_human", humanBytes(peak))
		f("used_memory_peak_perc", percent(used, peak))
		f("used_memory_dataset", used)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		f("go_heap_alloc", ms.HeapAlloc)
		f("go_heap_sys", ms.HeapSys)
		f("go_gc_count", ms.NumGC)
		f("total_system_memory", totalSystemMemory())
		f("total_system_memory_human", humanBytes(totalSystemMemory()))
		mm := s.set.maxMemory.Load()
		f("maxmemory", mm)
		f("maxmemory_human", humanBytes(mm))
		f("maxmemory_policy", loadString(&s.set.policy))
		if used > 0 {
			f("mem_fragmentation_ratio", fmt.Sprintf("%.2f", float64(rss)/float64(used)))
		} else {
			f("mem_fragmentation_ratio", "0.00")
		}
		f("mem_allocator", "go")
		f("lazyfree_pending_objects", 0)
	case "persistence":
		p := &s.persist
		b.WriteString("# Persistence\r\n")
		f("loading", b01(p.loading.Load()))
		f("async_loading", 0)
		f("rdb_changes_since_last_save", s.dirty.Load())
		f("rdb_bgsave_in_progress", b01(p.running.Load()))
		f("rdb_last_save_time", p.lastSave.Load())
		if p.lastStatusOK.Load() {
			f("rdb_last_bgsave_status", "ok")
		} else {
			f("rdb_last_bgsave_status", "err")
		}
		if p.saves.Load() > 0 || !p.lastStatusOK.Load() {
			f("rdb_last_bgsave_time_sec", int64(time.Duration(p.lastDuration.Load())/time.Second))
		} else {
			f("rdb_last_bgsave_time_sec", -1)
		}
		f("rdb_current_bgsave_time_sec", -1)
		f("rdb_saves", p.saves.Load())
		s.aofInfo(f)
	case "stats":
		st := s.cache.Stats()
		b.WriteString("# Stats\r\n")
		f("total_connections_received", s.connectionsReceived.Load())
		f("total_commands_processed", s.commandsProcessed.Load())
		f("instantaneous_ops_per_sec", s.opsPerSec())
		f("rejected_connections", s.rejectedConns.Load())
		f("expired_keys", st.Expirations)
		f("evicted_keys", st.Evictions)
		f("keyspace_hits", s.keyspaceHits.Load())
		f("keyspace_misses", s.keyspaceMisses.Load())
		f("pubsub_channels", 0)
		f("pubsub_patterns", 0)
		f("total_error_replies", s.errorReplies())
		f("total_auth_failures", s.authFailures.Load())
	case "replication":
		b.WriteString("# Replication\r\n")
		f("role", "master")
		f("connected_slaves", 0)
		f("master_failover_state", "no-failover")
		f("master_replid", s.runID)
		f("master_replid2", "0000000000000000000000000000000000000000")
		f("master_repl_offset", 0)
		f("second_repl_offset", -1)
		f("repl_backlog_active", 0)
		f("repl_backlog_size", 1048576)
		f("repl_backlog_first_byte_offset", 0)
		f("repl_backlog_histlen", 0)
	case "cpu":
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		b.WriteString("# CPU\r\n")
		f("used_cpu_sys", fmt.Sprintf("%.6f", tvSeconds(ru.Stime)))
		f("used_cpu_user", fmt.Sprintf("%.6f", tvSeconds(ru.Utime)))
		f("used_cpu_sys_children", "0.000000")
		f("used_cpu_user_children", "0.000000")
	case "commandstats":
		b.WriteString("# Commandstats\r\n")
		s.eachCommandStats(func(name string, set *cmdStatsSet) {
			// Every protocol's calls: a GET over gRPC is a GET.
			var calls, usec, rejected, failed uint64
			for i := range set {
				calls += set[i].calls.Load()
				usec += set[i].usec.Load()
				rejected += set[i].rejected.Load()
				failed += set[i].failed.Load()
			}
			if calls == 0 && rejected == 0 {
				return
			}
			per := 0.0
			if calls > 0 {
				per = float64(usec) / float64(calls)
			}
			fmt.Fprintf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n",
				name, calls, usec, per, rejected, failed)
		})
	case "errorstats":
		b.WriteString("# Errorstats\r\n")
		s.eachErrorStat(func(prefix string, n uint64) {
			fmt.Fprintf(b, "errorstat_%s:count=%d\r\n", prefix, n)
		})
	case "keyspace":
		b.WriteString("# Keyspace\r\n")
		if n := s.cache.Len(); n > 0 {
			expires, avg := s.expiresEstimate()
			fmt.Fprintf(b, "db0:keys=%d,expires=%d,avg_ttl=%d\r\n", n, expires, avg)
		}
	}
}

func b01(v bool) int {
	if v {
		return 1
	}
	return 0
}

func percent(a, b int64) string {
	if b == 0 {
		return "0.00%"
	}
	return fmt.Sprintf("%.2f%%", float64(a)*100/float64(b))
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// humanBytes formats n as Redis's bytesToHuman: 1.50K, 12.00M, ...
func humanBytes(n int64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", d/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", d/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", d/(1<<30))
	case n < 1<<50:
		return fmt.Sprintf("%.2fT", d/(1<<40))
	default:
		return fmt.Sprintf("%.2fP", d/(1<<50))
	}
}

// residentBytes reads the process's resident set size from /proc.
func residentBytes() int64 {
	return procStatusKB("VmRSS:") * 1024
}

func procStatusKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func totalSystemMemory() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n * 1024
		}
	}
	return 0
}

// eachCommandStats calls fn for every command and subcommand, by Redis's
// stats name ("get", "config|get"), in name order.
func (s *Server) eachCommandStats(fn func(string, *cmdStatsSet)) {
	names := make([]string, 0, len(s.cmds))
	for n := range s.cmds {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		cmd := s.cmds[n]
		if cmd.sub == nil {
			fn(n, cmd.stats)
			continue
		}
		subs := make([]string, 0, len(cmd.sub))
		for sn := range cmd.sub {
			subs = append(subs, sn)
		}
		slices.Sort(subs)
		for _, sn := range subs {
			fn(n+"|"+sn, cmd.sub[sn].stats)
		}
	}
}
