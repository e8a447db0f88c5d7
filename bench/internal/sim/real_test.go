package sim

// Checks and tables on the real traces (see tracetest for where they are
// found). The tables print hit ratios in % and assert nothing; they are how
// the policies and the engine's shard sizing were tuned:
//
//	go test ./internal/sim -run TestTraceTable -v                                   # quick: gli, multi2, web12
//	SHARDCACHE_TRACE_ALL=1 go test ./internal/sim -run TestTraceTable -v -timeout 30m # every trace
//	SHARDCACHE_TRACE_ALL=1 go test ./internal/sim -run TestShardSplitTable -v

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/shardcache/shardcache/bench/internal/adapter"
	"github.com/shardcache/shardcache/bench/internal/trace"
	"github.com/shardcache/shardcache/bench/internal/tracetest"
)

// traceAll reports whether the slow trace runs were asked for.
func traceAll() bool { return os.Getenv("SHARDCACHE_TRACE_ALL") != "" }

// replayCache replays keys through a new cache of the named adapter.
func replayCache(t *testing.T, name string, capacity int, keys []uint64) Result {
	t.Helper()
	f, err := adapter.Lookup[uint64, uint64](name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.New(adapter.Config{Capacity: capacity, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return Replay(c, keys)
}

// inParallel runs every replay on a goroutine of its own and returns their
// hit ratios in %, in order.
func inParallel(replays []func() Result) []float64 {
	res := make([]float64, len(replays))
	var wg sync.WaitGroup
	for i, r := range replays {
		wg.Go(func() { res[i] = 100 * r().Ratio() })
	}
	wg.Wait()
	return res
}

// tableRow writes one markdown row: the cells, then the ratios.
func tableRow(b *strings.Builder, cells []string, ratios []float64) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |")
	for _, r := range ratios {
		fmt.Fprintf(b, " %.2f |", r)
	}
	b.WriteString("\n")
}

// traceName is a trace file's name without its suffixes ("oltp.arc.gz" -> "oltp").
func traceName(file string) string {
	_, name := trace.FormatOf(file)
	return name
}

// TestOLTPLRU reproduces the ARC paper's figure that the traces README quotes:
// an LRU of 1000 entries on OLTP hits 32.83% of requests.
func TestOLTPLRU(t *testing.T) {
	if testing.Short() {
		t.Skip("replays 914,145 requests; skipped with -short")
	}
	r := replayCache(t, "lru", 1000, tracetest.Keys(t, "oltp.arc.gz"))
	if r.Requests != 914_145 {
		t.Errorf("%d requests, want 914145", r.Requests)
	}
	if got := fmt.Sprintf("%.2f", 100*r.Ratio()); got != "32.83" {
		t.Errorf("LRU(1000) on oltp: %s%% hits, want 32.83%%", got)
	}
}

// TestTraceLRUSanity checks the policy-level harness against the same ARC
// paper figure: the policy package's LRU, one instance of 1000 entries, hits
// 32.83% of OLTP.
func TestTraceLRUSanity(t *testing.T) {
	if testing.Short() {
		t.Skip("replays 914,145 requests; skipped with -short")
	}
	r := ReplayPolicy(Policies()[0], tracetest.Keys(t, "oltp.arc.gz"), 1000, 1)
	if got := fmt.Sprintf("%.2f", 100*r.Ratio()); got != "32.83" {
		t.Fatalf("LRU(1000) on oltp = %s%%, want 32.83%%", got)
	}
}

// TestCacheHitRatioSmallTraces replays the small LIRS traces through the
// engine's Cache API with one shard (the adapters shardcache-1, sc-arc-1 and
// sc-tinylfu-1) and checks ARC >= LRU and W-TinyLFU > LRU + 1 point, at the
// capacities TestTraceTable reports.
func TestCacheHitRatioSmallTraces(t *testing.T) {
	for _, tr := range []struct {
		file string
		caps []int
	}{{"gli.lirs.gz", []int{250, 1500}}, {"multi2.lirs.gz", []int{500, 3000}}} {
		keys := tracetest.Keys(t, tr.file)
		for _, capacity := range tr.caps {
			ratio := func(name string) float64 { return 100 * replayCache(t, name, capacity, keys).Ratio() }
			lru, arc, tlfu := ratio("shardcache-1"), ratio("sc-arc-1"), ratio("sc-tinylfu-1")
			t.Logf("%s at %d: LRU %.2f%%, ARC %.2f%%, W-TinyLFU %.2f%%", tr.file, capacity, lru, arc, tlfu)
			if arc < lru {
				t.Errorf("%s at %d: ARC %.2f%% below LRU %.2f%%", tr.file, capacity, arc, lru)
			}
			if tlfu <= lru+1 {
				t.Errorf("%s at %d: W-TinyLFU %.2f%% not above LRU %.2f%% + 1", tr.file, capacity, tlfu, lru)
			}
		}
	}
}

// TestTraceTable prints the hit ratio of every policy on every trace at two
// capacities, a small one and one near its working set, with one instance
// and with 64 (like the engine's shards). Only gli, multi2 and web12 run
// unless SHARDCACHE_TRACE_ALL is set.
func TestTraceTable(t *testing.T) {
	if !traceAll() && testing.Short() {
		t.Skip("-short")
	}
	tracetest.Dir(t)
	if !testing.Verbose() && !traceAll() {
		t.Skip("prints a table: run with -v")
	}
	traces := []struct {
		file       string
		capacities [2]int
		big        bool // slow: only with SHARDCACHE_TRACE_ALL
	}{
		{"gli.lirs.gz", [2]int{250, 1500}, false},
		{"multi2.lirs.gz", [2]int{500, 3000}, false},
		{"web12.cache2k.xz", [2]int{500, 4000}, false},
		{"loop.lirs.gz", [2]int{250, 750}, true},
		{"oltp.arc.gz", [2]int{1000, 20000}, true},
		{"orm-busy.cache2k.xz", [2]int{1000, 20000}, true},
		{"p3.arc.gz", [2]int{16384, 262144}, true},
	}
	ps := Policies()
	var b strings.Builder
	b.WriteString("| trace | capacity |")
	for _, p := range ps {
		fmt.Fprintf(&b, " %s | %s/64 |", p.Name, p.Name)
	}
	b.WriteString("\n|---|---:|" + strings.Repeat("---:|---:|", len(ps)) + "\n")
	for _, tr := range traces {
		if tr.big && !traceAll() {
			continue
		}
		keys := tracetest.Keys(t, tr.file)
		for _, c := range tr.capacities {
			var replays []func() Result
			for _, p := range ps {
				replays = append(replays,
					func() Result { return ReplayPolicy(p, keys, c, 1) },
					func() Result { return ReplayPolicy(p, keys, c, 64) })
			}
			tableRow(&b, []string{traceName(tr.file), fmt.Sprint(c)}, inParallel(replays))
		}
	}
	t.Log("\n" + b.String())
}

// TestShardSplitTable prints, for small capacities of the traces, the hit
// ratio of LRU, ARC and W-TinyLFU when the capacity is split over 1 to 64
// instances: the measurement behind the engine's minimum of 128 entries per
// default shard (minShardEntries in the root package).
func TestShardSplitTable(t *testing.T) {
	if !traceAll() || !testing.Verbose() {
		t.Skip("prints a table: run with SHARDCACHE_TRACE_ALL=1 and -v")
	}
	rows := []struct {
		file string
		c    int
	}{
		{"gli.lirs.gz", 1000}, {"gli.lirs.gz", 2000}, {"loop.lirs.gz", 500}, {"loop.lirs.gz", 1000},
		{"multi2.lirs.gz", 1000}, {"multi2.lirs.gz", 4000}, {"oltp.arc.gz", 1000},
		{"orm-busy.cache2k.xz", 1000}, {"web12.cache2k.xz", 500}, {"web12.cache2k.xz", 2000},
	}
	splits := []int{1, 2, 4, 8, 16, 32, 64}
	var b strings.Builder
	b.WriteString("| trace | capacity | policy |")
	for _, n := range splits {
		fmt.Fprintf(&b, " %d |", n)
	}
	b.WriteString("\n|---|---:|---|" + strings.Repeat("---:|", len(splits)) + "\n")
	for _, r := range rows {
		keys := tracetest.Keys(t, r.file)
		for _, p := range Policies()[:3] {
			var replays []func() Result
			for _, n := range splits {
				replays = append(replays, func() Result { return ReplayPolicy(p, keys, r.c, n) })
			}
			tableRow(&b, []string{traceName(r.file), fmt.Sprint(r.c), p.Name}, inParallel(replays))
		}
	}
	t.Log("\n" + b.String())
}
