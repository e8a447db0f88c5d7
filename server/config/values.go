package config

import "time"

// Values is one consistent set of every directive's value. A Values obtained
// from Config.Snapshot or handed to an OnChange hook is shared and must be
// treated as read-only, its slices included; Default returns a fresh one the
// caller owns.
type Values struct {
	// Bind lists the addresses the TCP listener binds, as given: an address
	// may carry Redis 7's '-' prefix (bind if available, skip if not), "*" and
	// "::*" mean every IPv4 and IPv6 address. Never empty. Directive bind.
	Bind []string
	// Port is the RESP TCP port, 0 for no TCP listener. Directive port.
	Port int
	// AdminPort is the admin HTTP port, 0 for none. Directive admin-port (ours).
	AdminPort int
	// Dir is the directory snapshots are written to and read from; "" (the
	// default) keeps the data in memory only, with no snapshots, so Save must
	// then be empty. Directive dir.
	Dir string
	// DBFilename is the snapshot's file name inside Dir, never a path.
	// Directive dbfilename, default "dump.snap" (not Redis's dump.rdb: the
	// format is ours).
	DBFilename string
	// Save lists the automatic snapshot rules; none (the default) means no
	// automatic snapshots. Directive save.
	Save []SaveRule
	// MaxMemory is the memory budget in bytes, 0 for none. Directive maxmemory.
	MaxMemory int64
	// MaxMemoryPolicy is what a write does when MaxMemory is reached: one of
	// PolicyNoEviction (the default, as in Redis), PolicyAllKeysLRU,
	// PolicyAllKeysLFU. Directive maxmemory-policy.
	MaxMemoryPolicy string
	// MaxClients bounds the connected clients. Directive maxclients.
	MaxClients int
	// Timeout closes a client idle that long, 0 for never; whole seconds.
	// Directive timeout.
	Timeout time.Duration
	// RequirePass is the password AUTH needs, "" for none. Directive
	// requirepass (sensitive: Load's errors do not show it).
	RequirePass string
	// ProtectedMode, with no RequirePass, refuses clients that do not come
	// from a loopback address. Directive protected-mode.
	ProtectedMode bool
	// TLSPort is the RESP TLS port, 0 for none; non-zero needs TLSCertFile and
	// TLSKeyFile. Directive tls-port.
	TLSPort int
	// TLSCertFile and TLSKeyFile name the PEM certificate and key files.
	// Directives tls-cert-file and tls-key-file.
	TLSCertFile, TLSKeyFile string
	// GRPCPort is the port of the gRPC API (shardcache.v1.Cache), 0 for
	// none. Directive grpc-port (ours).
	GRPCPort int
	// HTTPPort is the port of the HTTP key API (/v1/keys/...), 0 for none.
	// Directive http-port (ours).
	HTTPPort int
	// TLSGRPC and TLSHTTP make the gRPC and HTTP APIs speak TLS only, with
	// TLSCertFile and TLSKeyFile, as tls-replication does for Redis's
	// replication link. Directives tls-grpc and tls-http (ours).
	TLSGRPC, TLSHTTP bool
	// ProtoMaxBulkLen bounds one bulk string of a request, in bytes, at least
	// 1 MiB. Directive proto-max-bulk-len.
	ProtoMaxBulkLen int64
	// Shards is the engine's lock stripe count, 0 for automatic. Directive
	// shards (ours).
	Shards int
	// EventLoops is how many epoll loops serve plain TCP clients on Linux,
	// each on its own OS thread and running the commands it reads; 0 serves
	// every client on a goroutine of its own, as TLS clients always are.
	// Directive event-loops (ours).
	EventLoops int
	// LogLevel is one of "debug", "verbose", "notice", "warning". Directive
	// loglevel.
	LogLevel string
	// LogFile is the log's file, "" for standard error. Directive logfile.
	LogFile string
	// ShutdownTimeout bounds the wait for a final snapshot at shutdown; whole
	// seconds. Directive shutdown-timeout.
	ShutdownTimeout time.Duration
	// SlowlogLogSlowerThan is the time in microseconds past which a command
	// enters the slow log; 0 logs every command, -1 none. Directive
	// slowlog-log-slower-than.
	SlowlogLogSlowerThan int
	// SlowlogMaxLen bounds the slow log's entries. Directive slowlog-max-len.
	SlowlogMaxLen int
	// Databases is the number of databases: always 1, as only db 0 exists.
	// Directive databases (Redis's default is 16; ours accepts only 1).
	Databases int

	// AppendOnly turns the append-only file on. Directive appendonly.
	AppendOnly bool
	// AppendFilename is the prefix of the AOF's file names. Directive
	// appendfilename, default "appendonly.aof".
	AppendFilename string
	// AppendDirname is the AOF's directory inside Dir. Directive
	// appenddirname, default "appendonlydir".
	AppendDirname string
	// AppendFsync is "always", "everysec" (the default) or "no". Directive
	// appendfsync.
	AppendFsync string
	// AutoAOFRewritePercentage rewrites the AOF when it has grown by that
	// percentage since the last rewrite; 0 never. Directive
	// auto-aof-rewrite-percentage.
	AutoAOFRewritePercentage int
	// AutoAOFRewriteMinSize is the size below which the AOF is not
	// rewritten automatically. Directive auto-aof-rewrite-min-size.
	AutoAOFRewriteMinSize int64
	// AOFLoadTruncated loads an AOF whose last record is torn, cutting it
	// off, instead of refusing to start. Directive aof-load-truncated.
	AOFLoadTruncated bool
}

// The maxmemory-policy values shardcached supports. Redis's volatile-* and
// allkeys-random policies are refused.
const (
	PolicyNoEviction = "noeviction"
	PolicyAllKeysLRU = "allkeys-lru"
	PolicyAllKeysLFU = "allkeys-lfu"
)

// Default returns the defaults of every directive, in a Values the caller
// owns.
func Default() Values {
	v := Values{}
	for _, d := range directives {
		if err := d.set(&v, d.def); err != nil {
			panic("config: default of " + d.name + ": " + err.Error())
		}
	}
	return v
}
