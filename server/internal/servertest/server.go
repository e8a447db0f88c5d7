package servertest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// ReadyTimeout bounds how long a started server has to answer PING.
	ReadyTimeout = 10 * time.Second
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	StopTimeout = 10 * time.Second
	// WaitTimeout bounds Wait, so that a test waiting for an exit that
	// never comes fails instead of hanging.
	WaitTimeout = 30 * time.Second

	startAttempts = 5 // ports taken between FreePort and the server's bind
)

// Server is a server process started by StartRedis or StartShardcached,
// owned by the test that started it and stopped by that test's Cleanup.
// Its methods may be called from any goroutine.
type Server struct {
	name string // for messages: "redis-server", "shardcached"
	t    testing.TB
	port int
	dir  string
	log  string // path of the file that holds its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been waited for
	err  error         // cmd.Wait's result, set before done is closed
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before the caller binds it; the Start
// functions retry when that happens.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("servertest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// skipOrFatal skips a test whose prerequisite is missing, except on CI
// (CI=true), where a test that silently stops testing is a failure.
func skipOrFatal(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("servertest: %s (CI=true, so this is a failure, not a skip)", msg)
	}
	t.Skipf("servertest: SKIPPED, NOTHING WAS TESTED: %s", msg)
}

// StartRedis starts redis-server on a free port of 127.0.0.1 with nothing
// persisted (--save "" --appendonly no) in a temporary directory, waits
// until it answers PING and stops it in t's Cleanup. args are appended
// (they win over the defaults); a first argument that does not start
// with "-" is a config file and goes first, as redis-server wants. Without
// redis-server on PATH the test is skipped, or fails when CI=true.
func StartRedis(t testing.TB, args ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		skipOrFatal(t, "redis-server is not on PATH (Debian: apt-get install redis-server)")
	}
	return start(t, "redis-server", bin, args, func(port int, dir string) []string {
		return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir}
	})
}

// StartShardcached starts the shardcached binary (BuildShardcached) on a
// free port of 127.0.0.1 with --admin-port 0 and a temporary --dir, waits
// until it answers PING and stops it in t's Cleanup, where a server that
// does not exit 0 on SIGTERM fails the test. args are treated as by
// StartRedis.
func StartShardcached(t testing.TB, args ...string) *Server {
	t.Helper()
	bin := BuildShardcached(t)
	return start(t, "shardcached", bin, args, func(port int, dir string) []string {
		return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--admin-port", "0", "--dir", dir}
	})
}

// Remote is a shardcached started by StartShardcachedRemote: its RESP
// server, and the addresses of its gRPC and HTTP APIs.
type Remote struct {
	*Server
	GRPCAddr string // host:port of grpc-port
	HTTPAddr string // host:port of http-port
}

// StartShardcachedRemote starts shardcached as StartShardcached does, with
// grpc-port and http-port on free ports of 127.0.0.1 too (chosen again
// when a port is taken before the server binds it).
func StartShardcachedRemote(t testing.TB, args ...string) *Remote {
	t.Helper()
	bin := BuildShardcached(t)
	r := &Remote{}
	r.Server = start(t, "shardcached", bin, args, func(port int, dir string) []string {
		g, h := FreePort(t), FreePort(t)
		r.GRPCAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(g))
		r.HTTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(h))
		return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--admin-port", "0", "--dir", dir, "--grpc-port", strconv.Itoa(g), "--http-port", strconv.Itoa(h)}
	})
	return r
}

func start(t testing.TB, name, bin string, args []string, defaults func(port int, dir string) []string) *Server {
	t.Helper()
	dir := t.TempDir() // removed after the Cleanup below has stopped the server
	var config []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		config, args = args[:1], args[1:]
	}
	for attempt := 1; ; attempt++ {
		port := FreePort(t)
		argv := append(append(append([]string{}, config...), defaults(port, dir)...), args...)
		s, err := launch(t, name, bin, argv, port, dir)
		if err != nil {
			t.Fatalf("servertest: start %s: %v", name, err)
		}
		err = s.waitReady()
		if err == nil {
			t.Cleanup(s.cleanup)
			return s
		}
		s.Kill()
		log := s.Log()
		if attempt < startAttempts && strings.Contains(strings.ToLower(log), "address already in use") {
			continue // someone took the port after FreePort: try another
		}
		t.Fatalf("servertest: %s %s: %v\n--- %s log:\n%s", bin, strings.Join(quoteArgs(argv), " "), err, name, log)
	}
}

func launch(t testing.TB, name, bin string, argv []string, port int, dir string) (*Server, error) {
	s := &Server{name: name, t: t, port: port, dir: dir,
		log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	s.cmd = exec.Command(bin, argv...)
	s.cmd.Dir = dir
	s.cmd.Stdout = logf
	s.cmd.Stderr = logf
	s.cmd.SysProcAttr = procAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// waitReady polls PING until the server answers it (PONG, or NOAUTH when a
// password is set), the process exits, or ReadyTimeout passes.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(ReadyTimeout)
	for {
		err := ping(s.Addr())
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before answering PING: %v", s.err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer to PING within %v: %v", ReadyTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ping(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write(EncodeCommand("PING")); err != nil {
		return err
	}
	r, err := ReadReply(bufio.NewReader(nc))
	if err != nil {
		return err
	}
	if r.Kind == KindSimple && r.Str == "PONG" || r.Kind == KindError && strings.HasPrefix(r.Str, "NOAUTH") {
		return nil
	}
	return fmt.Errorf("PING answered %s", r)
}

// cleanup stops a server the test left running, fails the test if it did
// not exit cleanly, and copies its log into the test log on failure.
func (s *Server) cleanup() {
	if !s.exited() {
		if err := s.Stop(); err != nil {
			s.t.Errorf("servertest: %s on port %d did not exit cleanly on SIGTERM: %v", s.name, s.port, err)
		}
	}
	if s.t.Failed() {
		s.t.Logf("--- %s (port %d) log:\n%s", s.name, s.port, s.Log())
	}
}

func (s *Server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// Dir is the server's working directory (its --dir), removed after the test.
func (s *Server) Dir() string { return s.dir }

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns what the server has written to stdout and stderr so far.
func (s *Server) Log() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}

// Signal sends sig to the server. It fails (with os.ErrProcessDone) once
// the process has exited.
func (s *Server) Signal(sig os.Signal) error {
	if s.exited() {
		return os.ErrProcessDone
	}
	return s.cmd.Process.Signal(sig)
}

// Stop sends SIGTERM, waits up to StopTimeout for the server to exit, then
// kills it. It returns nil if the server exited with status 0 (at once, if
// it had already), or the reason it did not.
func (s *Server) Stop() error {
	if s.exited() {
		return s.err
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.done:
		return s.err
	case <-time.After(StopTimeout):
		s.Kill()
		return fmt.Errorf("still running %v after SIGTERM, killed", StopTimeout)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() {
	if !s.exited() {
		s.cmd.Process.Kill()
	}
	<-s.done
}

// Wait waits for the server to exit and returns how it exited (nil for
// status 0). A server still running after WaitTimeout is killed and Wait
// says so, so that a test cannot hang here.
func (s *Server) Wait() error {
	select {
	case <-s.done:
		return s.err
	case <-time.After(WaitTimeout):
		s.Kill()
		return fmt.Errorf("servertest: %s still running after %v, killed", s.name, WaitTimeout)
	}
}

func quoteArgs(argv []string) []string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = a
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			q[i] = strconv.Quote(a)
		}
	}
	return q
}
