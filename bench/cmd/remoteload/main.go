// Command remoteload measures shardcached's Get and Set over its three
// remote protocols, from one Go process on the same machine:
//
//   - resp/unary: go-redis, one command per call
//   - resp/pipelined: go-redis Pipeline, -batch commands per round trip
//   - grpc/unary: the Cache service's Get and Set RPCs
//   - grpc/batched: GetMany and SetMany with -batch keys per call
//   - http/keepalive: GET and PUT /v1/keys/{key} with raw bytes, net/http
//     with keep-alive connections (idle pool larger than -callers)
//
// It preloads -keys keys with -value-byte values over RESP, then runs
// -rounds rounds; each round runs every mode in turn (A B C D E, A B C D
// E, ...), and each mode a Set phase then a Get phase of -duration with
// -callers goroutines calling in a closed loop on uniformly random keys.
// Throughput counts keys, not calls: a batched or pipelined call of 16
// keys counts 16. Latency is per call, so for the batched and pipelined
// modes it is the time of a whole round trip of -batch keys. The report
// is a Markdown table of medians across rounds, then every round's
// figures.
//
//	remoteload -server ../bin/shardcached        # starts it on free 127.0.0.1 ports
//	remoteload -resp 127.0.0.1:7001 -grpc 127.0.0.1:7002 -http 127.0.0.1:7003
//
// With -server it also reports the server's CPU time per key (from
// /proc), and -profile DIR saves a CPU profile of the server (through its
// admin port's /debug/pprof) for every phase of the last round.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "remoteload:", err)
		os.Exit(1)
	}
}

type config struct {
	addrs      addrs
	admin      string
	server     string
	serverArgs string
	modes      []string
	duration   time.Duration
	rounds     int
	callers    int
	keys       int
	valueSize  int
	batch      int
	grpcConns  int
	profileDir string
	cpuProfile string
	rate       float64 // calls/s of all callers together; 0: closed loop
}

