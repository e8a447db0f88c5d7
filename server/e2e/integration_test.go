package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache/server/internal/servertest"
)

// redisCLI runs redis-cli against srv with args, feeding it stdin, and
// returns its output. It skips when redis-cli is missing (fails under CI).
func redisCLI(t *testing.T, srv *servertest.Server, stdin string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-cli not on PATH (install redis-tools)")
		}
		t.Skip("SKIP: redis-cli not on PATH (install redis-tools); these tests did not run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(srv.Port())}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestRedisCLI(t *testing.T) {
	srv := servertest.StartShardcached(t)
	if out := redisCLI(t, srv, "", "set", "greeting", "hello world"); out != "OK\n" {
		t.Fatalf("set: %q", out)
	}
	if out := redisCLI(t, srv, "", "get", "greeting"); out != "hello world\n" {
		t.Fatalf("get: %q", out)
	}
	if out := redisCLI(t, srv, "", "-3", "hello", "3"); !strings.Contains(out, "proto 3\n") {
		t.Fatalf("-3 hello 3: %q", out)
	}
	// --pipe: the mass-insertion protocol, with its ECHO handshake.
	var b strings.Builder
	const n = 20000
	for i := range n {
		fmt.Fprintf(&b, "*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\nvalue-%d\r\n", len("key:"+strconv.Itoa(i)), i, len("value-"+strconv.Itoa(i)), i)
	}
	out := redisCLI(t, srv, b.String(), "--pipe")
	if !strings.Contains(out, "errors: 0, replies: "+strconv.Itoa(n)) {
		t.Fatalf("--pipe: %q", out)
	}
	if out := redisCLI(t, srv, "", "dbsize"); out != strconv.Itoa(n+1)+"\n" {
		t.Fatalf("dbsize after --pipe: %q", out)
	}
	keys := strings.Fields(redisCLI(t, srv, "", "--scan", "--pattern", "key:1*"))
	want := 0
	for i := range n {
		if strings.HasPrefix(strconv.Itoa(i), "1") {
			want++
		}
	}
	if len(keys) < want {
		t.Fatalf("--scan --pattern key:1* found %d keys, want %d", len(keys), want)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	if len(seen) != want {
		t.Fatalf("--scan found %d distinct keys, want %d", len(seen), want)
	}
	redisCLI(t, srv, "", "set", "big", strings.Repeat("x", 5000))
	if out := redisCLI(t, srv, "", "--bigkeys"); !strings.Contains(out, `Biggest string found '"big"' has 5000 bytes`) || !strings.Contains(out, "Sampled 20002 keys") {
		t.Fatalf("--bigkeys: %q", out)
	}
}

// TestGoRedis drives the binary with go-redis over RESP2 and RESP3:
// pipelines, TxPipelined and WATCH.
func TestGoRedis(t *testing.T) {
	srv := servertest.StartShardcached(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprint("resp=", proto), func(t *testing.T) {
			c := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: proto})
			defer c.Close()
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := range 1000 {
					p.Set(ctx, fmt.Sprint("p", i), i, time.Hour)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			vals, err := c.MGet(ctx, "p0", "p999", "nope").Result()
			if err != nil || vals[0] != "0" || vals[1] != "999" || vals[2] != nil {
				t.Fatalf("MGET = %v, %v", vals, err)
			}
			incr := func(key string) error {
				return c.Watch(ctx, func(tx *redis.Tx) error {
					n, err := tx.Get(ctx, key).Int()
					if err != nil && !errors.Is(err, redis.Nil) {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, key, n+1, 0)
						return nil
					})
					return err
				}, key)
			}
			var wg sync.WaitGroup
			var failed, done sync.Map
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 50; {
						err := incr("counter")
						if errors.Is(err, redis.TxFailedErr) {
							continue // someone else won: retry, as optimistic locking does
						}
						if err != nil {
							failed.Store(w, err)
							return
						}
						i++
					}
					done.Store(w, true)
				}()
			}
			wg.Wait()
			failed.Range(func(k, v any) bool { t.Fatalf("worker %v: %v", k, v); return false })
			if n, _ := c.Get(ctx, "counter").Int(); n != 200 {
				t.Fatalf("counter = %d after 200 WATCHed increments", n)
			}
			info, err := c.Info(ctx, "keyspace", "stats").Result()
			if err != nil || !strings.Contains(info, "db0:keys=1001,expires=1000") {
				t.Fatalf("INFO keyspace: %v %q", err, info)
			}
		})
	}
}

// TestGracefulShutdown writes through pipelined clients, sends SIGTERM
// mid-stream, and checks after a restart on the same dir that every write
// the server acknowledged is there.
// TestSIGTERMWhileLoading: a SIGTERM that arrives while the keyspace
// still loads (a supervisor stopping a unit it has just started) is caught
// and ends in a graceful shutdown with exit status 0, not in the signal's
// default of killing the process, and the snapshot survives it.
func TestSIGTERMWhileLoading(t *testing.T) {
	const keys = 1_000_000
	dir := t.TempDir()
	src := servertest.StartShardcached(t, "--dir", dir, "--save", "")
	ctx := context.Background()
	c := goRedis(t, src)
	val := strings.Repeat("v", 64)
	for i := 0; i < keys; i += 10000 {
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := i; j < i+10000; j++ {
				p.Set(ctx, "key:"+strconv.Itoa(j), val, 0)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := src.Stop(); err != nil {
		t.Fatal(err)
	}

	port, admin := servertest.FreePort(t), servertest.FreePort(t)
	cmd := exec.Command(servertest.BuildShardcached(t), "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--admin-port", strconv.Itoa(admin), "--dir", dir, "--save", "")
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	// /readyz answers 503 while the snapshot loads: signal then.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(admin) + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				break
			}
			t.Fatalf("/readyz answered %d before a signal could be sent while loading: the snapshot of %d keys loaded too fast for this test", resp.StatusCode, keys)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the admin server never answered: %v\n%s", err, logs.String())
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM while loading: %v, want exit status 0\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "received signal; shutting down") {
		t.Fatalf("the shutdown was not the graceful one:\n%s", logs.String())
	}
	again := servertest.StartShardcached(t, "--dir", dir, "--save", "")
	if n, err := goRedis(t, again).DBSize(ctx).Result(); err != nil || n != keys {
		t.Fatalf("DBSIZE after the interrupted start = %d, %v; want %d", n, err, keys)
	}
}

