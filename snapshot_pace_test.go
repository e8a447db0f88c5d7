package shardcache

import (
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowCodec encodes ints in decimal, each Append taking d of (fake) time and
// counting one call: with one entry in the cache, one call is one save.
type slowCodec struct {
	d     time.Duration
	calls *atomic.Int64
}

func (s slowCodec) Append(dst []byte, v int) ([]byte, error) {
	s.calls.Add(1)
	time.Sleep(s.d)
	return strconv.AppendInt(dst, int64(v), 10), nil
}

func (s slowCodec) Decode(src []byte) (int, error) {
	n, err := strconv.ParseInt(string(src), 10, 64)
	return int(n), err
}

// TestSnapshotEveryPaced: the periodic save starts SnapshotEvery after the
// previous one ended, and never sooner than that save took, so a tiny
// SnapshotEvery cannot make saves run back to back. Inside a synctest
// bubble the saves' durations and the window are exact.
func TestSnapshotEveryPaced(t *testing.T) {
	tests := []struct {
		name        string
		every, save time.Duration
		want        int64 // saves started within the first second
	}{
		// Ends at 50 ms, next start at 80: one every 50 ms, not every 30.
		{"period after the end", 30 * time.Millisecond, 20 * time.Millisecond, 20},
		// A save of 10 ms is followed by 10 ms of rest, not by the next.
		{"at least the save's duration", time.Nanosecond, 10 * time.Millisecond, 50},
		// A slow period is unchanged.
		{"period longer than the save", 100 * time.Millisecond, time.Millisecond, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int64
				c, err := New(Config[string, int]{
					SnapshotPath:  filepath.Join(dir, "cache.snap"),
					SnapshotEvery: tt.every,
					ValueCodec:    slowCodec{tt.save, &calls},
				})
				require.NoError(t, err)
				c.Set("k", 1)
				time.Sleep(time.Second - time.Nanosecond)
				synctest.Wait()
				got := calls.Load()
				require.NoError(t, c.Close())
				assert.InDelta(t, tt.want, got, 1, "saves started in one second")
			})
		})
	}
}
