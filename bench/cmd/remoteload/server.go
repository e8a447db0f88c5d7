package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// child is a shardcached this program started on loopback.
type child struct {
	cmd    *exec.Cmd
	dir    string
	log    *bytes.Buffer
	addrs  addrs
	admin  string
	exited chan struct{}
}

// freePorts returns n distinct ports free on 127.0.0.1 a moment ago: each
// is bound to port 0 and all are released together. Another process may
// take one before the server binds it; startServer then tries again.
func freePorts(n int) ([]int, error) {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startServer runs bin on four free loopback ports (RESP, gRPC, HTTP,
// admin), in memory only, in a fresh directory, with extra appended to its
// flags, and waits until it answers PING and accepts gRPC and HTTP
// connections.
func startServer(bin string, extra []string) (*child, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		c, err := tryStart(bin, extra)
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStart(bin string, extra []string) (*child, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "remoteload-")
	if err != nil {
		return nil, err
	}
	host := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	c := &child{
		dir:   dir,
		log:   new(bytes.Buffer),
		addrs: addrs{resp: host(ports[0]), grpc: host(ports[1]), http: host(ports[2])},
		admin: host(ports[3]),
	}
	args := []string{
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(ports[0]),
		"--grpc-port", strconv.Itoa(ports[1]),
		"--http-port", strconv.Itoa(ports[2]),
		"--admin-port", strconv.Itoa(ports[3]),
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
	}
	c.cmd = exec.Command(bin, append(args, extra...)...)
	c.cmd.Stdout = c.log
	c.cmd.Stderr = c.log
	if err := c.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.exited = make(chan struct{})
	go func() { c.cmd.Wait(); close(c.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-c.exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%s exited at start: %s", filepath.Base(bin), strings.TrimSpace(c.log.String()))
		default:
		}
		if err := c.ready(); err == nil {
			return c, nil
		} else if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("%s not ready after 15s: %v", filepath.Base(bin), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ready reports whether every listener answers.
func (c *child) ready() error {
	rdb := redis.NewClient(&redis.Options{Addr: c.addrs.resp, DisableIdentity: true, Protocol: 2, MaxRetries: -1})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	for _, a := range []string{c.addrs.grpc, c.addrs.http} {
		conn, err := net.DialTimeout("tcp", a, time.Second)
		if err != nil {
			return err
		}
		conn.Close()
	}
	return nil
}

// cpu returns the server's user+system CPU time so far (Linux /proc; 0
// elsewhere), in clock ticks of 10 ms.
func (c *child) cpu() time.Duration {
	if c == nil {
		return 0
	}
	return procCPU(c.cmd.Process.Pid)
}

func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// stop sends SIGTERM, waits up to 10 s (then kills) and removes the
// server's directory.
func (c *child) stop() {
	if c == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
	os.RemoveAll(c.dir)
}
