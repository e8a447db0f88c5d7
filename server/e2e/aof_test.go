package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache/server/internal/servertest"
)

// acked is a write the server acknowledged: the key's value and deadline
// (unix ms, 0 for none) it must have after a crash, and when the reply
// came.
type acked struct {
	val  string
	pxat int64
	at   time.Time
}

func goRedis(t *testing.T, srv *servertest.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 4, MaxRetries: -1, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// crashWrites runs pipelined writers (16 commands per round trip) against
// srv until it is killed after d, and returns every acknowledged write by
// key and when the kill happened.
func crashWrites(t *testing.T, srv *servertest.Server, d time.Duration, during func()) (map[string]acked, time.Time) {
	ctx := context.Background()
	var mu sync.Mutex
	all := map[string]acked{}
	var wg sync.WaitGroup
	base := time.Now().Add(time.Hour).UnixMilli()
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 1, MaxRetries: -1, DisableIdentity: true})
			defer c.Close()
			for round := 0; ; round++ {
				pipe := c.Pipeline()
				batch := map[string]acked{}
				for i := range 16 {
					k := fmt.Sprintf("w%d:%d", g, (round*16+i)%5000) // keys are overwritten: the last ack wins
					v := fmt.Sprintf("v%d.%d", round, i)
					var px int64
					if i%2 == 0 {
						px = base + int64(round*16+i)
						pipe.Do(ctx, "SET", k, v, "PXAT", px)
					} else {
						pipe.Set(ctx, k, v, 0)
					}
					batch[k] = acked{val: v, pxat: px}
				}
				pipe.Incr(ctx, fmt.Sprintf("ctr%d", g))
				cmds, err := pipe.Exec(ctx)
				if err != nil {
					return // the kill
				}
				now := time.Now()
				mu.Lock()
				for k, a := range batch {
					a.at = now
					all[k] = a
				}
				n := cmds[len(cmds)-1].(*redis.IntCmd).Val()
				all[fmt.Sprintf("ctr%d", g)] = acked{val: strconv.FormatInt(n, 10), at: now}
				mu.Unlock()
			}
		}()
	}
	if during != nil {
		during()
	}
	time.Sleep(d)
	killed := time.Now()
	srv.Kill()
	wg.Wait()
	return all, killed
}

// verify reads every acknowledged key back and returns those missing or
// different, with the reason. Counters may be ahead of their last ack
// (an INCR applied but whose reply the kill cut off), never behind.
func verify(t *testing.T, c *redis.Client, want map[string]acked) map[string]string {
	ctx := context.Background()
	bad := map[string]string{}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		chunk := keys[:n]
		keys = keys[n:]
		pipe := c.Pipeline()
		gets := make([]*redis.StringCmd, n)
		pts := make([]*redis.DurationCmd, n)
		for i, k := range chunk {
			gets[i] = pipe.Get(ctx, k)
			pts[i] = pipe.PExpireTime(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			t.Fatalf("reading back: %v", err)
		}
		for i, k := range chunk {
			w := want[k]
			got, err := gets[i].Result()
			switch {
			case err != nil:
				bad[k] = "missing"
			case strings.HasPrefix(k, "ctr"):
				g, _ := strconv.ParseInt(got, 10, 64)
				a, _ := strconv.ParseInt(w.val, 10, 64)
				if g < a {
					bad[k] = fmt.Sprintf("counter %d < acknowledged %d", g, a)
				}
			case got != w.val && !newer(got, w.val):
				bad[k] = fmt.Sprintf("value %q, want %q", got, w.val)
			case got != w.val:
				// A later write of the same writer, applied and logged
				// but cut off from its reply by the kill.
			default:
				pt := pts[i].Val().Milliseconds()
				// Deadlines replayed from records are exact; those restored
				// from the base by the engine's LoadFile are placed with a
				// ttl on its coarse clock, up to a few ms early under load.
				if w.pxat == 0 && pts[i].Val() != -1*time.Nanosecond || w.pxat != 0 && (pt > w.pxat+1 || pt < w.pxat-25) {
					bad[k] = fmt.Sprintf("deadline %v, want %d", pts[i].Val(), w.pxat)
				}
			}
		}
	}
	return bad
}

// newer reports whether value a ("v<round>.<i>") was written after b by
// the same writer.
func newer(a, b string) bool {
	var ra, ia, rb, ib int
	fmt.Sscanf(a, "v%d.%d", &ra, &ia)
	fmt.Sscanf(b, "v%d.%d", &rb, &ib)
	return ra > rb
}

func restart(t *testing.T, dir string, args ...string) *servertest.Server {
	return servertest.StartShardcached(t, append([]string{"--dir", dir, "--appendonly", "yes"}, args...)...)
}

