package sim

import (
	"fmt"
	"testing"

	"github.com/shardcache/shardcache/bench/internal/adapter"
	"github.com/shardcache/shardcache/bench/internal/trace"
	"github.com/shardcache/shardcache/bench/internal/tracetest"
)

// TestOLTPLRU reproduces the ARC paper's figure that the traces README quotes:
// an LRU of 1000 entries on OLTP hits 32.83% of requests.
func TestOLTPLRU(t *testing.T) {
	if testing.Short() {
		t.Skip("replays 914,145 requests; skipped with -short")
	}
	tr, err := trace.Load(tracetest.File(t, "oltp.arc.gz"))
	if err != nil {
		t.Fatal(err)
	}
	lru, err := adapter.Lookup[uint64, uint64]("lru")
	if err != nil {
		t.Fatal(err)
	}
	c, err := lru.New(adapter.Config{Capacity: 1000, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := Replay(c, tr.Keys)
	if r.Requests != 914_145 {
		t.Errorf("%d requests, want 914145", r.Requests)
	}
	if got := fmt.Sprintf("%.2f", 100*r.Ratio()); got != "32.83" {
		t.Errorf("LRU(1000) on oltp: %s%% hits, want 32.83%%", got)
	}
}
