package strval

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file runs a real redis-server for the differential tests and talks
// to it with a minimal RESP2 client.

// redisConn is a connection to a redis-server started for one test.
type redisConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// startRedis starts redis-server on a free loopback port, stopped when the
// test ends. Without a redis-server binary the test is skipped, or fails
// when CI=true.
func startRedis(t *testing.T) *redisConn {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is not installed, and CI=true requires the differential tests: %v", err)
		}
		t.Skipf("SKIPPING differential test: redis-server not found (%v)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			rc := &redisConn{t: t, c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
			t.Cleanup(func() { c.Close() })
			if got := rc.do("PING").String(); got == "+PONG" {
				return rc
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reply is one RESP2 reply.
type reply struct {
	kind byte // '+', '-', ':', '$', '*'
	str  []byte
	num  int64
	arr  []reply
	null bool
}

// String is the reply in a form to compare and to print: "+OK", "-ERR …",
// ":5", "$"+quoted bulk, "$nil", "*[a b]".
func (r reply) String() string {
	switch r.kind {
	case '+', '-':
		return string(r.kind) + string(r.str)
	case ':':
		return ":" + strconv.FormatInt(r.num, 10)
	case '$':
		if r.null {
			return "$nil"
		}
		return "$" + strconv.Quote(string(r.str))
	case '*':
		if r.null {
			return "*nil"
		}
		parts := make([]string, len(r.arr))
		for i, a := range r.arr {
			parts[i] = a.String()
		}
		return "*[" + strings.Join(parts, " ") + "]"
	}
	return "?" + string(r.kind)
}

// Constructors for expected replies.
func bulk(b []byte) string   { return reply{kind: '$', str: b}.String() }
func integer(n int64) string { return reply{kind: ':', num: n}.String() }
func errReply(err error) string {
	return reply{kind: '-', str: []byte(err.Error())}.String()
}

// send writes one command without flushing.
func (rc *redisConn) send(args ...any) {
	fmt.Fprintf(rc.w, "*%d\r\n", len(args))
	for _, a := range args {
		var b []byte
		switch v := a.(type) {
		case []byte:
			b = v
		case string:
			b = []byte(v)
		case int:
			b = strconv.AppendInt(nil, int64(v), 10)
		case int64:
			b = strconv.AppendInt(nil, v, 10)
		case uint64:
			b = strconv.AppendUint(nil, v, 10)
		default:
			rc.t.Fatalf("send: unsupported argument %T", a)
		}
		fmt.Fprintf(rc.w, "$%d\r\n", len(b))
		rc.w.Write(b)
		rc.w.WriteString("\r\n")
	}
}

// do sends one command and reads its reply.
func (rc *redisConn) do(args ...any) reply {
	rc.send(args...)
	return rc.recv()
}

// recv flushes what was sent and reads one reply.
func (rc *redisConn) recv() reply {
	rc.t.Helper()
	if err := rc.w.Flush(); err != nil {
		rc.t.Fatal(err)
	}
	rc.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	r, err := readReply(rc.r)
	if err != nil {
		rc.t.Fatal(err)
	}
	return r
}

// pipeline sends cmds at once and returns their replies.
func (rc *redisConn) pipeline(cmds [][]any) []reply {
	for _, c := range cmds {
		rc.send(c...)
	}
	out := make([]reply, len(cmds))
	for i := range cmds {
		out[i] = rc.recv()
	}
	return out
}

func readReply(r *bufio.Reader) (reply, error) {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return reply{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return reply{}, fmt.Errorf("bad reply line %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+', '-':
		return reply{kind: kind, str: append([]byte(nil), body...)}, nil
	case ':':
		n, err := strconv.ParseInt(string(body), 10, 64)
		return reply{kind: kind, num: n}, err
	case '$':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return reply{}, err
		}
		if n < 0 {
			return reply{kind: kind, null: true}, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return reply{}, err
		}
		return reply{kind: kind, str: b[:n]}, nil
	case '*':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return reply{}, err
		}
		if n < 0 {
			return reply{kind: kind, null: true}, nil
		}
		out := reply{kind: kind, arr: make([]reply, n)}
		for i := range out.arr {
			if out.arr[i], err = readReply(r); err != nil {
				return reply{}, err
			}
		}
		return out, nil
	}
	return reply{}, fmt.Errorf("unknown reply type in %q", line)
}
