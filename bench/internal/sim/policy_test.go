package sim

import (
	"testing"

	"github.com/shardcache/shardcache/bench/internal/workload"
)

// TestReplayPolicyLRUMatchesReference: one instance of the policy package's
// LRU hits exactly where golang-lru's exact LRU does.
func TestReplayPolicyLRUMatchesReference(t *testing.T) {
	keys, err := workload.Zipf(5000, 0.9, 20_000, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, capacity := range []int{1, 100, 1000} {
		want := replayCache(t, "lru", capacity, keys)
		if got := ReplayPolicy(Policies()[0], keys, capacity, 1); got != want {
			t.Errorf("capacity %d: policy LRU %+v, golang-lru %+v", capacity, got, want)
		}
	}
}

// TestReplayPolicyBounds: every policy, whole or split over 64 instances,
// misses every key once when all fit, never beats the ceiling, and an LRU
// one key short of a loop never hits.
func TestReplayPolicyBounds(t *testing.T) {
	keys, err := workload.Zipf(200, 0.8, 5000, 3)
	if err != nil {
		t.Fatal(err)
	}
	ceil := Ceiling(keys)
	for _, p := range Policies() {
		for _, shards := range []int{1, 64} {
			// 64 instances of 200 entries hold every key whatever the split.
			if got := ReplayPolicy(p, keys, 200*shards, shards); got != ceil {
				t.Errorf("%s/%d, all keys fit: %+v, want the ceiling %+v", p.Name, shards, got, ceil)
			}
			if got := ReplayPolicy(p, keys, 50, shards); got.Requests != ceil.Requests || got.Hits > ceil.Hits {
				t.Errorf("%s/%d at 50: %+v above the ceiling %+v", p.Name, shards, got, ceil)
			}
		}
	}
	if r := ReplayPolicy(Policies()[0], workload.Loop(101, 10_000), 100, 1); r.Hits != 0 {
		t.Errorf("LRU(100) on a loop of 101: %d hits, want 0", r.Hits)
	}
}

func TestReplayPolicyRejectsShards(t *testing.T) {
	for _, shards := range []int{0, 3, -4} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ReplayPolicy with %d shards did not panic", shards)
				}
			}()
			ReplayPolicy(Policies()[0], []uint64{1}, 10, shards)
		}()
	}
}
