package shardcache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardcache/shardcache/internal/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parallelFixture is a manual-clock cache of 8 shards whose shards each
// encode to several blocks (about 600 KiB of values per shard), some of its
// entries with deadlines.
func parallelFixture(t *testing.T) *Cache[string, string] {
	t.Helper()
	c := newManual(t, Config[string, string]{Shards: 8})
	for i := range 1200 {
		ttl := time.Duration(0)
		if i%3 == 0 {
			ttl = time.Duration(i+1) * time.Minute
		}
		c.SetWithTTL("k"+strconv.Itoa(i), strings.Repeat(strconv.Itoa(i%10), 4000+i), ttl)
	}
	return c
}

func saveWith[K comparable, V any](t *testing.T, c *Cache[K, V], workers int) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, c.saveWith(&buf, c.Len(), workers))
	return buf.Bytes()
}

// snapRecords returns the keys and values of snap's records, in file order.
func snapRecords(t *testing.T, snap []byte) (records []string) {
	t.Helper()
	fr := frame.NewReader(bytes.NewReader(snap))
	_, err := fr.ReadHeader(snapFormat)
	require.NoError(t, err)
	for {
		p, n, err := fr.Next()
		if err == io.EOF {
			return records
		}
		require.NoError(t, err)
		for range n {
			var key, value []byte
			_, key, value, p, err = frame.SplitRecord(p)
			require.NoError(t, err)
			records = append(records, string(key)+"="+string(value))
		}
	}
}

func TestSaveParallelMatchesSequential(t *testing.T) {
	c := parallelFixture(t)
	want := snapState(c)
	seq := saveWith(t, c, 1)
	seqRecords := snapRecords(t, seq)
	require.Len(t, seqRecords, len(want))
	for _, workers := range []int{2, 3, 8} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			par := saveWith(t, c, workers)
			// Only block boundaries differ: a parallel block never spans two
			// workers' shares of a shard.
			assert.InDelta(t, len(seq), len(par), float64(len(c.shards)*workers*(frame.FrameLen+4)))
			assert.Equal(t, seqRecords, snapRecords(t, par), "the same records in the same order")
			dst := newManual(t, Config[string, string]{Shards: 8})
			require.NoError(t, dst.loadVerified(bytes.NewReader(par)))
			got := snapState(dst)
			require.Len(t, got, len(want))
			for k, w := range want {
				g := got[k]
				require.Equal(t, w.value, g.value, k)
				// The wall clock moves between save and load.
				require.InDelta(t, w.ttl, g.ttl, float64(time.Second), k)
			}
		})
	}
}

func TestSaveWorkers(t *testing.T) {
	c := newManual(t, Config[int, int]{Shards: 2})
	assert.Equal(t, 1, c.saveWorkers(parallelSaveMin-1), "small caches save on one goroutine")
	assert.Equal(t, max(1, min(runtime.GOMAXPROCS(0), maxSaveWorkers)), c.saveWorkers(parallelSaveMin))
}

// goroutinesSettle waits for the goroutine count to drop back to at most n,
// failing the test if it does not within a second: a save must not leave
// encoding goroutines behind.
func goroutinesSettle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, want at most %d: an encoding goroutine leaked", runtime.NumGoroutine(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSaveParallelWriteErrors(t *testing.T) {
	c := parallelFixture(t)
	snap := saveWith(t, c, 3)
	base := runtime.NumGoroutine()
	for _, n := range []int{0, frame.HeaderLen, frame.HeaderLen + 1, frame.BlockTarget, 3 * frame.BlockTarget, len(snap) / 2, len(snap) - 1} {
		err := c.saveWith(&faultyIO{w: io.Discard, n: n}, c.Len(), 3)
		require.ErrorIs(t, err, errInjectedIO, n)
		goroutinesSettle(t, base)
	}
}

// failOnCodec fails to encode, or panics on, the value "bad" or "boom".
type failOnCodec struct{}

func (f failOnCodec) Append(dst []byte, v string) ([]byte, error) {
	switch v {
	case "bad":
		return dst, errors.New("bad value")
	case "boom":
		panic("codec bug")
	}
	return append(dst, v...), nil
}

func (failOnCodec) Decode(src []byte) (string, error) { return string(src), nil }

func TestSaveParallelCodecFailures(t *testing.T) {
	for _, v := range []string{"bad", "boom"} {
		t.Run(v, func(t *testing.T) {
			c := newManual(t, Config[string, string]{Shards: 8, ValueCodec: failOnCodec{}})
			for i := range 2000 {
				c.Set("k"+strconv.Itoa(i), strings.Repeat("x", 300))
			}
			c.Set("k1500", v) // in some worker's shard, after other blocks
			base := runtime.NumGoroutine()
			if v == "boom" {
				assert.PanicsWithValue(t, "codec bug", func() { _ = c.saveWith(io.Discard, c.Len(), 3) })
			} else {
				assert.ErrorContains(t, c.saveWith(io.Discard, c.Len(), 3), "bad value")
			}
			goroutinesSettle(t, base)
		})
	}
}

// TestSaveParallelConcurrentWrites saves with several goroutines while
// other goroutines write (run it with -race): every snapshot must load, and
// keys no writer touches must come back with their values.
func TestSaveParallelConcurrentWrites(t *testing.T) {
	c := parallelFixture(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := "w" + strconv.Itoa(g) + "-" + strconv.Itoa(i%500)
				if i%3 == 0 {
					c.Delete(k)
				} else {
					c.Set(k, strings.Repeat("w", i%700))
				}
			}
		}()
	}
	for range 5 {
		snap := saveWith(t, c, 3)
		dst := newManual(t, Config[string, string]{})
		require.NoError(t, dst.loadVerified(bytes.NewReader(snap)))
		for _, i := range []int{1, 599, 1199} {
			v, ok := dst.Get("k" + strconv.Itoa(i))
			require.True(t, ok, i)
			require.Equal(t, strings.Repeat(strconv.Itoa(i%10), 4000+i), v, i)
		}
	}
	close(stop)
	wg.Wait()
}
