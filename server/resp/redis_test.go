package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startRedis starts a redis-server on a free loopback port for the test,
// with extra arguments, and returns its address. It stops the server when
// the test ends. Without redis-server on PATH the test is skipped, or fails
// when CI=true.
func startRedis(t *testing.T, extra ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is not on PATH, and CI=true: the differential tests must run")
		}
		t.Skip("SKIPPING: redis-server is not on PATH; the differential tests against real Redis did not run")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", t.TempDir(), "--loglevel", "warning"}, extra...)
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exchange sends parts to the server at addr, pausing between them so that
// the server reads each on its own, and returns every byte it replies until
// it closes the connection (closed true) or stays quiet for a while.
func exchange(t *testing.T, addr string, parts ...string) (reply string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, p := range parts {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := c.Write([]byte(p)); err != nil {
			break // the server closed on an error in an earlier part
		}
	}
	var got []byte
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout():
			return string(got), false
		default: // EOF or a reset: closed
			return string(got), true
		}
	}
}

// redisLimits are Redis 7.0.15's own limits: it accepts multibulk counts up to
// 2^31-1, where DefaultLimits stops at 1024*1024.
var redisLimits = Limits{MaxMultibulkLen: math.MaxInt32}

// predict is what redis-server replies, by our Reader, to a request whose
// commands are all PING or ECHO: a reply per command, then the protocol
// error, after which the connection is closed.
func predict(t *testing.T, in string, auth bool) (reply string, closed bool) {
	t.Helper()
	got, err := readAll(t, strings.NewReader(in), redisLimits, auth)
	var b strings.Builder
	for _, cmd := range got {
		switch {
		case !auth:
			b.WriteString("-NOAUTH Authentication required.\r\n")
		case strings.EqualFold(cmd[0], "PING") && len(cmd) == 1:
			b.WriteString("+PONG\r\n")
		case strings.EqualFold(cmd[0], "ECHO") && len(cmd) == 2:
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(cmd[1]), cmd[1])
		case strings.EqualFold(cmd[0], "ECHO"):
			b.WriteString("-ERR wrong number of arguments for 'echo' command\r\n")
		default:
			t.Fatalf("predict: cannot tell Redis's reply to %q", cmd)
		}
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		b.WriteString("-ERR " + pe.Msg + "\r\n")
		return b.String(), true
	}
	return b.String(), false
}

type diffCase struct {
	name  string
	parts []string // sent with a pause between
	auth  bool
}

func diffCases() []diffCase {
	one := func(name, in string) diffCase { return diffCase{name, []string{in}, true} }
	cases := []diffCase{
		one("too-big-inline", strings.Repeat("a", 64<<10+1)),
		one("inline-at-limit-pending", strings.Repeat("a", 64<<10)),
		{"inline-line-past-limit", []string{strings.Repeat("a", 64<<10+1), "\r\n"}, true},
		one("inline-line-at-limit", "ECHO "+strings.Repeat("a", 64<<10-5)+"\n"),
		one("too-big-mbulk-count", "*"+strings.Repeat("1", 64<<10)),
		{"mbulk-count-line-past-limit", []string{"*" + strings.Repeat("1", 64<<10), "1\r\n"}, true},
		one("mbulk-count-line-at-limit", "*"+strings.Repeat("1", 64<<10-1)+"\r\n"),
		one("too-big-bulk-count", "*1\r\n$"+strings.Repeat("1", 64<<10)),
		{"bulk-count-line-past-limit", []string{"*1\r\n$" + strings.Repeat("1", 64<<10), "1\r\n"}, true},
		one("bulk-count-line-at-limit", "*1\r\n$"+strings.Repeat("1", 64<<10-1)+"\r\n"),
		one("nul-hides-inline-end-then-too-big", "PING\x00\r\n"+strings.Repeat("a", 64<<10)),
		one("nul-hides-count-end-then-too-big", "*1\x00\r\n"+strings.Repeat("a", 64<<10)),
		one("nul-hides-bulk-line-end-then-too-big", "*1\r\n\x00\r\n"+strings.Repeat("a", 64<<10)),
		one("count-int32-max-pending", "*2147483647\r\n"),
		one("count-redis6-limit-pending", "*1048577\r\n"),
		one("bulk-at-limit-pending", "*1\r\n$536870912\r\n"),
		one("bulk-past-limit", "*1\r\n$536870913\r\n"),
		one("pipeline-then-error", "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPINGxx*1\rx$4\r\nPING\r\n*0\r\n*-3\r\n\r\n\n*1\r\n$x\r\n"),
		one("inline-quoting", "ECHO \"\\x41\\xzz\\n\\q\\\\\\\"\"\r\nECHO 'a\\'b\\n'\nECHO a\"b c\"\nECHO \"a\"\vb\nECHO a\vb\nECHO \xa0\n"),
	}
	for _, tt := range readTests {
		if tt.err == nil || errors.Is(tt.err, io.ErrUnexpectedEOF) {
			continue
		}
		cases = append(cases, one(tt.name, tt.in))
	}
	for _, in := range []string{
		"*10\r\n", "*11\r\n", "*2147483648\r\n", "*-5\r\n*11\r\n",
		"*1\r\n$16384\r\n", "*1\r\n$16385\r\n", "*1\r\n$536870913\r\n", "*1\r\n$-1\r\n",
	} {
		cases = append(cases, diffCase{"unauth/" + strings.TrimSpace(in), []string{in}, false})
	}
	return cases
}

