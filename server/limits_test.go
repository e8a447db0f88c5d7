package server

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// rawConn is a bare TCP connection for checking exact reply bytes.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := r.c.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// line reads one reply line (without its CRLF).
func (r *rawConn) line() string {
	r.t.Helper()
	l, err := r.br.ReadString('\n')
	if err != nil {
		r.t.Fatalf("reading a reply: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// closed reports whether the server closed the connection.
func (r *rawConn) closed() bool {
	r.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := r.br.ReadByte()
	return err != nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestProtocolErrorClosesConnection(t *testing.T) {
	_, addr := startServer(t)
	cases := []struct{ in, want string }{
		{"*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'"},
		{"*abc\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length"},
		{"SET \"k v\r\n", "-ERR Protocol error: unbalanced quotes in request"},
	}
	for _, c := range cases {
		r := dialRaw(t, addr)
		r.send(c.in)
		if got := r.line(); got != c.want {
			t.Errorf("%q: reply %q, want %q", c.in, got, c.want)
		}
		if !r.closed() {
			t.Errorf("%q: connection left open after a protocol error", c.in)
		}
	}
}

func TestCommandErrorsKeepConnection(t *testing.T) {
	_, addr := startServer(t)
	r := dialRaw(t, addr)
	r.send("LPUSH k v\r\nGET\r\nCONFIG FOO\r\nPING\r\n")
	for _, want := range []string{
		"-ERR unknown command 'LPUSH', with args beginning with: 'k' 'v' ",
		"-ERR wrong number of arguments for 'get' command",
		"-ERR unknown subcommand 'FOO'. Try CONFIG HELP.",
		"+PONG",
	} {
		if got := r.line(); got != want {
			t.Errorf("reply %q, want %q", got, want)
		}
	}
}

func TestRequirePass(t *testing.T) {
	_, addr := startServer(t, "--requirepass", "s3cret")
	r := dialRaw(t, addr)
	r.send("GET k\r\nAUTH wrong\r\nAUTH s3cret\r\nGET k\r\n")
	for _, want := range []string{
		"-NOAUTH Authentication required.",
		"-WRONGPASS invalid username-password pair or user is disabled.",
		"+OK",
		"$-1",
	} {
		if got := r.line(); got != want {
			t.Errorf("reply %q, want %q", got, want)
		}
	}
	// An unauthenticated client is held to small requests.
	r2 := dialRaw(t, addr)
	r2.send("*20\r\n")
	if got := r2.line(); got != "-ERR Protocol error: unauthenticated multibulk length" {
		t.Errorf("big unauthenticated request: %q", got)
	}
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, Password: "s3cret"})
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("go-redis with the password: %v", err)
	}
	bad := redis.NewClient(&redis.Options{Addr: addr, Password: "nope", MaxRetries: -1})
	defer bad.Close()
	if err := bad.Get(ctx, "k").Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("go-redis with a wrong password: %v", err)
	}
}

func TestMaxClients(t *testing.T) {
	_, addr := startServer(t, "--maxclients", "2")
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	a.send("PING\r\n")
	b.send("PING\r\n")
	a.line()
	b.line()
	c := dialRaw(t, addr)
	if got := c.line(); got != "-ERR max number of clients reached" {
		t.Fatalf("third client: %q", got)
	}
	a.c.Close()
	time.Sleep(100 * time.Millisecond)
	d := dialRaw(t, addr)
	d.send("PING\r\n")
	if got := d.line(); got != "+PONG" {
		t.Fatalf("after a client left: %q", got)
	}
}

func TestIdleTimeout(t *testing.T) {
	_, addr := startServer(t, "--timeout", "1")
	r := dialRaw(t, addr)
	r.send("PING\r\n")
	r.line()
	start := time.Now()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.br.ReadByte(); err == nil || isTimeout(err) {
		t.Fatalf("idle client not closed: %v", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("closed after %v, before the 1 s timeout", d)
	}
}

// TestManyIdleClients checks that thousands of idle connections do not
// stop a new client from being served.
func TestManyIdleClients(t *testing.T) {
	_, addr := startServer(t)
	var conns []net.Conn
	for range 2000 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Half of them send half a command and stall.
	for _, c := range conns[:1000] {
		c.Write([]byte("*2\r\n$3\r\nGET\r\n$10\r\nab"))
	}
	r := dialRaw(t, addr)
	start := time.Now()
	r.send("PING\r\n")
	if got := r.line(); got != "+PONG" {
		t.Fatalf("reply %q", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a new client waited %v behind idle ones", d)
	}
}

func TestNoEvictionOOM(t *testing.T) {
	_, addr := startServer(t, "--maxmemory", "1mb", "--maxmemory-policy", "noeviction")
	ctx := context.Background()
	c := newClient(t, addr, 2)
	val := strings.Repeat("x", 10<<10)
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		err = c.Set(ctx, "k"+strings.Repeat("0", i%3)+string(rune('a'+i%26))+time.Now().String(), val, 0).Err()
	}
	if err == nil || err.Error() != "OOM command not allowed when used memory > 'maxmemory'." {
		t.Fatalf("writes past maxmemory under noeviction: %v", err)
	}
	if err := c.Get(ctx, "nothing").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("reads must still work: %v", err)
	}
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", val, 0).Err(); err != nil {
		t.Fatalf("after FLUSHALL: %v", err)
	}
}

