package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clientField returns field of the CLIENT LIST line whose name is name.
func clientField(t *testing.T, c *redis.Client, name, field string) string {
	t.Helper()
	list, err := c.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?:^| )` + field + `=(\S*)`)
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " name="+name+" ") {
			if m := re.FindStringSubmatch(line); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no client named %q with %s in %q", name, field, list)
	return ""
}

// TestEventLoops runs concurrent clients, pipelines and transactions with
// no loop (a goroutine per client), one loop and three, and checks that
// each serves them all correctly.
func TestEventLoops(t *testing.T) {
	for _, loops := range []int{0, 1, 3} {
		t.Run("loops="+strconv.Itoa(loops), func(t *testing.T) {
			_, addr := startServer(t, "--event-loops", strconv.Itoa(loops))
			ctx := context.Background()
			const workers, rounds = 8, 200
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2 + w%2})
					defer c.Close()
					for i := range rounds {
						if err := c.Incr(ctx, "shared").Err(); err != nil {
							errs <- err
							return
						}
						key := fmt.Sprintf("w%d", w)
						cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, key, i, 0)
							p.Get(ctx, key)
							return nil
						})
						if err != nil {
							errs <- err
							return
						}
						if got := cmds[1].(*redis.StringCmd).Val(); got != strconv.Itoa(i) {
							errs <- fmt.Errorf("%s: GET in EXEC = %q, want %d", key, got, i)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			c := newClient(t, addr, 2)
			if n, err := c.Get(ctx, "shared").Int(); err != nil || n != workers*rounds {
				t.Fatalf("shared = %d, %v; want %d", n, err, workers*rounds)
			}
			// A pipeline of 10,000 commands in one write: replies in order.
			p := c.Pipeline()
			for i := range 10000 {
				p.Echo(ctx, strconv.Itoa(i))
			}
			cmds, err := p.Exec(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i, cmd := range cmds {
				if got := cmd.(*redis.StringCmd).Val(); got != strconv.Itoa(i) {
					t.Fatalf("ECHO %d answered %q", i, got)
				}
			}
			info, _ := c.Info(ctx, "server").Result()
			onLoop := loops > 0 && eventLoopsSupported
			if want := map[bool]string{true: "epoll", false: "go"}[onLoop]; !strings.Contains(info, "multiplexing_api:"+want+"\r\n") {
				t.Errorf("INFO server lacks multiplexing_api:%s", want)
			}
			c.Do(ctx, "CLIENT", "SETNAME", "me")
			if fd := clientField(t, c, "me", "fd"); (fd != "-1") != onLoop {
				t.Errorf("CLIENT LIST fd=%s with %d loops", fd, loops)
			}
		})
	}
}

// TestSlowReader checks the loop's backpressure: a client that pipelines
// reads of a large value and does not read the replies makes the server
// hold a bounded amount of them, does not hold up other clients, and gets
// every reply, in order, once it reads.
func TestSlowReader(t *testing.T) {
	if !eventLoopsSupported {
		t.Skip("no event loops on this platform")
	}
	_, addr := startServer(t)
	ctx := context.Background()
	other := newClient(t, addr, 2)
	value := strings.Repeat("v", 1<<20)
	if err := other.Set(ctx, "big", value, 0).Err(); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const gets = 64 // 64 MiB of replies
	var req strings.Builder
	req.WriteString("CLIENT SETNAME slow\r\n")
	for range gets {
		req.WriteString("GET big\r\n")
	}
	if _, err := conn.Write([]byte(req.String())); err != nil {
		t.Fatal(err)
	}
	// Wait for the socket to fill, then watch the server's side.
	deadline := time.Now().Add(5 * time.Second)
	omem := 0
	for omem == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		omem, _ = strconv.Atoi(clientField(t, other, "slow", "omem"))
	}
	if omem == 0 {
		t.Fatal("the slow reader never had replies waiting")
	}
	// The loop stops running a client's commands once loopOutLimit (256
	// KiB) waits for its socket: at most that and one more reply.
	const bound = 4 << 20
	for range 10 {
		if omem > bound {
			t.Fatalf("the server holds %d bytes for a client that does not read, more than %d", omem, bound)
		}
		start := time.Now()
		if err := other.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("PING from another client took %v behind the slow reader", d)
		}
		time.Sleep(20 * time.Millisecond)
		omem, _ = strconv.Atoi(clientField(t, other, "slow", "omem"))
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	if line, err := br.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("CLIENT SETNAME: %q, %v", line, err)
	}
	got := make([]byte, len(value)+2)
	for i := range gets {
		line, err := br.ReadString('\n')
		if err != nil || line != "$1048576\r\n" {
			t.Fatalf("reply %d: %q, %v", i, line, err)
		}
		if _, err := io.ReadFull(br, got); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if string(got[:len(value)]) != value || string(got[len(value):]) != "\r\n" {
			t.Fatalf("reply %d has the wrong bytes", i)
		}
	}
	if n, _ := strconv.Atoi(clientField(t, other, "slow", "omem")); n != 0 {
		t.Fatalf("omem=%d once every reply was read", n)
	}
}

// TestKillOtherClient checks that CLIENT KILL closes another client,
// wherever it is served, after the replies it was due.
func TestKillOtherClient(t *testing.T) {
	eachMode(t, func(t *testing.T, _ *Server, addr string) {
		victim := dialRaw(t, addr)
		victim.send("CLIENT SETNAME victim\r\nPING\r\n")
		if got := victim.line(); got != "+OK" {
			t.Fatalf("SETNAME: %q", got)
		}
		if got := victim.line(); got != "+PONG" {
			t.Fatalf("PING: %q", got)
		}
		killer := newClient(t, addr, 2)
		id := clientField(t, killer, "victim", "id")
		if n, err := killer.Do(context.Background(), "CLIENT", "KILL", "ID", id).Int(); err != nil || n != 1 {
			t.Fatalf("CLIENT KILL ID %s = %d, %v", id, n, err)
		}
		if !victim.closed() {
			t.Fatal("the killed client's connection stayed open")
		}
		if n := killer.ClientList(context.Background()).Val(); strings.Contains(n, "name=victim") {
			t.Fatalf("the killed client is still listed: %q", n)
		}
	})
}

// TestShutdownAnswersPipelined checks that a shutdown answers, whole and
// in order, the commands a client already sent, and then closes the
// connection.
func TestShutdownAnswersPipelined(t *testing.T) {
	eachMode(t, func(t *testing.T, srv *Server, addr string) {
		r := dialRaw(t, addr)
		var req strings.Builder
		for i := range 1000 {
			fmt.Fprintf(&req, "SET k%d %d\r\n", i, i)
		}
		r.send(req.String()) // 13 KiB: one read of the server's
		if got := r.line(); got != "+OK" {
			t.Fatalf("first reply %q", got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx, false); err != nil {
			t.Fatal(err)
		}
		// What the server had read it answers; a command it had not
		// read gets no reply, never a torn one.
		n := 1
		for ; ; n++ {
			l, err := r.br.ReadString('\n')
			if err != nil {
				if l != "" {
					t.Fatalf("torn reply %q after %d", l, n)
				}
				break
			}
			if l != "+OK\r\n" {
				t.Fatalf("reply %d: %q", n, l)
			}
		}
		if n < 1000 {
			t.Logf("%d of 1000 answered", n)
		}
	})
}

// eachMode runs fn against a server for each way of serving clients: a
// goroutine per client and one event loop.
func eachMode(t *testing.T, fn func(t *testing.T, srv *Server, addr string)) {
	for _, loops := range []string{"0", "1"} {
		t.Run("loops="+loops, func(t *testing.T) {
			srv, addr := startServer(t, "--event-loops", loops)
			fn(t, srv, addr)
		})
	}
}

// TestClientListDuringMulti lists clients while another queues a
// transaction, in both modes: CLIENT LIST reads only what the other
// client publishes for it (run under -race), and shows its MULTI.
func TestClientListDuringMulti(t *testing.T) {
	eachMode(t, func(t *testing.T, _ *Server, addr string) {
		tx := dialRaw(t, addr)
		tx.send("CLIENT SETNAME tx\r\nMULTI\r\n")
		if a, b := tx.line(), tx.line(); a != "+OK" || b != "+OK" {
			t.Fatalf("SETNAME, MULTI: %q %q", a, b)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 200 {
				tx.send("SET k v\r\n")
				if got := tx.line(); got != "+QUEUED" {
					t.Errorf("SET in MULTI: %q", got)
					return
				}
			}
		}()
		lister := newClient(t, addr, 2)
		for range 50 {
			clientField(t, lister, "tx", "multi")
		}
		<-done
		if got := clientField(t, lister, "tx", "multi"); got != "200" {
			t.Errorf("multi=%s with 200 commands queued", got)
		}
		if got := clientField(t, lister, "tx", "flags"); got != "x" {
			t.Errorf("flags=%s inside MULTI", got)
		}
		tx.send("DISCARD\r\n")
		if got := tx.line(); got != "+OK" {
			t.Fatalf("DISCARD: %q", got)
		}
		if got := clientField(t, lister, "tx", "multi"); got != "-1" {
			t.Errorf("multi=%s after DISCARD", got)
		}
	})
}
