package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFile writes a file in t's temporary directory and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadPrecedence(t *testing.T) {
	file := writeFile(t, "shardcached.conf", "maxmemory 1mb\ntimeout 1\nloglevel debug\nmaxclients 11\n")
	env := []string{"PATH=/bin", "SHARDCACHED_MAXMEMORY=2mb", "SHARDCACHED_TIMEOUT=2", "SHARDCACHED_MAXMEMORY_POLICY=allkeys-lru"}
	args := []string{file, "--maxmemory", "3mb", "--loglevel", "warning"}
	c, err := Load(args, env)
	if err != nil {
		t.Fatal(err)
	}
	v := c.Snapshot()
	if v.MaxMemory != 3<<20 { // flag > env > file
		t.Errorf("maxmemory %d, want the flag's", v.MaxMemory)
	}
	if v.Timeout != 2*time.Second { // env > file
		t.Errorf("timeout %v, want the environment's", v.Timeout)
	}
	if v.LogLevel != "warning" { // flag > file
		t.Errorf("loglevel %q, want the flag's", v.LogLevel)
	}
	if v.MaxClients != 11 { // file > default
		t.Errorf("maxclients %d, want the file's", v.MaxClients)
	}
	if v.MaxMemoryPolicy != PolicyAllKeysLRU {
		t.Errorf("maxmemory-policy %q, want the environment's", v.MaxMemoryPolicy)
	}
	if v.Port != 6380 {
		t.Errorf("port %d, want the default", v.Port)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, "shardcached.conf", `
# a comment
   # an indented comment

PORT 7000
Protected-Mode no
requirepass "a b\x41\"c"
bind 127.0.0.1 -::1
save 900 1
save "300 10 60 10000"
dir `+dir+"\r\n"+`
maxmemory 1mb
maxmemory 2mb
`)
	c, err := Load([]string{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := c.Snapshot()
	want := Default()
	want.Port = 7000
	want.ProtectedMode = false
	want.RequirePass = `a bA"c`
	want.Bind = []string{"127.0.0.1", "-::1"}
	want.Save = []SaveRule{{900, 1}, {300, 10}, {60, 10000}}
	want.Dir = dir
	want.MaxMemory = 2 << 20 // last wins
	if !reflect.DeepEqual(*v, want) {
		t.Errorf("got\n%+v\nwant\n%+v", *v, want)
	}
	if got := c.Get("save"); got[0][1] != "900 1 300 10 60 10000" {
		t.Errorf("CONFIG GET save = %q", got[0][1])
	}
}

func TestLoadSave(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		file string
		args []string
		env  []string
		want string
	}{
		{"lines add up", "save 900 1\nsave 300 10\n", nil, nil, "900 1 300 10"},
		{"empty clears", "save 900 1\nsave \"\"\nsave 60 5\n", nil, nil, "60 5"},
		{"flags add up", "", []string{"--save", "60", "5", "--save", "10 1"}, nil, "60 5 10 1"},
		{"flag replaces file", "save 900 1\n", []string{"--save", "60 5"}, nil, "60 5"},
		{"bare flag disables", "save 900 1\n", []string{"--save"}, nil, ""},
		{"empty flag disables", "save 900 1\n", []string{"--save", ""}, nil, ""},
		{"env replaces file", "save 900 1\n", nil, []string{"SHARDCACHED_SAVE=300 10"}, "300 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, "s.conf", "dir "+dir+"\n"+tt.file)
			c, err := Load(append([]string{file}, tt.args...), tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Get("save")[0][1]; got != tt.want {
				t.Errorf("save = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadInclude(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.conf")
	if err := os.WriteFile(inc, []byte("maxmemory 3mb\ntimeout 9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "main.conf", "maxmemory 1mb\ninclude "+inc+"\ntimeout 1\n")
	c, err := Load([]string{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Snapshot(); v.MaxMemory != 3<<20 || v.Timeout != time.Second {
		t.Errorf("maxmemory %d (want the include's), timeout %v (want the line after it)", v.MaxMemory, v.Timeout)
	}

	// A relative include is relative to the working directory, as in Redis.
	t.Chdir(dir)
	file = writeFile(t, "rel.conf", "include inc.conf\n")
	if c, err := Load([]string{file}, nil); err != nil || c.Snapshot().MaxMemory != 3<<20 {
		t.Errorf("relative include: %v", err)
	}

	// A file that includes itself fails instead of recursing forever.
	loop := filepath.Join(dir, "loop.conf")
	if err := os.WriteFile(loop, []byte("include "+loop+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load([]string{loop}, nil); err == nil || !strings.Contains(err.Error(), "nested deeper than 16") {
		t.Errorf("include loop: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := writeFile(t, "plain", "")
	tests := []struct {
		name string
		file string // written to a file named c.conf, passed first
		args []string
		env  []string
		want string // the error's text after the file's directory
		is   error
	}{
		{"unknown directive", "port 7000\nfoo bar\n", nil, nil, `c.conf:2: foo "bar": Bad directive or wrong number of arguments`, ErrBadDirective},
		{"aof needs a dir", "appendonly yes\n", nil, nil, `c.conf:1: appendonly "yes": appendonly needs a dir, and dir is not set (in-memory only)`, nil},
		{"bad value", "\n\nmaxmemory-policy volatile-lru\n", nil, nil, `c.conf:3: maxmemory-policy "volatile-lru": not supported; supported: allkeys-lru, allkeys-lfu, noeviction`, nil},
		{"no argument", "port\n", nil, nil, `c.conf:1: port: wrong number of arguments`, ErrArgCount},
		{"two arguments", "maxmemory 1mb 2mb\n", nil, nil, `c.conf:1: maxmemory "1mb" "2mb": wrong number of arguments`, ErrArgCount},
		{"unbalanced quotes", "requirepass \"abc\n", nil, nil, `c.conf:1: Unbalanced quotes in configuration line`, ErrUnbalancedQuotes},
		{"sensitive value hidden", "requirepass a b\n", nil, nil, `c.conf:1: requirepass: wrong number of arguments`, ErrArgCount},
		{"bad include", "include\n", nil, nil, `c.conf:1: include: Bad directive or wrong number of arguments`, ErrBadDirective},
		{"missing include", "include /nonexistent/x.conf\n", nil, nil, `c.conf:1: include "/nonexistent/x.conf": open /nonexistent/x.conf: no such file or directory`, os.ErrNotExist},
		{"dbfilename path", "dbfilename a/b\n", nil, nil, `c.conf:1: dbfilename "a/b": dbfilename can't be a path, just a filename`, nil},
		{"flag", "", []string{"--maxmemory", "1x"}, nil, `command line: maxmemory "1x": argument must be a memory value`, ErrNotMemory},
		{"flag unknown", "", []string{"--foo", "1"}, nil, `command line: foo "1": Bad directive or wrong number of arguments`, ErrBadDirective},
		{"flag without value", "", []string{"--port"}, nil, `command line: port: wrong number of arguments`, ErrArgCount},
		{"stray argument", "", []string{"--port", "1", "--", "x"}, nil, `command line: unexpected argument "--": options are --name value`, nil},
		{"env", "", nil, []string{"SHARDCACHED_PORT=http"}, `environment SHARDCACHED_PORT: port "http": argument couldn't be parsed into an integer`, nil},
		{"env unknown", "", nil, []string{"SHARDCACHED_FOO=1"}, `environment SHARDCACHED_FOO: foo "1": Bad directive or wrong number of arguments`, ErrBadDirective},
		{"save without dir", "save 900 1\n", nil, nil, `c.conf:1: save "900 1": snapshots need a dir, and dir is not set (in-memory only)`, nil},
		{"dir missing", "", []string{"--dir", "/nonexistent/dir"}, nil, `command line: dir "/nonexistent/dir": stat /nonexistent/dir: no such file or directory`, os.ErrNotExist},
		{"dir not a directory", "", []string{"--dir", notDir}, nil, `command line: dir "` + notDir + `": ` + notDir + ` is not a directory`, nil},
		{"tls without files", "tls-port 6443\n", nil, nil, `c.conf:1: tls-port "6443": tls-port needs tls-cert-file and tls-key-file`, nil},
		{"tls-grpc without files", "grpc-port 7001\ntls-grpc yes\n", nil, nil, `c.conf:2: tls-grpc "yes": tls-grpc needs tls-cert-file and tls-key-file`, nil},
		{"tls unreadable", "tls-port 6443\ntls-cert-file /nonexistent/c.pem\ntls-key-file /nonexistent/k.pem\n", nil, nil, `c.conf:1: tls-port "6443": open /nonexistent/c.pem: no such file or directory`, os.ErrNotExist},
		{"databases", "databases 16\n", nil, nil, `c.conf:1: databases "16": not supported: shardcached has one database (db 0); databases must be 1`, nil},
	}
	_ = dir
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, "c.conf", tt.file)
			_, err := Load(append([]string{file}, tt.args...), tt.env)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v, want a *LoadError", err)
			}
			got := strings.TrimPrefix(err.Error(), filepath.Dir(file)+"/")
			if got != tt.want {
				t.Errorf("error\n%s\nwant\n%s", got, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
	if _, err := Load([]string{"/nonexistent/shardcached.conf"}, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadTLS(t *testing.T) {
	cert := writeFile(t, "c.pem", "cert")
	key := writeFile(t, "k.pem", "key")
	c, err := Load([]string{"--tls-port", "6443", "--tls-cert-file", cert, "--tls-key-file", key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Snapshot(); v.TLSPort != 6443 || v.TLSCertFile != cert || v.TLSKeyFile != key {
		t.Errorf("%+v", v)
	}
}