// TestRedisDifferential sends malformed and odd requests to a real
// redis-server and checks that it replies what our Reader predicts: the same
// commands, then the same protocol error text, at the same point.
func TestRedisDifferential(t *testing.T) {
	addr := startRedis(t)
	authAddr := startRedis(t, "--requirepass", "secret")
	for _, tt := range diffCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := addr
			if !tt.auth {
				a = authAddr
			}
			want, wantClosed := predict(t, strings.Join(tt.parts, ""), tt.auth)
			got, closed := exchange(t, a, tt.parts...)
			if got != want || closed != wantClosed {
				t.Errorf("redis-server replied %.200q (closed %v)\n           we predict %.200q (closed %v)", got, closed, want, wantClosed)
			}
		})
	}
}

// TestRedisInlineQuoting checks random inline lines, heavy in quotes,
// escapes and blanks, against redis-server's own splitting, through ECHO.
func TestRedisInlineQuoting(t *testing.T) {
	addr := startRedis(t)
	rng := rand.New(rand.NewPCG(7, 7))
	alphabet := []string{"a", "b", " ", " ", "\t", "\v", "\f", "\r", "\"", "\"", "'", "'", "\\", "\\", "x", "4", "f", "n", "\\x4", "\\\"", "\\'", "\xff"}
	var lines []string
	for range 300 {
		var b strings.Builder
		b.WriteString("ECHO ")
		for range rng.IntN(12) + 1 {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		lines = append(lines, b.String()+[]string{"\n", "\r\n"}[rng.IntN(2)])
	}
	for i, line := range lines {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			// A PING after the line shows the line was all of the request.
			want, wantClosed := predict(t, line+"PING\r\n", true)
			got, closed := exchange(t, addr, line+"PING\r\n")
			if got != want || closed != wantClosed {
				t.Errorf("line %q:\nredis-server replied %q (closed %v)\n  we predict %q (closed %v)", line, got, closed, want, wantClosed)
			}
		})
	}
}

// TestRedisDouble checks Double against redis-server's ZSCORE replies, which
// addReplyDouble writes, in both protocols.
func TestRedisDouble(t *testing.T) {
	addr := startRedis(t)
	scores := []string{"0.1", "1e20", "inf", "-inf", "1.5", "123456789012345678", "1e-5", "3", "1e16", "1e17",
		"0.000123", "5e-324", "1.7976931348623157e308", "-2.5", "0", "3.141592653589793", "1e-300", "9007199254740993"}
	for _, proto := range []int{2, 3} {
		var req, want strings.Builder
		var wb bytes.Buffer
		w := NewWriter(&wb)
		fmt.Fprintf(&req, "HELLO %d\r\n", proto)
		for i, s := range scores {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				f = map[string]float64{"inf": math.Inf(1), "-inf": math.Inf(-1)}[s]
			}
			fmt.Fprintf(&req, "ZADD z%d.%d %s m\r\nZSCORE z%d.%d m\r\n", proto, i, s, proto, i)
			w.SetProtocol(proto)
			w.Int(1) // ZADD's reply
			w.Double(f)
		}
		w.Flush()
		want.Write(wb.Bytes())
		got, _ := exchange(t, addr, req.String())
		// Drop HELLO's reply: everything before the first ZADD reply.
		if i := strings.Index(got, ":1\r\n"); i >= 0 {
			got = got[i:]
		}
		if got != want.String() {
			t.Errorf("RESP%d:\nredis-server %q\n    we wrote %q", proto, got, want.String())
		}
	}
}