// TestAOFCrashAlways: with appendfsync always, every write acknowledged
// before a kill -9 is there after the restart, with its value and
// deadline.
func TestAOFCrashAlways(t *testing.T) {
	dir := t.TempDir()
	srv := restart(t, dir, "--appendfsync", "always")
	all, _ := crashWrites(t, srv, 1500*time.Millisecond, nil)
	srv2 := restart(t, dir)
	bad := verify(t, goRedis(t, srv2), all)
	t.Logf("always: %d acknowledged keys checked after kill -9, %d lost", len(all), len(bad))
	if len(bad) > 0 {
		t.Fatalf("%d acknowledged writes lost or wrong, e.g. %v", len(bad), sample(bad))
	}
}

// TestAOFCrashEverysec: with everysec, what a kill -9 loses was
// acknowledged in the last two seconds. (A process crash loses nothing:
// replies wait for the write to the kernel; only a power loss can lose
// the unsynced second or two.)
func TestAOFCrashEverysec(t *testing.T) {
	dir := t.TempDir()
	srv := restart(t, dir, "--appendfsync", "everysec")
	all, killed := crashWrites(t, srv, 1500*time.Millisecond, nil)
	srv2 := restart(t, dir)
	bad := verify(t, goRedis(t, srv2), all)
	t.Logf("everysec: %d acknowledged keys checked after kill -9, %d lost", len(all), len(bad))
	for k := range bad {
		if age := killed.Sub(all[k].at); age > 2*time.Second+200*time.Millisecond {
			t.Fatalf("%s, acknowledged %v before the kill, lost: %s", k, age, bad[k])
		}
	}
}

// TestAOFRewriteUnderLoad: rewrites (BGREWRITEAOF, and automatic ones by
// growth) while pipelined writers run lose no acknowledged write.
func TestAOFRewriteUnderLoad(t *testing.T) {
	dir := t.TempDir()
	srv := restart(t, dir, "--appendfsync", "always", "--auto-aof-rewrite-min-size", "256kb", "--auto-aof-rewrite-percentage", "50")
	c := goRedis(t, srv)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	all, _ := crashWrites(t, srv, 2500*time.Millisecond, func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(300 * time.Millisecond):
				}
				c.Do(context.Background(), "BGREWRITEAOF")
			}
		}()
	})
	close(stop)
	wg.Wait()
	srv2 := restart(t, dir)
	c2 := goRedis(t, srv2)
	info := c2.Info(context.Background(), "persistence").Val()
	bad := verify(t, c2, all)
	t.Logf("rewrite under load: %d acknowledged keys, %d lost", len(all), len(bad))
	if len(bad) > 0 {
		t.Fatalf("%d acknowledged writes lost or wrong, e.g. %v\n%s", len(bad), sample(bad), info)
	}
	if !strings.Contains(srv.Log(), "AOF rewritten") {
		t.Fatalf("no rewrite happened:\n%s", srv.Log())
	}
}

func sample(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
		if len(out) == 5 {
			break
		}
	}
	return out
}

// state is a keyspace read through the protocol: value and deadline of
// every key.
func state(t *testing.T, c *redis.Client) map[string]acked {
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]acked{}
	for _, k := range keys {
		v, err := c.Get(ctx, k).Result()
		if err != nil {
			continue // expired since KEYS
		}
		pt := c.PExpireTime(ctx, k).Val()
		px := int64(0)
		if pt > 0 {
			px = pt.Milliseconds()
		}
		out[k] = acked{val: v, pxat: px}
	}
	return out
}

