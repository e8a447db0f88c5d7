package sim

import (
	"errors"
	"testing"

	"github.com/shardcache/shardcache/bench/internal/adapter"
	"github.com/shardcache/shardcache/bench/internal/workload"
)

// usable returns the factories that build for uint64 keys on this machine
// (the shardcache one fails to build only before the engine is wired in).
func usable(t *testing.T) []adapter.Factory[uint64, uint64] {
	var fs []adapter.Factory[uint64, uint64]
	for _, f := range adapter.All[uint64, uint64]() {
		c, err := f.New(adapter.Config{Capacity: 1, Exact: true})
		if errors.Is(err, adapter.ErrUnsupported) {
			t.Logf("skipping %s: %v", f.Name, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		fs = append(fs, f)
	}
	return fs
}

func TestRatioBounds(t *testing.T) {
	keys, err := workload.Zipf(5000, 0.9, 10_000, 1)
	if err != nil {
		t.Fatal(err)
	}
	ceil := Ceiling(keys).Ratio()
	rows, err := Run([]Sequence{{Name: "zipf", Keys: keys, Capacities: []int{100, 1000}}}, usable(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Requests != uint64(len(keys)) {
			t.Errorf("%s@%d: %d requests, want %d", r.Cache, r.Capacity, r.Requests, len(keys))
		}
		// No cache beats the compulsory misses; every real policy gets some
		// hits on a skewed sequence.
		if got := r.Ratio(); got < 0.05 || got > ceil+1e-12 {
			t.Errorf("%s@%d: hit ratio %.4f outside (0.05, ceiling %.4f]", r.Cache, r.Capacity, got, ceil)
		}
	}
}

// TestLRULoop: a loop one key longer than the cache always asks for the key
// LRU has just evicted, so LRU never hits.
func TestLRULoop(t *testing.T) {
	lru, err := adapter.Lookup[uint64, uint64]("lru")
	if err != nil {
		t.Fatal(err)
	}
	c, err := lru.New(adapter.Config{Capacity: 100, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r := Replay(c, workload.Loop(101, 10_000)); r.Hits != 0 {
		t.Fatalf("LRU(100) on a loop of 101: %d hits, want 0", r.Hits)
	}
}

// TestFitsInCache: when every key fits, each cache misses exactly once per
// distinct key, so the ratio is (n - unique) / n, the ceiling.
func TestFitsInCache(t *testing.T) {
	keys, err := workload.Zipf(200, 0.8, 5000, 3)
	if err != nil {
		t.Fatal(err)
	}
	n, unique := len(keys), workload.Unique(keys)
	want := float64(n-unique) / float64(n)
	for _, f := range usable(t) {
		c, err := f.New(adapter.Config{Capacity: 1000, Exact: true})
		if err != nil {
			t.Fatal(err)
		}
		r := Replay(c, keys)
		c.Close()
		if r.Ratio() != want {
			t.Errorf("%s: hit ratio %.5f, want (n-unique)/n = %.5f", f.Name, r.Ratio(), want)
		}
	}
	if got := Ceiling(keys).Ratio(); got != want {
		t.Errorf("Ceiling = %.5f, want %.5f", got, want)
	}
}

func TestRunOrder(t *testing.T) {
	fs := usable(t)
	seqs := []Sequence{
		{Name: "a", Keys: workload.Loop(10, 100), Capacities: []int{5, 20}},
		{Name: "b", Keys: workload.Loop(3, 30), Capacities: []int{2}},
	}
	rows, err := Run(seqs, fs, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * (len(fs) + 1); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	if r := rows[len(fs)]; r.Cache != CeilingName || r.Sequence != "a" || r.Capacity != 5 {
		t.Errorf("row %d = %+v, want the ceiling of a@5", len(fs), r)
	}
	if r := rows[len(rows)-1]; r.Sequence != "b" || r.Capacity != 2 || r.Cache != CeilingName {
		t.Errorf("last row = %+v", r)
	}
}
