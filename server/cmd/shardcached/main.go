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

	"golang.org/x/net/netutil"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/server"
	"github.com/shardcache/shardcache/server/admin"
	"github.com/shardcache/shardcache/server/aof"
	"github.com/shardcache/shardcache/server/config"
	"github.com/shardcache/shardcache/server/grpcapi"
	"github.com/shardcache/shardcache/server/httpapi"
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

	// Signals are caught from here on, before any listener opens: a
	// SIGTERM that arrives while the keyspace loads, or just after the
	// first client connected, waits for the select below and shuts down
	// gracefully, instead of killing the process with its writes.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

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
	remote, err := listenRemote(srv, v, log)
	if err != nil {
		return fail(err)
	}
	errc := make(chan error, len(lns)+len(remote.lns)+1)
	for _, ln := range lns {
		go func() { errc <- srv.Serve(ln) }()
		log.Info("serving RESP", "addr", ln.Addr().String())
	}
	remote.serve(errc, log)
	host := strings.TrimPrefix(v.Bind[0], "-")
	if v.Port != 0 {
		fmt.Fprintf(stderr, "shardcached %s ready: connect with `redis-cli -h %s -p %d`\n", server.Version, host, v.Port)
	}
	if v.HTTPPort != 0 && !v.TLSHTTP {
		fmt.Fprintf(stderr, "HTTP key API: `curl -X PUT --data-binary v http://%s/v1/keys/k` then `curl http://%s/v1/keys/k`\n",
			net.JoinHostPort(host, strconv.Itoa(v.HTTPPort)), net.JoinHostPort(host, strconv.Itoa(v.HTTPPort)))
	}
	if v.GRPCPort != 0 && !v.TLSGRPC {
		fmt.Fprintf(stderr, "gRPC: `grpcurl -plaintext %s list` (shardcache.v1.Cache, with reflection)\n", net.JoinHostPort(host, strconv.Itoa(v.GRPCPort)))
	}

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
		// The remote APIs drain their calls in flight first: they run
		// through the server, which must still be up to answer them.
		remote.shutdown(ctx, log)
		if err := srv.Shutdown(ctx, true); err != nil {
			log.Error("shutdown", "err", err)
			code = 1
		}
		cancel()
	case <-srv.Done():
		// SHUTDOWN from a client: the server has already stopped, and
		// the remote APIs' calls fail with UNAVAILABLE (503).
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		remote.shutdown(ctx, log)
		cancel()
	case err := <-errc:
		log.Error("listener failed", "err", err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(v.ShutdownTimeout))
		remote.shutdown(ctx, log)
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

// remoteAPIs are the gRPC and HTTP key APIs' servers and listeners.
type remoteAPIs struct {
	grpc *grpcapi.Server
	http *http.Server
	lns  []remoteListener
}

type remoteListener struct {
	ln    net.Listener
	grpc  bool
	proto string // for the log: "gRPC" or "HTTP", with " (TLS)"
}

// listenRemote opens grpc-port and http-port on every bind address, with
// TLS where tls-grpc and tls-http ask for it.
func listenRemote(srv *server.Server, v *config.Values, log *slog.Logger) (*remoteAPIs, error) {
	r := &remoteAPIs{}
	if v.GRPCPort == 0 && v.HTTPPort == 0 {
		return r, nil
	}
	var tc *tls.Config
	if v.TLSGRPC || v.TLSHTTP {
		cert, err := tls.LoadX509KeyPair(v.TLSCertFile, v.TLSKeyFile)
		if err != nil {
			return r, fmt.Errorf("tls-cert-file/tls-key-file: %w", err)
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	listen := func(port int, useTLS, isGRPC bool, name string) error {
		for _, addr := range v.Bind {
			optional := strings.HasPrefix(addr, "-")
			addr = strings.TrimPrefix(addr, "-")
			ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
			if err != nil {
				if optional {
					log.Warn("optional bind address unavailable", "addr", addr, "err", err)
					continue
				}
				r.close()
				return fmt.Errorf("%s: %w", strings.ToLower(name)+"-port", err)
			}
			label := name
			if useTLS {
				label += " (TLS)"
				if !isGRPC { // gRPC's credentials do the handshake themselves
					ln = tls.NewListener(ln, tc.Clone())
				}
			}
			// maxclients bounds each API's connections; past it they wait
			// in the listen queue.
			ln = netutil.LimitListener(ln, v.MaxClients)
			r.lns = append(r.lns, remoteListener{ln: ln, grpc: isGRPC, proto: label})
		}
		return nil
	}
	if v.GRPCPort != 0 {
		opts := grpcapi.Options{IdleTimeout: v.Timeout}
		if v.TLSGRPC {
			opts.TLS = tc.Clone()
		}
		r.grpc = grpcapi.NewServer(srv, opts)
		if err := listen(v.GRPCPort, v.TLSGRPC, true, "gRPC"); err != nil {
			return r, err
		}
	}
	if v.HTTPPort != 0 {
		r.http = httpapi.NewServer(srv, v.Timeout)
		r.http.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
		if err := listen(v.HTTPPort, v.TLSHTTP, false, "HTTP"); err != nil {
			return r, err
		}
	}
	return r, nil
}

// serve starts a goroutine per listener; a listener's failure goes to errc.
func (r *remoteAPIs) serve(errc chan<- error, log *slog.Logger) {
	for _, l := range r.lns {
		if l.grpc {
			go func() { errc <- r.grpc.Serve(l.ln) }()
		} else {
			go func() {
				if err := r.http.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
					errc <- err
				}
			}()
		}
		log.Info("serving "+l.proto, "addr", l.ln.Addr().String())
	}
}

// shutdown stops accepting calls and waits for those in flight, until ctx
// ends.
func (r *remoteAPIs) shutdown(ctx context.Context, log *slog.Logger) {
	done := make(chan struct{}, 2)
	n := 0
	if r.grpc != nil {
		n++
		go func() {
			if err := r.grpc.Shutdown(ctx); err != nil {
				log.Warn("gRPC calls still in flight at the shutdown timeout were cut", "err", err)
			}
			done <- struct{}{}
		}()
	}
	if r.http != nil {
		n++
		go func() {
			if err := r.http.Shutdown(ctx); err != nil {
				log.Warn("HTTP calls still in flight at the shutdown timeout were cut", "err", err)
				r.http.Close()
			}
			done <- struct{}{}
		}()
	}
	for range n {
		<-done
	}
}

func (r *remoteAPIs) close() {
	for _, l := range r.lns {
		l.ln.Close()
	}
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