// TestAOFReplayEquivalence applies a random command stream (SET with and
// without TTLs, EXPIRE, PEXPIRE, PERSIST, RENAME, INCR, INCRBYFLOAT,
// APPEND, SETRANGE, DEL, COPY, GETEX, MULTI/EXEC) from several clients to a
// server whose maxmemory makes it evict, with rewrites in the middle, then
// restarts it from the AOF (after a kill -9): the key set, the values and
// the deadlines (±1 ms) equal those before.
func TestAOFReplayEquivalence(t *testing.T) {
	dir := t.TempDir()
	srv := restart(t, dir, "--appendfsync", "everysec", "--maxmemory", "300kb", "--maxmemory-policy", "allkeys-lru")
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 1, DisableIdentity: true})
			defer c.Close()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			key := func() string { return "k" + strconv.Itoa(r.IntN(3000)) }
			for i := range 6000 {
				k := key()
				switch r.IntN(14) {
				case 0, 1:
					c.Set(ctx, k, strings.Repeat("x", r.IntN(200)), 0)
				case 2:
					c.Set(ctx, k, "t"+strconv.Itoa(i), time.Duration(50+r.IntN(3000))*time.Millisecond)
				case 3:
					c.Expire(ctx, k, time.Duration(1+r.IntN(60))*time.Second)
				case 4:
					c.PExpire(ctx, k, time.Duration(20+r.IntN(500))*time.Millisecond)
				case 5:
					c.Persist(ctx, k)
				case 6:
					c.Rename(ctx, k, key())
				case 7:
					c.Incr(ctx, "n"+strconv.Itoa(r.IntN(50)))
				case 8:
					c.IncrByFloat(ctx, "f"+strconv.Itoa(r.IntN(50)), 0.5)
				case 9:
					c.Append(ctx, k, "ab")
				case 10:
					c.SetRange(ctx, k, int64(r.IntN(10)), "zz")
				case 11:
					c.Del(ctx, k, key())
				case 12:
					c.Copy(ctx, k, key(), 0, true)
				case 13:
					a, b := key(), key()
					c.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, a, "m"+strconv.Itoa(i), 0)
						p.IncrByFloat(ctx, b, 1.25)
						p.GetEx(ctx, a, 10*time.Second)
						return nil
					})
				}
				if g == 0 && i%2000 == 1000 {
					c.Do(ctx, "BGREWRITEAOF")
				}
			}
		}()
	}
	wg.Wait()
	c := goRedis(t, srv)
	// However the random stream interleaved, fill past maxmemory so that
	// the log holds evictions' DELs.
	for i := range 400 {
		c.Set(ctx, "fill:"+strconv.Itoa(i), strings.Repeat("f", 1000), 0)
	}
	time.Sleep(300 * time.Millisecond) // let expirations' and evictions' DELs be logged
	evicted, _ := c.Info(ctx, "stats").Result()
	before := state(t, c)
	srv.Kill()
	srv2 := restart(t, dir, "--maxmemory", "300kb", "--maxmemory-policy", "allkeys-lru")
	after := state(t, goRedis(t, srv2))
	now := time.Now().UnixMilli()
	// Records replay deadlines to the millisecond (SET ... PXAT, placed
	// with ExpireAt). Keys restored from the base go through the engine's
	// LoadFile, which turns a deadline into a ttl against a wall-clock
	// reading taken once per batch of entries and applies it on its own
	// clock later, so they may end up as late as that batch took to store
	// (a few ms under the race detector).
	const deadlineTol = 25
	var maxDrift int64
	diffs := 0
	for k, b := range before {
		a, ok := after[k]
		switch {
		case b.pxat != 0 && b.pxat < now+50:
			// Expired (or about to) between the two readings.
		case !ok:
			diffs++
			t.Errorf("%s lost (value %q, deadline %d)", k, b.val, b.pxat)
		case a.val != b.val:
			diffs++
			t.Errorf("%s = %q after restart, %q before", k, a.val, b.val)
		case a.pxat-b.pxat > deadlineTol || b.pxat-a.pxat > deadlineTol:
			diffs++
			t.Errorf("%s deadline %d after restart, %d before", k, a.pxat, b.pxat)
		}
		if d := a.pxat - b.pxat; ok && b.pxat != 0 {
			maxDrift = max(maxDrift, d, -d)
		}
		if diffs > 10 {
			t.FailNow()
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s appeared after restart", k)
		}
	}
	ev := ""
	for _, line := range strings.Split(evicted, "\r\n") {
		if strings.HasPrefix(line, "evicted_keys:") || strings.HasPrefix(line, "expired_keys:") {
			ev += line + " "
		}
	}
	t.Logf("replay: %d keys before, %d after, deadlines within %d ms; %s", len(before), len(after), maxDrift, ev)
	if !strings.Contains(ev, "evicted_keys:") || strings.Contains(ev, "evicted_keys:0 ") {
		t.Errorf("the stream evicted nothing (%s): maxmemory too high for the test", ev)
	}
}

