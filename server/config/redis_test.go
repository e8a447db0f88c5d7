package config

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests compare Get, Set and Load with a real redis-server 7, reply for
// reply, where shardcached means to behave as Redis does. Without the binary
// they skip, loudly, except under CI=true, where they fail.

// redisServer starts redis-server on a free loopback port with extra
// arguments and returns a connection to it; both end with the test.
func redisServer(t *testing.T, extra ...string) *respConn {
	t.Helper()
	bin := lookRedis(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := append([]string{"--port", strconv.Itoa(port), "--save", "", "--appendonly", "no", "--dir", t.TempDir()}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		nc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			t.Cleanup(func() { nc.Close() })
			return &respConn{nc: nc, r: bufio.NewReader(nc)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lookRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed; CI must have it for the comparison tests")
		}
		t.Skip("SKIPPING the comparison with the real Redis: redis-server is not in PATH")
	}
	return bin
}

// respConn is a minimal RESP2 client: enough for CONFIG and KEYS.
type respConn struct {
	nc net.Conn
	r  *bufio.Reader
}

// do sends a command and returns its reply: a string, an error (for -ERR),
// an int64 or a []any.
func (c *respConn) do(t *testing.T, args ...string) any {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.nc.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	v, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (c *respConn) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return errors.New(line[1:]), nil
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := readFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		out := make([]any, 0, max(n, 0))
		for i := 0; i < n; i++ {
			v, err := c.read()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply %q", line)
}

func readFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// pairs turns a CONFIG GET reply into name/value pairs.
func pairs(t *testing.T, reply any) [][2]string {
	t.Helper()
	arr, ok := reply.([]any)
	if !ok {
		t.Fatalf("CONFIG GET replied %v", reply)
	}
	var out [][2]string
	for i := 0; i+1 < len(arr); i += 2 {
		out = append(out, [2]string{arr[i].(string), arr[i+1].(string)})
	}
	return out
}

// setReply is what Set returned, in Redis's terms: "OK" or the error text.
func setReply(err error) string {
	if err == nil {
		return "OK"
	}
	return err.Error()
}

func redisSetReply(t *testing.T, r *respConn, p [][2]string) string {
	t.Helper()
	args := []string{"CONFIG", "SET"}
	for _, kv := range p {
		args = append(args, kv[0], kv[1])
	}
	switch v := r.do(t, args...).(type) {
	case string:
		return v
	case error:
		return v.Error()
	default:
		t.Fatalf("CONFIG SET replied %v", v)
		return ""
	}
}

func TestRedisGetFormat(t *testing.T) {
	r := redisServer(t, "--bind", "127.0.0.1", "-::1")
	c, err := Load([]string{"--bind", "127.0.0.1", "-::1", "--dir", t.TempDir()}, nil) // a dir, so that save may be set
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Get("bind"), pairs(t, r.do(t, "CONFIG", "GET", "bind")); !reflect.DeepEqual(got, want) {
		t.Errorf("CONFIG GET bind: ours %q, Redis %q", got, want)
	}
	// Values both accept, set on both, read back from both. The defaults
	// that differ on purpose (port, databases, dir, dbfilename, logfile) are
	// not compared.
	sets := []struct{ name, value string }{
		{"maxmemory", "100mb"}, {"maxmemory", "1g"}, {"maxmemory", "12345"}, {"maxmemory", "0"},
		{"save", "900 1 300 10"}, {"save", "0900 1"}, {"save", ""},
		{"protected-mode", "no"}, {"protected-mode", "YES"},
		{"timeout", "300"}, {"timeout", "0"},
		{"maxclients", "50"}, {"maxclients", "10000"},
		{"proto-max-bulk-len", "1mb"}, {"proto-max-bulk-len", "2gb"}, {"proto-max-bulk-len", "512mb"},
		{"loglevel", "WARNING"}, {"loglevel", "notice"},
		{"shutdown-timeout", "5"},
		{"maxmemory-policy", "allkeys-lru"}, {"maxmemory-policy", "ALLKEYS-LFU"}, {"maxmemory-policy", "noeviction"},
		{"requirepass", "s3cret"}, {"requirepass", ""}, // last: a new connection would need AUTH
	}
	for _, s := range sets {
		p := [][2]string{{s.name, s.value}}
		if ours, theirs := setReply(c.Set(p)), redisSetReply(t, r, p); ours != theirs {
			t.Errorf("CONFIG SET %s %q: ours %q, Redis %q", s.name, s.value, ours, theirs)
			continue
		}
		if got, want := c.Get(s.name), pairs(t, r.do(t, "CONFIG", "GET", s.name)); !reflect.DeepEqual(got, want) {
			t.Errorf("CONFIG GET %s after %q: ours %q, Redis %q", s.name, s.value, got, want)
		}
	}
	// Names: as given for a plain name, once each, none for a non-match.
	for _, args := range [][]string{{"MaxMemory"}, {"maxmemory", "MAXMEMORY"}, {"nonexistent"}, {""}, {`m\axclients`}, {"timeout", "maxclients"}} {
		got := c.Get(args...)
		want := pairs(t, r.do(t, append([]string{"CONFIG", "GET"}, args...)...))
		slices.SortFunc(got, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) }) // Redis's order is its hash table's
		slices.SortFunc(want, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CONFIG GET %q: ours %q, Redis %q", args, got, want)
		}
	}
	// Patterns: ours match exactly the directives of Redis's answer that we have.
	for _, pat := range []string{"*max*", "p*", "max[a-z]lients", "MAXCLIENT?", "[^a-l]axclients", "*", "*-*", "?o*"} {
		var got, want []string
		for _, kv := range c.Get(pat) {
			got = append(got, kv[0])
		}
		for _, kv := range pairs(t, r.do(t, "CONFIG", "GET", pat)) {
			if lookup(kv[0]) != nil {
				want = append(want, kv[0])
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		// These are ours alone.
		got = slices.DeleteFunc(got, func(n string) bool {
			return slices.Contains([]string{"admin-port", "shards", "event-loops", "grpc-port", "http-port", "tls-grpc", "tls-http"}, n)
		})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CONFIG GET %q names: ours %q, Redis %q", pat, got, want)
		}
	}
}

func TestRedisSetErrors(t *testing.T) {
	r := redisServer(t)
	tests := [][][2]string{
		{{"foo", "bar"}},
		{{"Foo", "bar"}},
		{{"foo", "bar"}, {"foo2", "bar2"}},
		{{"maxmemory", "1"}, {"foo", "bar"}},
		{{"maxmemory", "abc"}},
		{{"maxmemory", "1.5"}},
		{{"maxmemory", "-1"}},
		{{"maxmemory", "10mb"}, {"maxmemory", "20mb"}},
		{{"maxmemory", "1"}, {"MAXMEMORY", "2"}},
		{{"maxmemory", "1"}, {"maxmemory", "2"}, {"foo", "bar"}},
		{{"databases", "1"}},
		{{"DATABASES", "1"}},
		{{"databases", "1"}, {"foo", "bar"}},
		{{"maxmemory", "abc"}, {"databases", "1"}},
		{{"logfile", "x"}},
		{{"dir", "/tmp"}},
		{{"dbfilename", "x"}},
		{{"dir", "/tmp"}, {"databases", "1"}},
		{{"timeout", "abc"}, {"maxmemory", "abc"}},
		{{"maxmemory", "5mb"}, {"timeout", "abc"}},
		{{"TIMEOUT", "abc"}},
		{{"timeout", "-1"}},
		{{"timeout", "2147483648"}},
		{{"timeout", "05"}},
		{{"timeout", "+5"}},
		{{"timeout", "-0"}},
		{{"timeout", " 5"}},
		{{"maxclients", "0"}},
		{{"maxclients", "abc"}},
		{{"proto-max-bulk-len", "100"}},
		{{"proto-max-bulk-len", "1kb"}},
		{{"protected-mode", "maybe"}},
		{{"protected-mode", "1"}},
		{{"loglevel", "foo"}},
		{{"save", "900"}},
		{{"save", "abc 1"}},
		{{"save", "900 1 300"}},
		{{"save", "0 1"}},
		{{"save", "1 -1"}},
		{{"save", " 900 1"}},
		{{"shutdown-timeout", "-1"}},
		{{"maxmemory", "0"}},
	}
	var c Config
	for _, p := range tests {
		if ours, theirs := setReply(c.Set(p)), redisSetReply(t, r, p); ours != theirs {
			t.Errorf("CONFIG SET %q:\nours  %s\nRedis %s", p, ours, theirs)
		}
	}
}

func TestRedisMemoryUnits(t *testing.T) {
	r := redisServer(t)
	var c Config
	// Not compared: values above 2⁶³-1, which Redis takes (or wraps) and we refuse.
	for _, v := range []string{"1k", "1K", "1kb", "1KB", "1kB", "1m", "1mb", "1g", "1gb", "1Gb", "0", "12345", "1b", "01k", "k", "",
		"1t", "1tb", " 1k", "1 k", "+5", "0x10", "1.5", "-1", "9223372036854775807"} {
		p := [][2]string{{"maxmemory", v}}
		ours, theirs := setReply(c.Set(p)), redisSetReply(t, r, p)
		if ours != theirs {
			t.Errorf("CONFIG SET maxmemory %q: ours %q, Redis %q", v, ours, theirs)
			continue
		}
		if got, want := c.Get("maxmemory"), pairs(t, r.do(t, "CONFIG", "GET", "maxmemory")); !reflect.DeepEqual(got, want) {
			t.Errorf("CONFIG GET maxmemory after %q: ours %q, Redis %q", v, got, want)
		}
	}
}

// TestRedisMatch compares Match with KEYS over a fixed keyspace.
func TestRedisMatch(t *testing.T) {
	r := redisServer(t)
	keys := []string{"", "a", "b", "ab", "abc", "hello", "hallo", "hxllo", "heello", "Hello", "h*llo", "h?llo",
		"]", "[", "a]", "-", "^", "x", `\`, `a\`, "_x", "Zx", "zx", "aaaa", "aaab", "foo:bar", "foo:baz:1"}
	for _, k := range keys {
		if k == "" {
			continue // Redis keys may be empty, but keep the list simple
		}
		if v := r.do(t, "SET", k, "1"); v != "OK" {
			t.Fatalf("SET %q: %v", k, v)
		}
	}
	patterns := []string{"*", "?", "??", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-e]llo", "h[e-a]llo", `h\*llo`, `h\?llo`,
		`\`, `a\`, `[\]]`, `[\`, "[ab", "[", "[]", "[]a]", "[^]", "[^", "[a-]x]", "[Z-a]x", "*a*a*b", "foo:*", "foo:*:?", "*[", "a*]",
		"*[^a]*", "[a-c][a-c]*"}
	for _, p := range patterns {
		var want []string
		for _, k := range r.do(t, "KEYS", p).([]any) {
			want = append(want, k.(string))
		}
		var got []string
		for _, k := range keys {
			if k != "" && Match(p, k, false) {
				got = append(got, k)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("KEYS %q: ours %q, Redis %q", p, got, want)
		}
	}
}

// TestRedisFileErrors compares Load's reasons for bad file lines with what
// redis-server prints when it refuses the same file.
func TestRedisFileErrors(t *testing.T) {
	bin := lookRedis(t)
	lines := []string{
		"foo bar",
		"port",
		"maxmemory abc",
		"maxmemory 1mb 2mb",
		"dbfilename a/b",
		"save 900",
		`requirepass "abc`,
		`requirepass "abc"def`,
		"timeout 05",
		"protected-mode maybe",
		"include",
	}
	for _, line := range lines {
		path := filepath.Join(t.TempDir(), "t.conf")
		if err := os.WriteFile(path, []byte(line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, path, "--port", "0").CombinedOutput()
		text := strings.TrimSpace(string(out))
		theirs := text[strings.LastIndexByte(text, '\n')+1:]
		if !strings.Contains(text, "FATAL CONFIG FILE ERROR") {
			t.Errorf("%q: redis-server did not refuse it:\n%s", line, text)
			continue
		}
		_, err := Load([]string{path}, nil)
		var le *LoadError
		if !errors.As(err, &le) {
			t.Errorf("%q: Load = %v", line, err)
			continue
		}
		if ours := le.Err.Error(); ours != theirs {
			t.Errorf("%q: ours %q, Redis %q", line, ours, theirs)
		}
	}
}
