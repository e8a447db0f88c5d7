package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const sampleBench = `goos: linux
pkg: example
BenchmarkThroughput/cache=a/keys=string/zipf=1.1/mix=100/par=1x-2   100  10 ns/op  0 allocs/op
BenchmarkThroughput/cache=a/keys=string/zipf=1.1/mix=100/par=1x-2   100  30 ns/op  0 allocs/op
BenchmarkThroughput/cache=a/keys=string/zipf=1.1/mix=100/par=1x-2   100  20 ns/op  0 allocs/op
BenchmarkThroughput/cache=b/keys=string/zipf=1.1/mix=100/par=1x-2   100  40 ns/op  1 allocs/op
BenchmarkThroughput/cache=b/keys=string/zipf=1.1/mix=90/par=1x-2    100  50 ns/op  1 allocs/op
BenchmarkThroughput/cache=a/keys=string/zipf=1.1/mix=90/par=1x-2    100  60 ns/op  1 allocs/op
BenchmarkPolicies/cache=shardcache/keys=int/zipf=0.8/mix=100/par=1x-2  100  80 ns/op
BenchmarkPolicies/cache=sc-arc/keys=int/zipf=0.8/mix=100/par=1x-2      100  100 ns/op
BenchmarkPolicies/cache=shardcache/keys=int/zipf=0.8/mix=100/par=8x-2  100  40 ns/op
BenchmarkPolicies/cache=sc-arc/keys=int/zipf=0.8/mix=100/par=8x-2      100  20 ns/op
BenchmarkPolicies/cache=sc-arc/keys=int/zipf=1.1/mix=100/par=8x-2      100  20 ns/op
BenchmarkGet/shards=1    100  90 ns/op
BenchmarkGet/shards=16   100  30 ns/op
BenchmarkGet/shards=4-2  100  50 ns/op
BenchmarkMemory/cache=a/keys=string-2  3  100 ns/op  150.5 B/entry  64000 entries
BenchmarkMemory/cache=b/keys=string-2  3  100 ns/op  90.0 B/entry  65536 entries
`

// readSample parses sampleBench through a file, as cmd/plots reads one.
func readSample(t *testing.T) []point {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.txt")
	if err := os.WriteFile(path, []byte(sampleBench), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := readBench(path)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestReadBench(t *testing.T) {
	ps := readSample(t)
	if len(ps) != 14 {
		t.Fatalf("%d points, want 14", len(ps))
	}
	p := ps[0]
	if p.base != "Throughput" || p.keys["cache"] != "a" || p.keys["mix"] != "100" || p.procs != 2 || p.runs != 3 {
		t.Errorf("first point = %+v", p)
	}
	if p.nsOp != 20 {
		t.Errorf("median ns/op = %v, want 20", p.nsOp)
	}
	if got := label(p, "cache"); got != "keys=string mix=100 par=1x zipf=1.1" {
		t.Errorf("label = %q", got)
	}
	if ps[9].procs != 1 || ps[9].keys["shards"] != "1" {
		t.Errorf("point without -N suffix = %+v", ps[4])
	}
	if m := ps[12]; m.base != "Memory" || m.units["B/entry"] != 150.5 || m.units["entries"] != 64000 {
		t.Errorf("custom metrics = %+v", m)
	}
}

func TestRelativeToLRU(t *testing.T) {
	rel := relativeToLRU(readSample(t))
	// ARC at 100 and 20 ns/op against LRU's 80 and 40: ratios 0.8 and 2,
	// geometric mean 1.2649; the zipf=1.1 point has no LRU twin.
	if len(rel) != 1 {
		t.Fatalf("relativeToLRU = %+v, want one group", rel)
	}
	r := rel[0]
	if r.cache != "sc-arc" || r.mix != "100" || r.procs != 2 || r.workloads != 2 || math.Abs(r.ratio-math.Sqrt(1.6)) > 1e-9 {
		t.Errorf("relativeToLRU = %+v, want sc-arc mix 100 GOMAXPROCS 2 over 2 workloads at %.4f", r, math.Sqrt(1.6))
	}
}

func TestRunWritesCharts(t *testing.T) {
	dir := t.TempDir()
	bench := filepath.Join(dir, "b.txt")
	csv := filepath.Join(dir, "h.csv")
	os.WriteFile(bench, []byte(sampleBench), 0o644)
	os.WriteFile(csv, []byte("sequence,capacity,cache,requests,hits,hit_ratio\n"+
		"s,10,lru,100,10,0.100000\ns,100,lru,100,50,0.500000\ns,10,ceiling,100,90,0.900000\ns,100,ceiling,100,90,0.900000\n"), 0o644)
	out := filepath.Join(dir, "img")
	if err := run(bench, bench, csv, bench, bench, out); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"hitratio_s.png", "memory.png", "policies_cpu2.png", "shards.png", "throughput_string_zipf1.1_cpu2_par1x.png"}
	if !slices.Equal(names, want) {
		t.Errorf("wrote %v, want %v", names, want)
	}
	if err := run(filepath.Join(dir, "missing.txt"), filepath.Join(dir, "missing.txt"), filepath.Join(dir, "missing.csv"), bench, filepath.Join(dir, "missing.txt"), out); err != nil {
		t.Errorf("missing inputs should be skipped: %v", err)
	}
}
