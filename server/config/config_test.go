package config

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	want := Values{
		Bind: []string{"127.0.0.1"}, Port: 6380, AdminPort: 8080, DBFilename: "dump.snap",
		MaxMemoryPolicy: PolicyNoEviction, MaxClients: 10000, ProtectedMode: true,
		ProtoMaxBulkLen: 512 << 20, EventLoops: 1, LogLevel: "notice", ShutdownTimeout: 10 * time.Second, SlowlogLogSlowerThan: 10000, SlowlogMaxLen: 128, Databases: 1,
		AppendFilename: "appendonly.aof", AppendDirname: "appendonlydir", AppendFsync: "everysec", AutoAOFRewritePercentage: 100, AutoAOFRewriteMinSize: 64 << 20, AOFLoadTruncated: true,
	}
	if got := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", got, want)
	}
	var zero Config
	if got := *zero.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("zero Config's Snapshot() = %+v", got)
	}
}

// TestDirectives sets each directive through CONFIG SET (or Load, for those
// that are not mutable) and reads it back through CONFIG GET.
func TestDirectives(t *testing.T) {
	tests := []struct {
		name, value string
		get         string // CONFIG GET's value after a successful set
		err         string // the reason, when the value is bad
	}{
		{"bind", "127.0.0.1 -::1", "127.0.0.1 -::1", ""},
		{"bind", "* -::*", "* -::*", ""},
		{"bind", "", "", "bind needs at least one address (port 0 turns the TCP listener off)"},
		{"bind", "a  b", "", `bind address "" is empty`},
		{"bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "", "Too many bind addresses specified."},
		{"port", "0", "0", ""},
		{"port", "65535", "65535", ""},
		{"port", "65536", "", "argument must be between 0 and 65535 inclusive"},
		{"port", "abc", "", "argument couldn't be parsed into an integer"},
		{"admin-port", "0", "0", ""},
		{"tls-port", "-1", "", "argument must be between 0 and 65535 inclusive"},
		{"grpc-port", "7001", "7001", ""},
		{"http-port", "65536", "", "argument must be between 0 and 65535 inclusive"},
		{"tls-grpc", "maybe", "", "argument must be 'yes' or 'no'"},
		{"tls-cert-file", "c.pem", "c.pem", ""},
		{"tls-key-file", "k.pem", "k.pem", ""},
		{"protected-mode", "no", "no", ""},
		{"protected-mode", "YES", "yes", ""},
		{"protected-mode", "1", "", "argument must be 'yes' or 'no'"},
		{"requirepass", "s3cret", "s3cret", ""},
		{"requirepass", "", "", ""},
		{"maxclients", "1", "1", ""},
		{"maxclients", "0", "", "argument must be between 1 and 4294967295 inclusive"},
		{"timeout", "300", "300", ""},
		{"timeout", "-1", "", "argument must be between 0 and 2147483647 inclusive"},
		{"timeout", "05", "", "argument couldn't be parsed into an integer"},
		{"timeout", "+5", "", "argument couldn't be parsed into an integer"},
		{"timeout", "-0", "", "argument couldn't be parsed into an integer"},
		{"timeout", " 5", "", "argument couldn't be parsed into an integer"},
		{"maxmemory", "100mb", "104857600", ""},
		{"maxmemory", "1G", "1000000000", ""},
		{"maxmemory", "0", "0", ""},
		{"maxmemory", "abc", "", "argument must be a memory value"},
		{"maxmemory", "-1", "", "argument must be a memory value"},
		{"maxmemory", "99999999999gb", "", "argument must be between 0 and 9223372036854775807 inclusive"},
		{"maxmemory-policy", "allkeys-lru", "allkeys-lru", ""},
		{"maxmemory-policy", "ALLKEYS-LFU", "allkeys-lfu", ""},
		{"maxmemory-policy", "noeviction", "noeviction", ""},
		{"maxmemory-policy", "volatile-lru", "", "not supported; supported: allkeys-lru, allkeys-lfu, noeviction"},
		{"maxmemory-policy", "allkeys-random", "", "not supported; supported: allkeys-lru, allkeys-lfu, noeviction"},
		{"maxmemory-policy", "foo", "", "argument(s) must be one of the following: allkeys-lru, allkeys-lfu, noeviction"},
		{"proto-max-bulk-len", "1mb", "1048576", ""},
		{"proto-max-bulk-len", "1kb", "", "argument must be between 1048576 and 9223372036854775807 inclusive"},
		{"dbfilename", "cache.snap", "cache.snap", ""},
		{"dbfilename", "a/b", "", "dbfilename can't be a path, just a filename"},
		{"dbfilename", `a\b`, "", "dbfilename can't be a path, just a filename"},
		{"dbfilename", "", "", "dbfilename can't be empty"},
		{"save", "", "", ""},
		{"save", "900", "", "Invalid save parameters"},
		{"shards", "64", "64", ""},
		{"shards", "65537", "", "argument must be between 0 and 65536 inclusive"},
		{"event-loops", "4", "4", ""},
		{"event-loops", "1025", "", "argument must be between 0 and 1024 inclusive"},
		{"databases", "1", "1", ""},
		{"databases", "16", "", "not supported: shardcached has one database (db 0); databases must be 1"},
		{"databases", "0", "", "argument must be between 1 and 2147483647 inclusive"},
		{"loglevel", "WARNING", "warning", ""},
		{"loglevel", "nothing", "", "argument(s) must be one of the following: debug, verbose, notice, warning"},
		{"logfile", "/var/log/shardcached.log", "/var/log/shardcached.log", ""},
		{"shutdown-timeout", "0", "0", ""},
		{"shutdown-timeout", "2147483648", "", "argument must be between 0 and 2147483647 inclusive"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			d := lookup(tt.name)
			var c *Config
			var err error
			if d.mutable {
				c = &Config{}
				err = c.Set([][2]string{{tt.name, tt.value}})
			} else {
				c, err = Load([]string{"--" + tt.name, tt.value}, nil)
			}
			if tt.err != "" {
				var got string
				var se *SetError
				var le *LoadError
				switch {
				case errors.As(err, &se):
					got = se.Err.Error()
				case errors.As(err, &le):
					got = le.Err.Error()
				default:
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				if got != tt.err {
					t.Errorf("reason %q, want %q", got, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Get(tt.name); !reflect.DeepEqual(got, [][2]string{{tt.name, tt.get}}) {
				t.Errorf("Get = %q, want %q", got, tt.get)
			}
		})
	}
}

func TestGet(t *testing.T) {
	var c Config
	tests := []struct {
		patterns []string
		want     [][2]string
	}{
		{[]string{"maxmemory"}, [][2]string{{"maxmemory", "0"}}},
		{[]string{"MaxMemory"}, [][2]string{{"MaxMemory", "0"}}}, // as given, as Redis
		{[]string{"maxmemory", "MAXMEMORY"}, [][2]string{{"maxmemory", "0"}}},
		{[]string{"nonexistent"}, nil},
		{[]string{""}, nil},
		{[]string{`m\axclients`}, nil}, // no glob character: looked up by name
		{[]string{"max[a-z]lients"}, [][2]string{{"maxclients", "10000"}}},
		{[]string{"MAXCLIENT?"}, [][2]string{{"maxclients", "10000"}}},
		{[]string{"*max*"}, [][2]string{{"maxclients", "10000"}, {"maxmemory", "0"}, {"maxmemory-policy", "noeviction"}, {"proto-max-bulk-len", "536870912"}, {"slowlog-max-len", "128"}}},
		{[]string{"maxmemory", "max*"}, [][2]string{{"maxmemory", "0"}, {"maxclients", "10000"}, {"maxmemory-policy", "noeviction"}}},
		{[]string{"p*", "po*"}, [][2]string{{"port", "6380"}, {"protected-mode", "yes"}, {"proto-max-bulk-len", "536870912"}}},
		{[]string{"save", "bind", "protected-mode"}, [][2]string{{"save", ""}, {"bind", "127.0.0.1"}, {"protected-mode", "yes"}}},
	}
	for _, tt := range tests {
		if got := c.Get(tt.patterns...); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%q) = %q, want %q", tt.patterns, got, tt.want)
		}
	}
	if n := len(c.Get("*")); n != len(directives) {
		t.Errorf("Get(*) has %d directives, want %d", n, len(directives))
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		pairs [][2]string
		want  string
		is    error
	}{
		{[][2]string{{"foo", "bar"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'", ErrUnknownOption},
		{[][2]string{{"Foo", "bar"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'Foo'", ErrUnknownOption},
		{[][2]string{{"maxmemory", "1"}, {"foo", "bar"}}, "ERR Unknown option or number of arguments for CONFIG SET - 'foo'", ErrUnknownOption},
		{[][2]string{{"maxmemory", "abc"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value", nil},
		{[][2]string{{"MAXMEMORY", "abc"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value", nil},
		{[][2]string{{"maxmemory", "10mb"}, {"maxmemory", "20mb"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter", ErrDuplicate},
		{[][2]string{{"maxmemory", "1"}, {"MAXMEMORY", "2"}}, "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter", ErrDuplicate},
		{[][2]string{{"maxmemory", "1"}, {"maxmemory", "2"}, {"foo", "bar"}}, "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter", ErrDuplicate},
		{[][2]string{{"databases", "1"}}, "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config", ErrImmutable},
		{[][2]string{{"DATABASES", "1"}}, "ERR CONFIG SET failed (possibly related to argument 'DATABASES') - can't set immutable config", ErrImmutable},
		{[][2]string{{"maxmemory", "abc"}, {"databases", "1"}}, "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config", ErrImmutable},
		{[][2]string{{"port", "7000"}}, "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config", ErrImmutable},
		{[][2]string{{"dir", "/tmp"}}, "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config", ErrProtected},
		{[][2]string{{"dbfilename", "x"}}, "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config", ErrProtected},
		{[][2]string{{"timeout", "abc"}, {"maxmemory", "abc"}}, "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer", nil},
		{[][2]string{{"save", "900 1"}}, "ERR CONFIG SET failed (possibly related to argument 'save') - snapshots need a dir, and dir is not set (in-memory only)", nil},
	}
	for _, tt := range tests {
		var c Config
		before := *c.Snapshot()
		err := c.Set(tt.pairs)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Set(%q) = %v, want %q", tt.pairs, err, tt.want)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("Set(%q) = %v, not %v", tt.pairs, err, tt.is)
		}
		if !reflect.DeepEqual(*c.Snapshot(), before) {
			t.Errorf("Set(%q) failed but changed the values", tt.pairs)
		}
	}
}

func TestSetAllOrNothing(t *testing.T) {
	var c Config
	if err := c.Set([][2]string{{"maxmemory", "5mb"}, {"timeout", "abc"}}); err == nil {
		t.Fatal("Set succeeded")
	}
	if got := c.Snapshot().MaxMemory; got != 0 {
		t.Errorf("maxmemory = %d after a failed Set", got)
	}
	if err := c.Set([][2]string{{"maxmemory", "5mb"}, {"timeout", "30"}}); err != nil {
		t.Fatal(err)
	}
	v := c.Snapshot()
	if v.MaxMemory != 5<<20 || v.Timeout != 30*time.Second {
		t.Errorf("maxmemory %d, timeout %v", v.MaxMemory, v.Timeout)
	}
}

func TestOnChange(t *testing.T) {
	var c Config
	var log []string
	c.OnChange("maxmemory", func(old, new Values) error {
		log = append(log, fmt.Sprintf("maxmemory %d→%d", old.MaxMemory, new.MaxMemory))
		return nil
	})
	c.OnChange("timeout", func(old, new Values) error {
		log = append(log, fmt.Sprintf("timeout %v→%v", old.Timeout, new.Timeout))
		if new.Timeout == 13*time.Second {
			return errors.New("unlucky")
		}
		return nil
	})
	if err := c.Set([][2]string{{"maxmemory", "1mb"}, {"timeout", "5"}}); err != nil {
		t.Fatal(err)
	}
	// An unchanged value runs no hook.
	if err := c.Set([][2]string{{"maxmemory", "1048576"}, {"timeout", "5"}}); err != nil {
		t.Fatal(err)
	}
	// A failing hook aborts the Set and undoes the hooks that ran.
	err := c.Set([][2]string{{"maxmemory", "2mb"}, {"timeout", "13"}})
	want := "ERR CONFIG SET failed (possibly related to argument 'timeout') - unlucky"
	if err == nil || err.Error() != want {
		t.Errorf("Set = %v, want %q", err, want)
	}
	wantLog := []string{
		"maxmemory 0→1048576", "timeout 0s→5s",
		"maxmemory 1048576→2097152", "timeout 5s→13s", "maxmemory 2097152→1048576",
	}
	if !reflect.DeepEqual(log, wantLog) {
		t.Errorf("hooks ran\n%q\nwant\n%q", log, wantLog)
	}
	if v := c.Snapshot(); v.MaxMemory != 1<<20 || v.Timeout != 5*time.Second {
		t.Errorf("after the failed Set: maxmemory %d, timeout %v", v.MaxMemory, v.Timeout)
	}
}

func TestOnChangeUnknownPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	var c Config
	c.OnChange("nonexistent", func(old, new Values) error { return nil })
}

// TestConcurrentSetAndRead runs Sets while readers check that every snapshot
// is one Set's whole result (run it with -race).
func TestConcurrentSetAndRead(t *testing.T) {
	var c Config
	c.OnChange("maxclients", func(old, new Values) error { return nil })
	if err := c.Set([][2]string{{"maxclients", "1"}, {"timeout", "1"}, {"requirepass", "p1"}}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < 8; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				v := c.Snapshot()
				// Each Set writes maxclients n, timeout n and requirepass "pn".
				if int(v.Timeout/time.Second) != v.MaxClients || v.RequirePass != fmt.Sprintf("p%d", v.MaxClients) {
					t.Errorf("torn snapshot: maxclients %d, timeout %v, requirepass %q", v.MaxClients, v.Timeout, v.RequirePass)
					return
				}
				_ = c.Get("max*", "timeout")
			}
		}()
	}
	var writers sync.WaitGroup
	for w := 0; w < 2; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 1; i <= 500; i++ {
				n := fmt.Sprint(i)
				if err := c.Set([][2]string{{"maxclients", n}, {"timeout", n}, {"requirepass", "p" + n}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	wg.Wait()
}
