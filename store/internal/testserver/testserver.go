// Package testserver starts the servers the store tests run against, each
// on free loopback ports and owned by the test that started it:
// redis-server (alone or as a Cluster), memcached, and shardcached built
// from this repository's server module.
//
// A server runs in the test's temporary directory with its output in a log
// file, copied into the test log when the test fails, and is killed by the
// test's Cleanup (on Linux also if the test process dies first). A missing
// binary skips the test loudly, or fails it when CI=true. A port taken by
// someone else between choosing and binding it is retried with another.
package testserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	readyTimeout  = 10 * time.Second
	startAttempts = 5
)

// Server is one server process. Its methods may be called from any
// goroutine.
type Server struct {
	Name string
	Port int
	t    testing.TB
	dir  string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Addr is the server's 127.0.0.1:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Dir is the server's working directory.
func (s *Server) Dir() string { return s.dir }

// Log returns what the server has written so far.
func (s *Server) Log() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(b)
}

// Kill stops the server at once and waits until it is gone: its port then
// refuses connections.
func (s *Server) Kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGCONT) // a paused process dies only once resumed
	s.cmd.Process.Kill()
	<-s.done
}

// Pause stops the process (SIGSTOP) without closing its sockets: the
// kernel still accepts connections, but nothing answers, as with a hung or
// unreachable server. The signal is delivered asynchronously, so Pause
// waits (up to 2 s, on Linux, where /proc shows it) until every thread of
// the process is stopped: a request sent after Pause returns gets no
// answer. Resume undoes it; Cleanup resumes before killing.
func (s *Server) Pause() {
	s.cmd.Process.Signal(syscall.SIGSTOP)
	tasks := filepath.Join("/proc", strconv.Itoa(s.cmd.Process.Pid), "task")
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if allStopped(tasks) {
			return
		}
	}
}

// allStopped reports whether every thread listed in dir (/proc/PID/task)
// is stopped, and false when it cannot tell.
func allStopped(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		return false
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "stat"))
		if err != nil {
			return false
		}
		// The state is the field after the command name, which ends at
		// the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// Resume continues a paused server.
func (s *Server) Resume() { s.cmd.Process.Signal(syscall.SIGCONT) }

// SkipOrFatal skips a test whose prerequisite is missing, saying so loudly,
// except under CI=true, where a test that silently tests nothing fails.
func SkipOrFatal(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("testserver: %s (CI=true: a failure, not a skip)", msg)
	}
	t.Skipf("testserver: SKIPPED, NOTHING WAS TESTED: %s", msg)
}

// FreePort returns a port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testserver: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func lookPath(t testing.TB, bin, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		SkipOrFatal(t, "%s is not on PATH (Debian: apt-get install %s)", bin, pkg)
	}
	return p
}

// start launches bin with the arguments argv returns for a free port and
// the server's directory, and waits until ready answers. It retries on
// another port when the chosen one was taken.
func start(t testing.TB, name, bin string, argv func(port int, dir string) []string, ready func(addr string) error) *Server {
	t.Helper()
	dir := t.TempDir()
	for attempt := 1; ; attempt++ {
		port := FreePort(t)
		s := &Server{Name: name, Port: port, t: t, dir: dir, done: make(chan struct{}),
			log: filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, port))}
		logf, err := os.Create(s.log)
		if err != nil {
			t.Fatal(err)
		}
		args := argv(port, dir)
		s.cmd = exec.Command(bin, args...)
		s.cmd.Dir, s.cmd.Stdout, s.cmd.Stderr = dir, logf, logf
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		err = s.cmd.Start()
		logf.Close()
		if err != nil {
			t.Fatalf("testserver: start %s: %v", name, err)
		}
		go func() { s.cmd.Wait(); close(s.done) }()
		if err = s.waitReady(ready); err == nil {
			t.Cleanup(func() {
				s.Kill()
				if t.Failed() {
					t.Logf("--- %s on port %d, log:\n%s", name, port, s.Log())
				}
			})
			return s
		}
		s.Kill()
		if attempt < startAttempts && strings.Contains(strings.ToLower(s.Log()), "in use") {
			continue
		}
		t.Fatalf("testserver: %s %s: %v\n--- log:\n%s", bin, strings.Join(args, " "), err, s.Log())
	}
}