// TestAOFDamage starts the binary on damaged AOFs: the outcome each
// damage must give, as Redis's aof.tcl and aof-multi-part.tcl check them.
func TestAOFDamage(t *testing.T) {
	rec := func(args ...string) string {
		s := "*" + strconv.Itoa(len(args)) + "\r\n"
		for _, a := range args {
			s += "$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n"
		}
		return s
	}
	good := rec("SET", "a", "1") + rec("SET", "b", "2")
	const manifest = "file appendonly.aof.1.incr.aof seq 1 type i\n"
	cases := []struct {
		name     string
		manifest string
		files    map[string]string
		args     []string
		starts   bool
		keys     int    // keys after a start
		message  string // in the log of a refused start
	}{
		{"short read loads with aof-load-truncated", manifest, map[string]string{"appendonly.aof.1.incr.aof": good + rec("SET", "c", "3")[:9]}, nil, true, 2, "incomplete"},
		{"short read refused without it", manifest, map[string]string{"appendonly.aof.1.incr.aof": good + "*3\r\n$3"}, []string{"--aof-load-truncated", "no"}, false, 0, "appendonly.aof.1.incr.aof is truncated: its complete records end at offset 54"},
		{"unfinished MULTI loads without it", manifest, map[string]string{"appendonly.aof.1.incr.aof": good + rec("MULTI") + rec("SET", "c", "3")}, nil, true, 2, "incomplete"},
		{"garbage in the middle", manifest, map[string]string{"appendonly.aof.1.incr.aof": rec("SET", "a", "1") + "!!garbage\r\n" + rec("SET", "b", "2")}, nil, false, 0, "appendonly.aof.1.incr.aof: aof: bad record at offset 27"},
		{"an unknown command", manifest, map[string]string{"appendonly.aof.1.incr.aof": rec("LPUSH", "l", "x")}, nil, false, 0, "not a write this server can replay"},
		{"a missing incr file", manifest, nil, nil, false, 0, "appendonly.aof.1.incr.aof: no such file"},
		{"a malformed manifest", "file appendonly.aof.1.incr.aof seq 1\n", map[string]string{"appendonly.aof.1.incr.aof": good}, nil, false, 0, "appendonly.aof.manifest line 1"},
		{"a truncated file that is not the last", manifest + "file appendonly.aof.2.incr.aof seq 2 type i\n",
			map[string]string{"appendonly.aof.1.incr.aof": good + "*1\r\n", "appendonly.aof.2.incr.aof": good}, nil, false, 0, "is truncated at offset 54 but is not the last file"},
	}
	bin := servertest.BuildShardcached(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ad := filepath.Join(dir, "appendonlydir")
			os.Mkdir(ad, 0o755)
			os.WriteFile(filepath.Join(ad, "appendonly.aof.manifest"), []byte(tc.manifest), 0o644)
			for name, body := range tc.files {
				os.WriteFile(filepath.Join(ad, name), []byte(body), 0o644)
			}
			if tc.starts {
				srv := restart(t, dir, tc.args...)
				if n := goRedis(t, srv).DBSize(context.Background()).Val(); n != int64(tc.keys) {
					t.Fatalf("%d keys, want %d", n, tc.keys)
				}
				if !strings.Contains(srv.Log(), tc.message) {
					t.Fatalf("log lacks %q:\n%s", tc.message, srv.Log())
				}
				return
			}
			args := append([]string{"--port", strconv.Itoa(servertest.FreePort(t)), "--admin-port", "0", "--dir", dir, "--appendonly", "yes"}, tc.args...)
			out, err := exec.Command(bin, args...).CombinedOutput()
			if err == nil {
				t.Fatalf("started on a damaged AOF:\n%s", out)
			}
			if !strings.Contains(string(out), tc.message) {
				t.Fatalf("error lacks %q:\n%s", tc.message, out)
			}
		})
	}
}

// TestCheckAOF runs `shardcached check-aof` on a torn AOF: it reports the
// damage (exit 1), --fix cuts it (exit 0), and the server then starts.
func TestCheckAOF(t *testing.T) {
	dir := t.TempDir()
	srv := restart(t, dir, "--appendfsync", "always")
	c := goRedis(t, srv)
	for i := range 10 {
		c.Set(context.Background(), "k"+strconv.Itoa(i), "v", 0)
	}
	srv.Kill()
	ad := filepath.Join(dir, "appendonlydir")
	incr := filepath.Join(ad, "appendonly.aof.1.incr.aof")
	f, _ := os.OpenFile(incr, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("*3\r\n$3\r\nSET\r\n$1\r\nz")
	f.Close()
	bin := servertest.BuildShardcached(t)
	out, err := exec.Command(bin, "check-aof", ad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "truncated") {
		t.Fatalf("check-aof on a torn AOF: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "check-aof", "--fix", ad).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "AOF is valid") {
		t.Fatalf("check-aof --fix: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "check-aof", ad).CombinedOutput()
	if err != nil {
		t.Fatalf("check-aof after --fix: %v\n%s", err, out)
	}
	srv2 := restart(t, dir, "--aof-load-truncated", "no")
	if n := goRedis(t, srv2).DBSize(context.Background()).Val(); n != 10 {
		t.Fatalf("%d keys after the fix, want 10", n)
	}
}
