package server

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestDocumentedDifferences pins the replies docs/server.md lists as
// departing from Redis 7.0.15 on purpose, which the compatibility scripts
// (compared with a real redis-server) leave out.
func TestDocumentedDifferences(t *testing.T) {
	_, addr := startServer(t)
	r := dialRaw(t, addr)
	// CLIENT SETINFO answers as Redis 7.2 does (go-redis sends it).
	r.send("CLIENT SETINFO LIB-NAME go-redis\r\nCLIENT SETINFO LIB-VER 9.23.0\r\nCLIENT SETINFO LIB-NAME \"a b\"\r\nCLIENT SETINFO FOO x\r\n")
	for _, want := range []string{
		"+OK",
		"+OK",
		"-ERR lib-name cannot contain spaces, newlines or special characters.",
		"-ERR Unrecognized option 'FOO'",
	} {
		if got := r.line(); got != want {
			t.Errorf("CLIENT SETINFO: %q, want %q", got, want)
		}
	}
	// A running server switches between its three policies; Redis's
	// other policies are refused with the list of ours.
	r.send("CONFIG SET maxmemory-policy allkeys-lru\r\nCONFIG SET maxmemory-policy allkeys-lfu\r\n" +
		"CONFIG SET maxmemory-policy noeviction\r\nCONFIG SET maxmemory-policy volatile-ttl\r\nCONFIG GET maxmemory-policy\r\n")
	for _, want := range []string{
		"+OK",
		"+OK",
		"+OK",
		"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - not supported; supported: allkeys-lru, allkeys-lfu, noeviction",
		"*2", "$16", "maxmemory-policy", "$10", "noeviction",
	} {
		if got := r.line(); got != want {
			t.Errorf("CONFIG SET maxmemory-policy: %q, want %q", got, want)
		}
	}
	// Deadlines are kept within about 292 years of the server's start: a
	// PEXPIREAT at the end of int64 is accepted and reads back clamped.
	r.send("SET k v\r\nPEXPIREAT k 9223372036854775807\r\nTTL k\r\n")
	r.line()
	if got := r.line(); got != ":1" {
		t.Fatalf("PEXPIREAT at the end of time: %q", got)
	}
	got := r.line()
	if !strings.HasPrefix(got, ":92233") || len(got) != len(":9223372037") {
		t.Fatalf("TTL after PEXPIREAT at the end of time: %q, want about 2^63 ns in seconds", got)
	}
}

// TestLFUServer checks a server started with allkeys-lfu: OBJECT FREQ
// answers, IDLETIME gives Redis's LFU error, and it switches to
// noeviction, allkeys-lru and back.
func TestLFUServer(t *testing.T) {
	_, addr := startServer(t, "--maxmemory", "10mb", "--maxmemory-policy", "allkeys-lfu")
	ctx := context.Background()
	c := newClient(t, addr, 2)
	c.Set(ctx, "k", "v", 0)
	if n, err := c.ObjectFreq(ctx, "k").Result(); err != nil || n < 0 {
		t.Fatalf("OBJECT FREQ under allkeys-lfu: %d, %v", n, err)
	}
	if err := c.ObjectIdleTime(ctx, "k").Err(); err == nil || !strings.Contains(err.Error(), "An LFU maxmemory policy is selected, idle time not tracked") {
		t.Fatalf("OBJECT IDLETIME under allkeys-lfu: %v", err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lfu").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lfu").Err(); err != nil {
		t.Fatal(err)
	}
	// Many distinct keys under the budget: the filter admits, evictions keep
	// the budget.
	for i := range 30000 {
		c.Set(ctx, "key"+itoa(i), strings.Repeat("x", 500), time.Hour)
	}
	mem, _ := c.Info(ctx, "memory").Result()
	if !strings.Contains(mem, "maxmemory_policy:allkeys-lfu") {
		t.Fatalf("INFO memory: %q", mem)
	}
}
