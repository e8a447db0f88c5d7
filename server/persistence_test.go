package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardcache/shardcache/server/config"
)

// serve starts srv on a free port and returns its address and a function
// that shuts it down with or without a final snapshot.
func serve(t *testing.T, args ...string) (string, func(save bool)) {
	t.Helper()
	cfg, err := config.Load(append([]string{"--port", "0", "--admin-port", "0"}, args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	return ln.Addr().String(), func(save bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx, save); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	}
}

func TestSnapshotAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	addr, stop := serve(t, "--dir", dir)
	ctx := context.Background()
	c := newClient(t, addr, 2)
	c.Set(ctx, "plain", "v", 0)
	c.Set(ctx, "ttl", "t", time.Hour)
	c.Incr(ctx, "n")
	stop(true)
	if _, err := os.Stat(filepath.Join(dir, "dump.snap")); err != nil {
		t.Fatalf("no snapshot after shutdown: %v", err)
	}
	addr, stop = serve(t, "--dir", dir)
	defer stop(false)
	c = newClient(t, addr, 2)
	if v := c.Get(ctx, "plain").Val(); v != "v" {
		t.Fatalf("plain = %q after restart", v)
	}
	if n := c.Get(ctx, "n").Val(); n != "1" {
		t.Fatalf("n = %q after restart", n)
	}
	if d := c.TTL(ctx, "ttl").Val(); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("ttl's TTL = %v after restart", d)
	}
}

func TestSaveAndBgsave(t *testing.T) {
	dir := t.TempDir()
	addr, stop := serve(t, "--dir", dir, "--dbfilename", "x.snap")
	defer stop(false)
	ctx := context.Background()
	c := newClient(t, addr, 2)
	before := c.LastSave(ctx).Val()
	c.Set(ctx, "k", "v", 0)
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.snap")); err != nil {
		t.Fatal(err)
	}
	if got := c.LastSave(ctx).Val(); got < before {
		t.Fatalf("LASTSAVE went back: %d < %d", got, before)
	}
	if v := c.BgSave(ctx).Val(); v != "Background saving started" {
		t.Fatalf("BGSAVE = %q", v)
	}
}

// TestSaveRule checks that a save rule snapshots by itself.
func TestSaveRule(t *testing.T) {
	dir := t.TempDir()
	addr, stop := serve(t, "--dir", dir, "--save", "1 1")
	defer stop(false)
	ctx := context.Background()
	c := newClient(t, addr, 2)
	c.Set(ctx, "k", "v", 0)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(dir, "dump.snap")); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no snapshot 5 s after a write under save \"1 1\"")
}
