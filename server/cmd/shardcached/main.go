// Command shardcached serves a shardcache keyspace over Redis's protocol.
//
//	shardcached [/path/to/shardcached.conf] [--directive value ...]
//
// Directives have redis.conf's names and syntax, from a config file, from
// SHARDCACHED_* environment variables (SHARDCACHED_MAXMEMORY=100mb) and from
// flags (--maxmemory 100mb), in rising precedence. See docs/server.md.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/server"
	"github.com/shardcache/shardcache/server/admin"
	"github.com/shardcache/shardcache/server/aof"
	"github.com/shardcache/shardcache/server/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

func run(args, env []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "--version" || args[0] == "-v") {
		fmt.Fprintf(stdout, "shardcached v=%s redis_version=%s\n", server.Version, server.RedisVersion)
		return 0
	}
	if len(args) == 1 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Fprintln(stdout, "Usage: shardcached [/path/to/shardcached.conf] [--directive value ...]\n"+
			"Directives use redis.conf's names: --port 6380 --bind 127.0.0.1 --maxmemory 100mb --maxmemory-policy allkeys-lru ...\n"+
			"Environment: SHARDCACHED_<DIRECTIVE>, e.g. SHARDCACHED_MAXMEMORY=100mb. See docs/server.md.\n"+
			"       shardcached check-aof [--fix] DIR   checks (and with --fix cuts the damaged tail of) the AOF in DIR")
		return 0
	}
	if len(args) > 0 && args[0] == "check-aof" {
		return checkAOF(args[1:], stdout, stderr)
	}
	cfg, err := config.Load(args, env)
	if err != nil {
		fmt.Fprintf(stderr, "shardcached: %v\n", err)
		return 1
	}
	v := cfg.Snapshot()
	log, closeLog, err := newLogger(v, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "shardcached: %v\n", err)
		return 1
	}
	defer closeLog()

	srv, err := server.New(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	var adminSrv *http.Server
	if v.AdminPort != 0 {
		addr := net.JoinHostPort(strings.TrimPrefix(v.Bind[0], "-"), strconv.Itoa(v.AdminPort))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			log.Error("cannot listen", "err", fmt.Errorf("admin-port: %w", err))
			srv.Shutdown(context.Background(), false)
			return 1
		}
		adminSrv = &http.Server{Handler: admin.Handler(srv), ReadHeaderTimeout: 10 * time.Second}
		go adminSrv.Serve(ln)
		log.Info("serving admin HTTP", "addr", ln.Addr().String(), "paths", "/healthz /readyz /metrics /debug/pprof/")
	}
	// The keyspace loads with the admin server up (/readyz answers 503
	// meanwhile) and before any client can connect.
	if err := srv.Load(); err != nil {
		log.Error("cannot load the snapshot", "err", err)
		srv.Shutdown(context.Background(), false)
		return 1
	}
	var lns []net.Listener
	fail := func(err error) int {
		log.Error("cannot listen", "err", err)
		for _, ln := range lns {
			ln.Close()
		}
		srv.Shutdown(context.Background(), false)
		return 1
	}
	if v.Port != 0 {
		for _, addr := range v.Bind {
			optional := strings.HasPrefix(addr, "-")
			addr = strings.TrimPrefix(addr, "-")
			ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(v.Port)))
			if err != nil {
				if optional {
					log.Warn("optional bind address unavailable", "addr", addr, "err", err)
					continue
				}
				return fail(err)
			}
			lns = append(lns, ln)
		}
	}
	if v.TLSPort != 0 {
		cert, err := tls.LoadX509KeyPair(v.TLSCertFile, v.TLSKeyFile)
		if err != nil {
			return fail(fmt.Errorf("tls-cert-file/tls-key-file: %w", err))
		}
		tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		for _, addr := range v.Bind {
			addr = strings.TrimPrefix(addr, "-")
			ln, err := tls.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(v.TLSPort)), tc)
			if err != nil {
				return fail(err)
			}
			lns = append(lns, ln)
		}
	}
	if len(lns) == 0 {
		return fail(errors.New("no listener: port and tls-port are both 0"))
	}
	errc := make(chan error, len(lns)+1)
	for _, ln := range lns {
		go func() { errc <- srv.Serve(ln) }()
		log.Info("serving RESP", "addr", ln.Addr().String())
	}
	host := strings.TrimPrefix(v.Bind[0], "-")
	if v.Port != 0 {
		fmt.Fprintf(stderr, "shardcached %s ready: connect with `redis-cli -h %s -p %d`\n", server.Version, host, v.Port)
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	code := 0
	select {
	case sig := <-sigs:
		log.Info("received signal; shutting down", "signal", sig.String(), "timeout", time.Duration(v.ShutdownTimeout))
		go func() {
			<-sigs
			log.Warn("second signal: exiting at once")
			os.Exit(1)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(v.ShutdownTimeout))
		if err := srv.Shutdown(ctx, true); err != nil {
			log.Error("shutdown", "err", err)
			code = 1
		}
		cancel()
	case <-srv.Done():
		// SHUTDOWN from a client: the server has already stopped.
	case err := <-errc:
		log.Error("listener failed", "err", err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(v.ShutdownTimeout))
		srv.Shutdown(ctx, true)
		cancel()
		code = 1
	}
	if adminSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		adminSrv.Shutdown(ctx)
		cancel()
	}
	log.Info("bye")
	return code
}

// newLogger builds the slog logger loglevel and logfile ask for.
func newLogger(v *config.Values, stderr io.Writer) (*slog.Logger, func(), error) {
	w, closeFn := stderr, func() {}
	if v.LogFile != "" {
		f, err := os.OpenFile(v.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("logfile: %w", err)
		}
		w, closeFn = f, func() { f.Close() }
	}
	level := slog.LevelInfo
	switch v.LogLevel {
	case "debug", "verbose":
		level = slog.LevelDebug
	case "warning":
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closeFn, nil
}

// checkAOF is `shardcached check-aof [--fix] DIR`: it verifies the AOF in
// DIR (dir/appenddirname) and, with --fix, cuts a torn or damaged last
// incremental file at its last complete record, as redis-check-aof does.
// It exits 0 if the AOF loads (after fixing), 1 otherwise.
func checkAOF(args []string, stdout, stderr io.Writer) int {
	fix := false
	var dir string
	for _, a := range args {
		switch {
		case a == "--fix":
			fix = true
		case dir == "" && !strings.HasPrefix(a, "-"):
			dir = a
		default:
			fmt.Fprintln(stderr, "Usage: shardcached check-aof [--fix] DIR")
			return 2
		}
	}
	if dir == "" {
		fmt.Fprintln(stderr, "Usage: shardcached check-aof [--fix] DIR")
		return 2
	}
	verify := func(path string) error {
		c, err := shardcache.New(shardcache.Config[string, []byte]{})
		if err != nil {
			return err
		}
		defer c.Close()
		return c.LoadFile(path)
	}
	if err := aof.Check(dir, aof.CheckOptions{Fix: fix, VerifyBase: verify, Out: stdout}); err != nil {
		fmt.Fprintf(stdout, "AOF is not valid: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "AOF is valid")
	return 0
}
