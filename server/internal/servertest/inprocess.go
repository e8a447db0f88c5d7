package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/shardcache/shardcache/server"
	"github.com/shardcache/shardcache/server/config"
)

// StartInProcess runs a server.Server in the test process with the given
// directives (flag form: "--maxmemory", "1mb"), serving RESP on a free
// loopback port, and shuts it down in t's Cleanup. It returns the server,
// for the remote APIs' handlers to wrap, and its RESP address, for a
// go-redis client to check what they did.
func StartInProcess(t testing.TB, args ...string) (*server.Server, string) {
	t.Helper()
	cfg, err := config.Load(append([]string{"--port", "0", "--admin-port", "0"}, args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	if err := srv.Load(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx, false); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, ln.Addr().String()
}
