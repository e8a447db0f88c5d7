package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// directive is one row of the table that drives every source (defaults, file,
// environment, flags) and CONFIG GET/SET, so that they cannot drift apart.
type directive struct {
	name string
	def  string // the default, in CONFIG SET syntax
	// multi directives take several arguments in a file or on the command
	// line, joined with spaces into one value (bind 127.0.0.1 ::1).
	multi bool
	// accumulate: repeated lines of one source add up (save 900 1, save 300
	// 10), an empty value clears what came before, as in redis.conf.
	accumulate bool
	// mutable at runtime by CONFIG SET; protected ones fail with Redis 7's
	// "can't set protected config" (its enable-protected-configs is "no" by
	// default), other immutable ones with "can't set immutable config".
	mutable, protected bool
	// sensitive values are left out of Load's errors.
	sensitive bool

	set   func(v *Values, s string) error // parses s into v; errors carry Redis's reason
	get   func(v *Values) string          // formats as CONFIG GET does
	check func(v *Values) error           // cross-checks the whole Values, or nil
}

// directives, in the order CONFIG GET lists them. Redis's own order is its
// hash table's; ours is fixed so that replies are reproducible.
var directives = []*directive{
	{name: "bind", def: "127.0.0.1", multi: true, set: setBind, get: func(v *Values) string { return strings.Join(v.Bind, " ") }},
	intDirective("port", "6380", 0, 65535, false, func(v *Values) *int { return &v.Port }),
	intDirective("admin-port", "8080", 0, 65535, false, func(v *Values) *int { return &v.AdminPort }),
	withCheck(intDirective("tls-port", "0", 0, 65535, false, func(v *Values) *int { return &v.TLSPort }), checkTLS("tls-port", func(v *Values) bool { return v.TLSPort != 0 })),
	stringDirective("tls-cert-file", false, func(v *Values) *string { return &v.TLSCertFile }),
	stringDirective("tls-key-file", false, func(v *Values) *string { return &v.TLSKeyFile }),
	intDirective("grpc-port", "0", 0, 65535, false, func(v *Values) *int { return &v.GRPCPort }),
	intDirective("http-port", "0", 0, 65535, false, func(v *Values) *int { return &v.HTTPPort }),
	withCheck(&directive{name: "tls-grpc", def: "no", set: setBool(func(v *Values) *bool { return &v.TLSGRPC }), get: func(v *Values) string { return yesNo(v.TLSGRPC) }}, checkTLS("tls-grpc", func(v *Values) bool { return v.TLSGRPC })),
	withCheck(&directive{name: "tls-http", def: "no", set: setBool(func(v *Values) *bool { return &v.TLSHTTP }), get: func(v *Values) string { return yesNo(v.TLSHTTP) }}, checkTLS("tls-http", func(v *Values) bool { return v.TLSHTTP })),
	{name: "protected-mode", def: "yes", mutable: true, set: setBool(func(v *Values) *bool { return &v.ProtectedMode }), get: func(v *Values) string { return yesNo(v.ProtectedMode) }},
	{name: "requirepass", mutable: true, sensitive: true, set: func(v *Values, s string) error { v.RequirePass = s; return nil }, get: func(v *Values) string { return v.RequirePass }},
	intDirective("maxclients", "10000", 1, 4294967295, true, func(v *Values) *int { return &v.MaxClients }),
	secondsDirective("timeout", "0", func(v *Values) *time.Duration { return &v.Timeout }),
	memoryDirective("maxmemory", "0", 0, func(v *Values) *int64 { return &v.MaxMemory }),
	{name: "maxmemory-policy", def: PolicyNoEviction, mutable: true, set: setPolicy, get: func(v *Values) string { return v.MaxMemoryPolicy }},
	memoryDirective("proto-max-bulk-len", "512mb", 1<<20, func(v *Values) *int64 { return &v.ProtoMaxBulkLen }),
	{name: "dir", protected: true, set: func(v *Values, s string) error { v.Dir = s; return nil }, get: func(v *Values) string { return v.Dir }, check: checkDir},
	{name: "dbfilename", def: "dump.snap", protected: true, set: setDBFilename, get: func(v *Values) string { return v.DBFilename }},
	{name: "save", multi: true, accumulate: true, mutable: true, set: setSave, get: func(v *Values) string { return FormatSave(v.Save) }, check: checkSave},
	intDirective("shards", "0", 0, 1<<16, false, func(v *Values) *int { return &v.Shards }),
	intDirective("event-loops", "1", 0, 1024, false, func(v *Values) *int { return &v.EventLoops }),
	{name: "databases", def: "1", set: setDatabases, get: func(v *Values) string { return strconv.Itoa(v.Databases) }},
	{name: "loglevel", def: "notice", mutable: true, set: setEnum([]string{"debug", "verbose", "notice", "warning"}, func(v *Values) *string { return &v.LogLevel }), get: func(v *Values) string { return v.LogLevel }},
	stringDirective("logfile", false, func(v *Values) *string { return &v.LogFile }),
	secondsDirective("shutdown-timeout", "10", func(v *Values) *time.Duration { return &v.ShutdownTimeout }),
	intDirective("slowlog-log-slower-than", "10000", -1, math.MaxInt64, true, func(v *Values) *int { return &v.SlowlogLogSlowerThan }),
	intDirective("slowlog-max-len", "128", 0, math.MaxInt64, true, func(v *Values) *int { return &v.SlowlogMaxLen }),
	{name: "appendonly", def: "no", mutable: true, set: setBool(func(v *Values) *bool { return &v.AppendOnly }), get: func(v *Values) string { return yesNo(v.AppendOnly) }, check: checkAppendOnly},
	{name: "appendfilename", def: "appendonly.aof", set: setFileName("appendfilename", func(v *Values) *string { return &v.AppendFilename }), get: func(v *Values) string { return v.AppendFilename }},
	{name: "appenddirname", def: "appendonlydir", set: setFileName("appenddirname", func(v *Values) *string { return &v.AppendDirname }), get: func(v *Values) string { return v.AppendDirname }},
	{name: "appendfsync", def: "everysec", mutable: true, set: setEnum([]string{"always", "everysec", "no"}, func(v *Values) *string { return &v.AppendFsync }), get: func(v *Values) string { return v.AppendFsync }},
	intDirective("auto-aof-rewrite-percentage", "100", 0, math.MaxInt32, true, func(v *Values) *int { return &v.AutoAOFRewritePercentage }),
	memoryDirective("auto-aof-rewrite-min-size", "64mb", 0, func(v *Values) *int64 { return &v.AutoAOFRewriteMinSize }),
	{name: "aof-load-truncated", def: "yes", mutable: true, set: setBool(func(v *Values) *bool { return &v.AOFLoadTruncated }), get: func(v *Values) string { return yesNo(v.AOFLoadTruncated) }},
}