// TestGracefulShutdown writes through pipelined clients, sends SIGTERM
// mid-stream, and checks after a restart on the same dir that every write
// the server acknowledged is there.
// TestSIGTERMAtStart: a SIGTERM sent the moment the server first answers
// (a supervisor stopping a unit it just started) is a graceful shutdown,
// exit status 0, not the signal's default of killing the process.
// The remote APIs start after RESP serves, which widens the window a
// late signal handler would leave.
func TestSIGTERMAtStart(t *testing.T) {
	for i := range 20 {
		srv := servertest.StartShardcachedRemote(t)
		if err := srv.Stop(); err != nil {
			t.Fatalf("start %d: SIGTERM right after the first PING: %v", i, err)
		}
	}
}

func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	srv := servertest.StartShardcached(t, "--dir", dir)
	ctx := context.Background()
	type ack struct{ key, val string }
	var mu sync.Mutex
	var acked []ack
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
			defer c.Close()
			for batch := 0; ; batch++ {
				p := c.Pipeline()
				var keys []ack
				for i := range 50 {
					k := fmt.Sprintf("w%d:b%d:%d", w, batch, i)
					v := strconv.Itoa(batch*50 + i)
					p.Set(ctx, k, v, 0)
					keys = append(keys, ack{k, v})
				}
				cmds, _ := p.Exec(ctx)
				mu.Lock()
				for i, cmd := range cmds {
					if cmd.Err() == nil {
						acked = append(acked, keys[i])
					}
				}
				mu.Unlock()
				if len(cmds) == 0 || cmds[len(cmds)-1].Err() != nil {
					return // the server is gone
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := srv.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, srv.Log())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before SIGTERM")
	}
	if !strings.Contains(srv.Log(), "final snapshot saved") {
		t.Fatalf("no final snapshot in the log:\n%s", srv.Log())
	}
	again := servertest.StartShardcached(t, "--dir", dir)
	c := redis.NewClient(&redis.Options{Addr: again.Addr()})
	defer c.Close()
	missing := 0
	for _, a := range acked {
		if v, err := c.Get(ctx, a.key).Result(); err != nil || v != a.val {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes missing after restart", missing, len(acked))
	}
	t.Logf("%d acknowledged writes, all present after SIGTERM and restart", len(acked))
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "shardcached test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSAndAuth(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	tlsPort := servertest.FreePort(t)
	srv := servertest.StartShardcached(t, "--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--requirepass", "pw")
	ctx := context.Background()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
	c := redis.NewClient(&redis.Options{Addr: addr, Password: "pw", TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}})
	defer c.Close()
	if err := c.Set(ctx, "secure", "yes", 0).Err(); err != nil {
		t.Fatalf("SET over TLS: %v", err)
	}
	noPass := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}, MaxRetries: -1})
	defer noPass.Close()
	if err := noPass.Get(ctx, "secure").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("GET over TLS without AUTH: %v", err)
	}
	plain := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "pw"})
	defer plain.Close()
	if v, err := plain.Get(ctx, "secure").Result(); err != nil || v != "yes" {
		t.Fatalf("GET over plain TCP: %q, %v", v, err)
	}
	untrusted := redis.NewClient(&redis.Options{Addr: addr, Password: "pw", TLSConfig: &tls.Config{ServerName: "127.0.0.1"}, MaxRetries: -1})
	defer untrusted.Close()
	if err := untrusted.Ping(ctx).Err(); err == nil {
		t.Fatal("a client that does not trust the certificate connected")
	}
}

func TestAdminHTTP(t *testing.T) {
	port := servertest.FreePort(t)
	srv := servertest.StartShardcached(t, "--admin-port", strconv.Itoa(port))
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	c.Set(ctx, "k", "v", 0)
	c.Get(ctx, "k")
	c.Get(ctx, "missing")
	get := func(path string) (int, string) {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz: %d", code)
	}
	code, body := get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`shardcached_command_duration_seconds_bucket{command="get",protocol="resp",le="+Inf"} 2`,
		`shardcached_command_duration_seconds_count{command="set",protocol="resp"} 1`,
		`shardcached_keyspace_hits_total 1`,
		`shardcached_keyspace_misses_total 1`,
		`shardcached_keys 1`,
		`shardcached_connected_clients 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, _ := get("/debug/pprof/"); code != 200 {
		t.Fatalf("/debug/pprof/: %d", code)
	}
}

// TestBadConfigStops checks that a bad directive stops the server at start
// with a message naming it.
func TestBadConfigStops(t *testing.T) {
	bin := servertest.BuildShardcached(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--maxmemory-policy", "volatile-lru"}, "maxmemory-policy"},
		{[]string{"--no-such-directive", "1"}, "no-such-directive"},
		{[]string{"--maxmemory", "lots"}, "maxmemory"},
	} {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("%v: exit %v, want status 1", tc.args, err)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: message %q does not name %q", tc.args, out, tc.want)
		}
	}
}