func (s *Server) waitReady(ready func(addr string) error) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		err := ready(s.Addr())
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before it was ready: %v", s.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %v: %v", readyTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// roundTrip sends req on a fresh connection and returns the first reply
// line.
func roundTrip(addr, req string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write([]byte(req)); err != nil {
		return "", err
	}
	return bufio.NewReader(nc).ReadString('\n')
}

// Command sends one command to a RESP server and returns its reply's first
// line, for setting up and checking servers (CLUSTER INFO, CONFIG SET...).
// Bulk replies are returned in full.
func Command(addr string, args ...string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(nc)
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "$") {
		return strings.TrimRight(line, "\r\n"), err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || n < 0 {
		return "", err
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func pingRESP(addr string) error {
	line, err := roundTrip(addr, "*1\r\n$4\r\nPING\r\n")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// Redis starts redis-server on a free port with nothing persisted. extra
// arguments are appended to the defaults.
func Redis(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := lookPath(t, "redis-server", "redis-server")
	return start(t, "redis-server", bin, func(port int, dir string) []string {
		return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir}, extra...)
	}, pingRESP)
}

// RedisCluster starts masters redis-servers with cluster mode on, joins
// them with redis-cli --cluster create (no replicas) and waits until every
// node reports cluster_state:ok. It returns the nodes.
func RedisCluster(t testing.TB, masters int) []*Server {
	t.Helper()
	cli := lookPath(t, "redis-cli", "redis-tools")
	nodes := make([]*Server, masters)
	args := []string{"--cluster", "create"}
	for i := range nodes {
		bus := FreePort(t) // a bind race here fails the start, which retries both ports
		nodes[i] = Redis(t, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", fmt.Sprintf("nodes-%d.conf", i), "--cluster-node-timeout", "5000")
		args = append(args, nodes[i].Addr())
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("testserver: redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range nodes {
		for {
			info, err := Command(n.Addr(), "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("testserver: cluster not ok on %s: %q, %v", n.Addr(), info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nodes
}

// Memcached starts memcached on a free port of 127.0.0.1 (TCP only).
// extra arguments are appended, such as "-I", "2m" for a larger item size
// limit.
func Memcached(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := lookPath(t, "memcached", "memcached")
	return start(t, "memcached", bin, func(port int, dir string) []string {
		args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "256"}
		if os.Getuid() == 0 {
			args = append(args, "-u", "root") // memcached refuses to run as root without it
		}
		return append(args, extra...)
	}, func(addr string) error {
		line, err := roundTrip(addr, "version\r\n")
		if err == nil && !strings.HasPrefix(line, "VERSION") {
			err = fmt.Errorf("version answered %q", line)
		}
		return err
	})
}

var shardcached struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Shardcached builds this repository's shardcached (from ../server,
// beside the store module, once per test process) and starts it on a free
// port with --admin-port 0. A server module that is missing or does not
// build skips the test loudly, or fails it under CI=true.
func Shardcached(t testing.TB, extra ...string) *Server {
	t.Helper()
	shardcached.once.Do(buildShardcached)
	if shardcached.err != nil {
		SkipOrFatal(t, "no shardcached to test against: %v", shardcached.err)
	}
	return start(t, "shardcached", shardcached.path, func(port int, dir string) []string {
		return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--admin-port", "0", "--dir", dir}, extra...)
	}, pingRESP)
}

func buildShardcached() {
	if p := os.Getenv("SHARDCACHED_BIN"); p != "" {
		shardcached.path = p
		return
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		shardcached.err = fmt.Errorf("go env GOMOD: %v", err)
		return
	}
	serverDir := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "..", "server")
	if _, err := os.Stat(filepath.Join(serverDir, "cmd", "shardcached")); err != nil {
		shardcached.err = fmt.Errorf("no server module beside the store module: %v", err)
		return
	}
	if shardcached.dir, err = os.MkdirTemp("", "store-shardcached-"); err != nil {
		shardcached.err = err
		return
	}
	shardcached.path = filepath.Join(shardcached.dir, "shardcached")
	cmd := exec.Command("go", "build", "-o", shardcached.path, "./cmd/shardcached")
	cmd.Dir = serverDir
	if out, err := cmd.CombinedOutput(); err != nil {
		shardcached.err = fmt.Errorf("go build ./cmd/shardcached in %s: %v\n%s", serverDir, err, out)
	}
}

// Main runs a package's tests and removes the shardcached binary
// Shardcached built, if any. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shardcached.dir != "" {
		os.RemoveAll(shardcached.dir)
	}
	os.Exit(code)
}