// checkAppendOnly wants a dir for the AOF: "" means in memory only.
func checkAppendOnly(v *Values) error {
	if v.AppendOnly && v.Dir == "" {
		return errors.New("appendonly needs a dir, and dir is not set (in-memory only)")
	}
	return nil
}

// setFileName accepts a plain file name, as Redis 7 wants appendfilename
// and appenddirname.
func setFileName(name string, field func(*Values) *string) func(*Values, string) error {
	return func(v *Values, s string) error {
		if strings.ContainsAny(s, `/\`) || s == "" || s == "." || s == ".." {
			return errors.New(name + " can't be a path, just a filename")
		}
		*field(v) = s
		return nil
	}
}

func withCheck(d *directive, check func(*Values) error) *directive {
	d.check = check
	return d
}

// lookup finds a directive by name, case-insensitively, or returns nil.
func lookup(name string) *directive {
	if i := index(name); i >= 0 {
		return directives[i]
	}
	return nil
}

// Reasons with Redis's texts.
var (
	errNotInteger = errors.New("argument couldn't be parsed into an integer")
	errYesNo      = errors.New("argument must be 'yes' or 'no'")
)

func rangeError(lo, hi int64) error {
	return fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
}

// parseInteger parses s as Redis's string2ll does: an optional '-', then
// decimal digits without leading zeros ("0" aside), no '+' and no spaces.
func parseInteger(s string) (int64, error) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || digits[0] == '0' && (len(digits) > 1 || len(s) > 1) {
		return 0, errNotInteger
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, errNotInteger
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errNotInteger
	}
	return n, nil
}

func intDirective(name, def string, lo, hi int64, mutable bool, field func(*Values) *int) *directive {
	return &directive{
		name: name, def: def, mutable: mutable,
		set: func(v *Values, s string) error {
			n, err := parseInteger(s)
			if err != nil {
				return err
			}
			if n < lo || n > hi {
				return rangeError(lo, hi)
			}
			*field(v) = int(n)
			return nil
		},
		get: func(v *Values) string { return strconv.Itoa(*field(v)) },
	}
}

// secondsDirective is a mutable count of seconds from 0 to INT_MAX, as Redis's
// timeout and shutdown-timeout are.
func secondsDirective(name, def string, field func(*Values) *time.Duration) *directive {
	const hi = 1<<31 - 1
	return &directive{
		name: name, def: def, mutable: true,
		set: func(v *Values, s string) error {
			n, err := parseInteger(s)
			if err != nil {
				return err
			}
			if n < 0 || n > hi {
				return rangeError(0, hi)
			}
			*field(v) = time.Duration(n) * time.Second
			return nil
		},
		get: func(v *Values) string { return strconv.FormatInt(int64(*field(v)/time.Second), 10) },
	}
}

// memoryDirective is a mutable amount of bytes in Redis's memory units.
// Redis's maxmemory goes up to 2⁶⁴-1; ours stops at 2⁶³-1.
func memoryDirective(name, def string, lo int64, field func(*Values) *int64) *directive {
	return &directive{
		name: name, def: def, mutable: true,
		set: func(v *Values, s string) error {
			n, err := ParseMemory(s)
			if errors.Is(err, ErrNotMemory) {
				return err
			}
			if err != nil || n < lo {
				return rangeError(lo, 1<<63-1)
			}
			*field(v) = n
			return nil
		},
		get: func(v *Values) string { return strconv.FormatInt(*field(v), 10) },
	}
}

func stringDirective(name string, mutable bool, field func(*Values) *string) *directive {
	return &directive{
		name: name, mutable: mutable,
		set: func(v *Values, s string) error { *field(v) = s; return nil },
		get: func(v *Values) string { return *field(v) },
	}
}

func setBool(field func(*Values) *bool) func(*Values, string) error {
	return func(v *Values, s string) error {
		switch strings.ToLower(s) {
		case "yes":
			*field(v) = true
		case "no":
			*field(v) = false
		default:
			return errYesNo
		}
		return nil
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// setEnum accepts one of names, case-insensitively, and stores it in lower
// case.
func setEnum(names []string, field func(*Values) *string) func(*Values, string) error {
	return func(v *Values, s string) error {
		for _, n := range names {
			if strings.EqualFold(n, s) {
				*field(v) = n
				return nil
			}
		}
		return errors.New("argument(s) must be one of the following: " + strings.Join(names, ", "))
	}
}

var (
	supportedPolicies = []string{PolicyAllKeysLRU, PolicyAllKeysLFU, PolicyNoEviction}
	refusedPolicies   = []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-random"}
)

// setPolicy accepts the policies the engine has. Redis's others are refused
// with a reason that says so rather than Redis's list of every policy.
func setPolicy(v *Values, s string) error {
	for _, n := range refusedPolicies {
		if strings.EqualFold(n, s) {
			return errors.New("not supported; supported: " + strings.Join(supportedPolicies, ", "))
		}
	}
	return setEnum(supportedPolicies, func(v *Values) *string { return &v.MaxMemoryPolicy })(v, s)
}

// maxBind is Redis's CONFIG_BINDADDR_MAX.
const maxBind = 16

// setBind takes addresses separated by single spaces, as CONFIG SET bind
// does. Redis accepts an empty list (and then listens nowhere); we refuse it:
// port 0 is the way to have no TCP listener.
func setBind(v *Values, s string) error {
	if s == "" {
		return errors.New("bind needs at least one address (port 0 turns the TCP listener off)")
	}
	addrs := strings.Split(s, " ")
	if len(addrs) > maxBind {
		return errors.New("Too many bind addresses specified.")
	}
	for _, a := range addrs {
		if strings.TrimPrefix(a, "-") == "" {
			return fmt.Errorf("bind address %q is empty", a)
		}
	}
	v.Bind = addrs
	return nil
}

func setSave(v *Values, s string) error {
	rules, err := ParseSave(s)
	if err != nil {
		return err
	}
	v.Save = rules
	return nil
}

func checkSave(v *Values) error {
	if len(v.Save) > 0 && v.Dir == "" {
		return errors.New("snapshots need a dir, and dir is not set (in-memory only)")
	}
	return nil
}

// checkDir wants an existing directory; Redis changes into it at start and
// fails the same way when it cannot.
func checkDir(v *Values) error {
	if v.Dir == "" {
		return nil
	}
	fi, err := os.Stat(v.Dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", v.Dir)
	}
	return nil
}

func setDBFilename(v *Values, s string) error {
	if strings.ContainsAny(s, `/\`) {
		return errors.New("dbfilename can't be a path, just a filename")
	}
	if s == "" {
		return errors.New("dbfilename can't be empty")
	}
	v.DBFilename = s
	return nil
}

// setDatabases accepts only 1: shardcached has one keyspace, db 0.
func setDatabases(v *Values, s string) error {
	n, err := parseInteger(s)
	if err != nil {
		return err
	}
	if n < 1 || n > 1<<31-1 {
		return rangeError(1, 1<<31-1)
	}
	if n != 1 {
		return errors.New("not supported: shardcached has one database (db 0); databases must be 1")
	}
	v.Databases = 1
	return nil
}

// checkTLS returns the check of a directive that turns TLS on for a
// listener (tls-port, tls-grpc, tls-http): when on(v), both files must be
// named and readable, as Redis fails at start when it cannot load them.
func checkTLS(name string, on func(*Values) bool) func(*Values) error {
	return func(v *Values) error {
		if !on(v) {
			return nil
		}
		if v.TLSCertFile == "" || v.TLSKeyFile == "" {
			return errors.New(name + " needs tls-cert-file and tls-key-file")
		}
		for _, file := range []string{v.TLSCertFile, v.TLSKeyFile} {
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			f.Close()
		}
		return nil
	}
}