func run() error {
	var c config
	var modes string
	flag.StringVar(&c.addrs.resp, "resp", "", "RESP address (host:port) of a running server")
	flag.StringVar(&c.addrs.grpc, "grpc", "", "gRPC address of a running server")
	flag.StringVar(&c.addrs.http, "http", "", "HTTP key API address of a running server")
	flag.StringVar(&c.admin, "admin", "", "admin HTTP address of a running server (for -profile)")
	flag.StringVar(&c.server, "server", "", "shardcached binary to start on free 127.0.0.1 ports instead of -resp/-grpc/-http")
	flag.StringVar(&c.serverArgs, "server-args", "", "more flags for the started server, space-separated")
	flag.StringVar(&modes, "modes", strings.Join(modeNames, ","), "modes to run, comma-separated, in round order")
	flag.DurationVar(&c.duration, "duration", 3*time.Second, "length of each phase (one op of one mode in one round)")
	flag.IntVar(&c.rounds, "rounds", 6, "rounds; medians are taken across them")
	flag.IntVar(&c.callers, "callers", 50, "concurrent callers (goroutines) per phase")
	flag.IntVar(&c.keys, "keys", 100000, "keyspace, preloaded before the first round")
	flag.IntVar(&c.valueSize, "value", 64, "value size in bytes")
	flag.IntVar(&c.batch, "batch", 16, "keys per call in resp/pipelined and grpc/batched")
	flag.IntVar(&c.grpcConns, "grpc-conns", 1, "gRPC client connections the callers share")
	flag.StringVar(&c.profileDir, "profile", "", "directory for server CPU profiles of the last round (needs -server or -admin)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "file for this program's own CPU profile over the whole run")
	flag.Float64Var(&c.rate, "rate", 0, "calls/s of all callers together, each caller on a fixed schedule (latency counted from the scheduled time); 0: closed loop, as fast as the server answers")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	c.modes = strings.Split(modes, ",")
	if c.rounds < 1 || c.callers < 1 || c.keys < 1 || c.batch < 1 || c.grpcConns < 1 || c.duration <= 0 || c.rate < 0 {
		return errors.New("-rounds, -callers, -keys, -batch, -grpc-conns and -duration must be positive, -rate not negative")
	}

	var srv *child
	if c.server != "" {
		if c.addrs != (addrs{}) {
			return errors.New("-server starts its own server: drop -resp, -grpc and -http")
		}
		var err error
		srv, err = startServer(c.server, strings.Fields(c.serverArgs))
		if err != nil {
			return err
		}
		defer srv.stop()
		c.addrs, c.admin = srv.addrs, srv.admin
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-sig
			srv.stop()
			os.Exit(130)
		}()
	}
	if c.profileDir != "" {
		if c.admin == "" {
			return errors.New("-profile needs -server or -admin")
		}
		if err := os.MkdirAll(c.profileDir, 0o755); err != nil {
			return err
		}
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	w := &workload{keys: make([]string, c.keys), value: make([]byte, c.valueSize), batch: c.batch}
	for i := range w.keys {
		w.keys[i] = fmt.Sprintf("key:%012d", i)
	}
	for i := range w.value {
		w.value[i] = 'a' + byte(i%26)
	}
	ctx := context.Background()
	if c.addrs.resp != "" {
		if err := preload(ctx, c.addrs.resp, w); err != nil {
			return fmt.Errorf("preload: %w", err)
		}
	} else {
		fmt.Fprintln(os.Stderr, "remoteload: no -resp address, so no preload: Gets may miss")
	}

	ms := make([]*mode, len(c.modes))
	for i, name := range c.modes {
		m, err := newMode(name, c.addrs, w, c.callers, c.grpcConns)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer m.close()
		ms[i] = m
	}

	fmt.Fprintf(os.Stderr, "remoteload: %d modes × %d rounds × 2 ops × %v ≈ %v\n",
		len(ms), c.rounds, c.duration, time.Duration(len(ms)*c.rounds*2)*c.duration)
	var results []result
	failed := 0
	for r := 1; r <= c.rounds; r++ {
		for _, m := range ms {
			for _, o := range []op{opSet, opGet} {
				var prof func() error
				if c.profileDir != "" && r == c.rounds {
					prof = fetchProfile(c.admin, c.duration, filepath.Join(c.profileDir, strings.ReplaceAll(m.name, "/", "-")+"-"+string(o)+".pprof"))
				}
				res := runPhase(ctx, m, o, c.callers, c.duration, c.rate, srv)
				res.round = r
				if prof != nil {
					if err := prof(); err != nil {
						fmt.Fprintln(os.Stderr, "remoteload: profile:", err)
					}
				}
				results = append(results, res)
				fmt.Fprintf(os.Stderr, "round %d %-15s %s %11.0f keys/s p50 %7.1fµs p99 %7.1fµs errors %d new conns %d\n",
					r, m.name, o, res.keysPerSec(), us(res.h.quantile(0.5)), us(res.h.quantile(0.99)), res.errors, res.dials)
				if res.errors > 0 {
					failed++
					fmt.Fprintf(os.Stderr, "remoteload: %s %s: %d errors, first: %v\n", m.name, o, res.errors, res.firstErr)
				}
			}
		}
	}
	report(os.Stdout, c, ms, results, srv != nil)
	if failed > 0 {
		return fmt.Errorf("%d phases had errors", failed)
	}
	return nil
}

// preload writes every key over RESP, pipelined, from a few goroutines,
// and checks DBSIZE.
func preload(ctx context.Context, addr string, w *workload) error {
	const workers, chunk = 4, 1000
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: workers, DisableIdentity: true, Protocol: 2})
	defer rdb.Close()
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for g := range workers {
		wg.Go(func() {
			for lo := g * chunk; lo < len(w.keys); lo += workers * chunk {
				pipe := rdb.Pipeline()
				for _, k := range w.keys[lo:min(lo+chunk, len(w.keys))] {
					pipe.Set(ctx, k, w.value, 0)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	n, err := rdb.DBSize(ctx).Result()
	if err != nil {
		return err
	}
	if n < int64(len(w.keys)) {
		return fmt.Errorf("DBSIZE %d after writing %d keys", n, len(w.keys))
	}
	return nil
}

// result is one phase: one op of one mode in one round.
type result struct {
	mode     string
	op       op
	round    int
	keys     uint64 // keys of successful calls
	calls    uint64
	errors   uint64
	misses   uint64
	firstErr error
	elapsed  time.Duration
	serverCP time.Duration // server CPU time over the phase; 0 if unknown
	clientCP time.Duration // this process's CPU time over the phase; 0 if unknown
	dials    int64         // connections opened during the phase (http/keepalive only)
	h        hist
}

func (r *result) keysPerSec() float64  { return float64(r.keys) / r.elapsed.Seconds() }
func (r *result) callsPerSec() float64 { return float64(r.calls) / r.elapsed.Seconds() }

// runPhase runs op of m with callers goroutines for d and gathers their
// counts and latencies. With rate 0 each goroutine calls in a closed loop
// until d has passed since the common start. With a rate, caller i makes
// its k-th call at start + (i + k·callers)/rate, so that the calls are
// spread evenly; a call that starts late because the previous one was
// slow counts its wait from the scheduled time (no coordinated omission),
// one that was waiting for its time counts from when it is sent (a timer's
// late wakeup belongs to this process, not to the server). The elapsed time ends when the last call
// returns.
func runPhase(ctx context.Context, m *mode, o op, callers int, d time.Duration, rate float64, srv *child) result {
	type callerState struct {
		h                     hist
		keys, calls, err, mis uint64
		firstErr              error
		_                     [64]byte
	}
	states := make([]*callerState, callers)
	calls := make([]callFunc, callers)
	for i := range callers {
		states[i] = new(callerState)
		calls[i] = m.newCaller(o, i)
	}
	start := make(chan struct{})
	var wg, warm sync.WaitGroup
	warm.Add(callers)
	var begin, deadline time.Time
	var interval time.Duration // between one caller's scheduled calls
	if rate > 0 {
		interval = time.Duration(float64(callers) / rate * float64(time.Second))
	}
	for i := range callers {
		st, call := states[i], calls[i]
		wg.Go(func() {
			call(ctx) // untimed: opens this caller's connection, if it has one of its own
			warm.Done()
			<-start
			next := begin.Add(time.Duration(i) * interval / time.Duration(callers))
			for {
				t0 := time.Now()
				if interval > 0 {
					if wait := next.Sub(t0); wait > 0 {
						// Idle until the call is due: its latency runs
						// from when it is sent, so that this process's
						// late wakeup is not the server's.
						time.Sleep(wait)
						t0 = time.Now()
					} else {
						t0 = next // late because of the call before: the wait counts
					}
					next = next.Add(interval)
				}
				if !t0.Before(deadline) {
					return
				}
				misses, err := call(ctx)
				st.h.record(time.Since(t0))
				st.calls++
				if err != nil {
					if st.err == 0 {
						st.firstErr = err
					}
					st.err++
					continue
				}
				st.keys += uint64(m.keysPerCall)
				st.mis += uint64(misses)
			}
		})
	}
	warm.Wait()
	runtime.GC()
	cpu0, self0 := srv.cpu(), procCPU(os.Getpid())
	var dials0 int64
	if m.dials != nil {
		dials0 = m.dials()
	}
	t0 := time.Now()
	begin, deadline = t0, t0.Add(d)
	close(start)
	wg.Wait()
	res := result{mode: m.name, op: o, elapsed: time.Since(t0)}
	res.clientCP = procCPU(os.Getpid()) - self0
	if m.dials != nil {
		res.dials = m.dials() - dials0
	}
	if srv != nil {
		res.serverCP = srv.cpu() - cpu0
	}
	for _, st := range states {
		res.h.merge(&st.h)
		res.keys += st.keys
		res.calls += st.calls
		res.errors += st.err
		res.misses += st.mis
		if res.firstErr == nil {
			res.firstErr = st.firstErr
		}
	}
	return res
}

// fetchProfile starts fetching a CPU profile of the server that covers
// most of a phase of length d, and returns a function that waits for it
// and writes it to path.
func fetchProfile(admin string, d time.Duration, path string) func() error {
	secs := max(1, int(d.Seconds())-1)
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, secs))
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("%s: %s", path, resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		done <- errors.Join(err, f.Close())
	}()
	return func() error { return <-done }
}

func isNotFound(err error) bool { return status.Code(err) == codes.NotFound }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
