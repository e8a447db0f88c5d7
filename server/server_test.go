package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache/server/config"
)

// startServer runs a Server on a free loopback port with the given
// directives (flag form: "--maxmemory", "1mb", ...) and returns its address.
func startServer(t *testing.T, args ...string) (*Server, string) {
	t.Helper()
	cfg, err := config.Load(append([]string{"--port", "0", "--admin-port", "0"}, args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx, false); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, ln.Addr().String()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func newClient(t *testing.T, addr string, proto int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto, DisableIdentity: proto == 2})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStringsRoundTrip(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run("resp="+strconv.Itoa(proto), func(t *testing.T) {
			c := newClient(t, addr, proto)
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
				t.Fatalf("GET = %q, %v", v, err)
			}
			if _, err := c.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET missing: %v, want redis.Nil", err)
			}
			if n, err := c.Incr(ctx, "n").Result(); err != nil || n != 1 {
				t.Fatalf("INCR = %d, %v", n, err)
			}
			if err := c.Set(ctx, "t", "x", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if d, err := c.TTL(ctx, "t").Result(); err != nil || d <= 59*time.Second || d > time.Minute {
				t.Fatalf("TTL = %v, %v", d, err)
			}
			if n, err := c.Append(ctx, "t", "yz").Result(); err != nil || n != 3 {
				t.Fatalf("APPEND = %d, %v", n, err)
			}
			if d, _ := c.TTL(ctx, "t").Result(); d <= 0 {
				t.Fatalf("APPEND dropped the TTL: %v", d)
			}
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPipelineAndTx(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	c := newClient(t, addr, 3)
	cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 100 {
			p.Set(ctx, fmt.Sprint("k", i), i, 0)
		}
		for i := range 100 {
			p.Get(ctx, fmt.Sprint("k", i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds[100:] {
		if v := cmd.(*redis.StringCmd).Val(); v != strconv.Itoa(i) {
			t.Fatalf("GET k%d = %q", i, v)
		}
	}
	res, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "a")
		p.IncrBy(ctx, "a", 10)
		p.Get(ctx, "a")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := res[2].(*redis.StringCmd).Val(); v != "11" {
		t.Fatalf("GET a in EXEC = %q, want 11", v)
	}
}

// TestWatchAbortsOnConcurrentWrite checks optimistic locking: a WATCHed key
// written by another client makes EXEC fail, and go-redis reports
// TxFailedErr.
func TestWatchAbortsOnConcurrentWrite(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	c1, c2 := newClient(t, addr, 2), newClient(t, addr, 2)
	c1.Set(ctx, "w", "0", 0)
	err := c1.Watch(ctx, func(tx *redis.Tx) error {
		if err := c2.Set(ctx, "w", "other", 0).Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "w", "mine", 0)
			return nil
		})
		return err
	}, "w")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("EXEC after a concurrent write: %v, want TxFailedErr", err)
	}
	if v := c1.Get(ctx, "w").Val(); v != "other" {
		t.Fatalf("w = %q, want the other client's write", v)
	}
}

// TestTransfersStayAtomic moves units between keys in different shards
// with MULTI/EXEC, and RENAMEs scratch keys between shards, from many
// clients, while another client checks inside EXEC that the total never
// changes.
func TestTransfersStayAtomic(t *testing.T) {
	_, addr := startServer(t, "--shards", "16")
	ctx := context.Background()
	const accounts, workers, rounds, start = 8, 8, 150, 100
	admin := newClient(t, addr, 2)
	for i := range accounts {
		admin.Set(ctx, fmt.Sprint("acct", i), start, 0)
	}
	errc := make(chan error, workers+1)
	var writers sync.WaitGroup
	for w := range workers {
		writers.Add(1)
		go func() {
			defer writers.Done()
			c := newClient(t, addr, 2)
			tmp := fmt.Sprint("tmp", w)
			for r := range rounds {
				from, to := fmt.Sprint("acct", (w+r)%accounts), fmt.Sprint("acct", (w+3*r+1)%accounts)
				if from != to {
					_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.DecrBy(ctx, from, 3)
						p.IncrBy(ctx, to, 3)
						return nil
					})
					if err != nil {
						errc <- err
						return
					}
				}
				c.Set(ctx, tmp, r, 0)
				if err := c.Rename(ctx, tmp, tmp+"-moved").Err(); err != nil {
					errc <- fmt.Errorf("RENAME: %w", err)
					return
				}
				if v, err := c.Get(ctx, tmp+"-moved").Int(); err != nil || v != r {
					errc <- fmt.Errorf("after RENAME: %d, %v; want %d", v, err, r)
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Add(1)
	checks := 0
	go func() {
		defer reader.Done()
		c := newClient(t, addr, 2)
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for i := range accounts {
					p.Get(ctx, fmt.Sprint("acct", i))
				}
				return nil
			})
			if err != nil {
				errc <- err
				return
			}
			sum := 0
			for _, r := range res {
				n, _ := strconv.Atoi(r.(*redis.StringCmd).Val())
				sum += n
			}
			if sum != accounts*start {
				errc <- fmt.Errorf("sum inside EXEC = %d, want %d", sum, accounts*start)
				return
			}
			checks++
		}
	}()
	writers.Wait()
	close(stop)
	reader.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if checks == 0 {
		t.Fatal("the reader never completed a check")
	}
}

// TestIncrOwnsNewKeys: INCR looks a counter up by its argument, uncopied,
// and copies the key only when it stores a new one. The argument lives in
// the connection's read buffer, which the next batch overwrites: a stored
// key that aliased it would change with the traffic that follows.
func TestIncrOwnsNewKeys(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	c := newClient(t, addr, 2)
	c.Options().PoolSize = 1
	for round := range 3 {
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range 50 {
				p.Incr(ctx, fmt.Sprintf("ctr:%03d", i)) // new keys in round 0
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// The same layout of bytes with other keys, over the same buffer.
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range 50 {
				p.Incr(ctx, fmt.Sprintf("xyz:%03d", i))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, prefix := range []string{"ctr:", "xyz:"} {
			keys, err := c.Keys(ctx, prefix+"*").Result()
			if err != nil || len(keys) != 50 {
				t.Fatalf("round %d: KEYS %s* = %d keys, %v; want 50", round, prefix, len(keys), err)
			}
			for i := range 50 {
				k := fmt.Sprintf("%s%03d", prefix, i)
				if n, err := c.Get(ctx, k).Int(); err != nil || n != round+1 {
					t.Fatalf("round %d: GET %s = %d, %v; want %d", round, k, n, err, round+1)
				}
			}
		}
	}
}
