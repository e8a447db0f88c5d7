// Command plots turns benchmark results into the PNG charts in docs/img:
//
//   - throughput_*.png from BenchmarkThroughput output (-peers): M ops/s per
//     cache and mix, one chart per key type, skew, GOMAXPROCS and par;
//   - hitratio_*.png from cmd/hitratio's CSV (-hitratio): hit ratio against
//     capacity, one chart per sequence;
//   - policies_cpu*.png from BenchmarkPolicies output (-policies): ARC's
//     and W-TinyLFU's throughput relative to LRU, by mix;
//   - shards.png from the root package's benchmarks (-shards): ns/op
//     against shard count, one line per benchmark;
//   - memory.png from BenchmarkMemory output (-memory): heap bytes per
//     entry of every cache, by key type.
//
// Benchmark files may hold many -count runs; each point is their median.
// A missing input file is reported and skipped.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
)

func main() {
	peers := flag.String("peers", "results/peers.txt", "BenchmarkThroughput output")
	policies := flag.String("policies", "results/policies.txt", "BenchmarkPolicies output")
	hitratio := flag.String("hitratio", "results/hitratio.csv", "cmd/hitratio -csv output")
	shards := flag.String("shards", "results/shards.txt", "root package benchmark output with shards=N")
	memory := flag.String("memory", "results/memory.txt", "BenchmarkMemory output")
	out := flag.String("out", "../docs/img", "directory for the PNG files")
	flag.Parse()
	if err := run(*peers, *policies, *hitratio, *shards, *memory, *out); err != nil {
		fmt.Fprintln(os.Stderr, "plots:", err)
		os.Exit(1)
	}
}

func run(peers, policies, hitratio, shards, memory, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var all []string
	step := func(what, path string, draw func() ([]string, error)) error {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "plots: %s: %s not found, skipped\n", what, path)
			return nil
		}
		files, err := draw()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		all = append(all, files...)
		return nil
	}
	// fromBench draws charts from a Go benchmark output file.
	fromBench := func(path string, charts func([]point, string) ([]string, error)) func() ([]string, error) {
		return func() ([]string, error) {
			ps, err := readBench(path)
			if err != nil {
				return nil, err
			}
			return charts(ps, out)
		}
	}
	steps := []struct {
		what, path string
		draw       func() ([]string, error)
	}{
		{"throughput", peers, fromBench(peers, throughputCharts)},
		{"policies", policies, fromBench(policies, policyCharts)},
		{"hit ratio", hitratio, func() ([]string, error) { return hitRatioCharts(hitratio, out) }},
		{"shards", shards, fromBench(shards, shardCharts)},
		{"memory", memory, fromBench(memory, memoryChart)},
	}
	for _, st := range steps {
		if err := step(st.what, st.path, st.draw); err != nil {
			return err
		}
	}
	for _, f := range all {
		fmt.Println(f)
	}
	return nil
}
