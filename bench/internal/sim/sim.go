// Package sim replays key sequences through caches and counts hits: the
// hit-ratio simulator behind cmd/hitratio.
//
// Every request is a Get; a miss is followed by a Set of the same key
// ("demand fill"), and hit ratio = hits / requests. Caches are built with
// adapter.Config.Exact and driven from one goroutine, so that each policy
// sees every access in order (ristretto and theine drop or delay buffered
// accesses otherwise, and their numbers would depend on scheduling).
//
// ReplayPolicy measures the engine's eviction policies (internal/policy)
// below the cache, split over as many instances as the engine has shards.
// The real-trace checks and tables are in real_test.go.
package sim

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/shardcache/shardcache/bench/internal/adapter"
)

// Result counts one replay.
type Result struct {
	Requests, Hits uint64
}

// Ratio is hits / requests, 0 for an empty replay.
func (r Result) Ratio() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.Hits) / float64(r.Requests)
}

// Replay sends every key to c from the calling goroutine: Get, and on a miss
// Set(key, key).
func Replay(c adapter.Cache[uint64, uint64], keys []uint64) Result {
	var hits uint64
	for _, k := range keys {
		if _, ok := c.Get(k); ok {
			hits++
		} else {
			c.Set(k, k)
		}
	}
	return Result{Requests: uint64(len(keys)), Hits: hits}
}

// Ceiling is the hit ratio of an unbounded cache: every request but the
// first to each key hits (the compulsory misses are unavoidable).
func Ceiling(keys []uint64) Result {
	seen := make(map[uint64]struct{}, len(keys)/4)
	for _, k := range keys {
		seen[k] = struct{}{}
	}
	return Result{Requests: uint64(len(keys)), Hits: uint64(len(keys) - len(seen))}
}

// Sequence is a named key sequence with the capacities to try it at.
type Sequence struct {
	Name       string
	Keys       []uint64
	Capacities []int
}

// Row is one cell of the result table.
type Row struct {
	Sequence string
	Capacity int
	Cache    string
	Result
	Elapsed time.Duration // wall time of the replay (not part of the result)
}

// CeilingName is the Cache column of the unbounded-cache reference row.
const CeilingName = "ceiling"

// Run replays every sequence at every capacity through every factory, with
// up to workers replays at once (each replay is still single-goroutine).
// Rows come back grouped by sequence, then capacity, in factory order, with
// one CeilingName row per sequence and capacity.
func Run(seqs []Sequence, factories []adapter.Factory[uint64, uint64], workers int) ([]Row, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type job struct {
		seq *Sequence
		cap int
		f   adapter.Factory[uint64, uint64]
		out *Row
	}
	var rows []Row
	var jobs []job
	for i := range seqs {
		s := &seqs[i]
		ceil := Ceiling(s.Keys)
		for _, capacity := range s.Capacities {
			for _, f := range factories {
				rows = append(rows, Row{Sequence: s.Name, Capacity: capacity, Cache: f.Name})
			}
			rows = append(rows, Row{Sequence: s.Name, Capacity: capacity, Cache: CeilingName, Result: ceil})
		}
	}
	n := 0
	for i := range seqs {
		for _, capacity := range seqs[i].Capacities {
			for _, f := range factories {
				jobs = append(jobs, job{&seqs[i], capacity, f, &rows[n]})
				n++
			}
			n++ // the ceiling row
		}
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan job)
	)
	for range workers {
		wg.Go(func() {
			for j := range next {
				c, err := j.f.New(adapter.Config{Capacity: j.cap, Exact: true})
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("sim: %s at capacity %d: %w", j.f.Name, j.cap, err)
					}
					mu.Unlock()
					continue
				}
				t0 := time.Now()
				j.out.Result = Replay(c, j.seq.Keys)
				j.out.Elapsed = time.Since(t0)
				c.Close()
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	return rows, firstErr
}