// TestMaxMemoryEvicts checks that under allkeys-lru the budget holds and a
// value of 2 MB fits a 100mb budget whatever the shard count (the budget
// is the cache's, not split per shard).
func TestMaxMemoryEvicts(t *testing.T) {
	srv, addr := startServer(t, "--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru", "--shards", "256")
	ctx := context.Background()
	c := newClient(t, addr, 2)
	big := strings.Repeat("b", 2<<20)
	if err := c.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatalf("2 MB value in a 4 MB budget with 256 shards: %v", err)
	}
	val := strings.Repeat("v", 1000)
	for i := range 20000 {
		if err := c.Set(ctx, "k"+itoa(i), val, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if used := srv.usedMemory(); used > 4<<20 {
		t.Fatalf("used_memory %d over maxmemory %d", used, 4<<20)
	}
	if srv.cache.Stats().Evictions == 0 {
		t.Fatal("no evictions")
	}
	if err := c.Set(ctx, "huge", strings.Repeat("h", 5<<20), 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("a value bigger than maxmemory: %v, want OOM", err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "8mb").Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.ConfigGet(ctx, "maxmemory").Val()["maxmemory"]; got != "8388608" {
		t.Fatalf("CONFIG GET maxmemory = %q", got)
	}
}

// TestPolicySwitchAtRuntime: a server full under noeviction answers -OOM;
// CONFIG SET maxmemory-policy allkeys-lru evicts it down to maxmemory at
// once and writes succeed again, keeping the keys used since the switch;
// back under noeviction nothing more is evicted.
func TestPolicySwitchAtRuntime(t *testing.T) {
	// Four shards of about a hundred keys each: enough per shard for its
	// LRU order to show (with a handful per shard, taking room from
	// another shard evicts whatever that shard holds).
	srv, addr := startServer(t, "--maxmemory", "1mb", "--maxmemory-policy", "noeviction", "--shards", "4")
	ctx := context.Background()
	c := newClient(t, addr, 2)
	val := strings.Repeat("x", 1000)
	var err error
	n := 0
	for ; n < 5000 && err == nil; n++ {
		err = c.Set(ctx, "k"+itoa(n), val, 0).Err()
	}
	if err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("noeviction past maxmemory: %v", err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "512kb").Err(); err != nil {
		t.Fatal(err)
	}
	held := srv.cache.Len()
	if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	if used := srv.usedMemory(); used > 512<<10 {
		t.Fatalf("used_memory %d after switching to allkeys-lru, over maxmemory 512kb", used)
	}
	if srv.cache.Len() >= held || srv.cache.Stats().Evictions == 0 {
		t.Fatalf("switching to allkeys-lru evicted nothing: %d keys, were %d", srv.cache.Len(), held)
	}
	hot := "hot"
	if err := c.Set(ctx, hot, val, 0).Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if err := c.Set(ctx, "new"+itoa(i), val, 0).Err(); err != nil {
			t.Fatalf("write %d after the switch: %v", i, err)
		}
		c.Get(ctx, hot)
	}
	if n, err := c.Exists(ctx, hot).Result(); err != nil || n != 1 {
		t.Fatalf("a key read throughout 2 MB of writes through a 512 KB budget was evicted: %d, %v", n, err)
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	evictions := srv.cache.Stats().Evictions
	keys := srv.cache.Len()
	err = nil
	added := 0
	for ; added < 5000 && err == nil; added++ {
		err = c.Set(ctx, "more"+itoa(added), val, 0).Err()
	}
	if err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("noeviction again, past maxmemory: %v", err)
	}
	if srv.cache.Stats().Evictions != evictions || srv.cache.Len() != keys+added-1 {
		t.Fatalf("noeviction evicted: %d keys, want %d + %d", srv.cache.Len(), keys, added-1)
	}
	if got := c.ConfigGet(ctx, "maxmemory-policy").Val()["maxmemory-policy"]; got != "noeviction" {
		t.Fatalf("CONFIG GET maxmemory-policy = %q", got)
	}
}
