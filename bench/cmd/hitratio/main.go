// Command hitratio replays key sequences through every cache at several
// capacities and prints the hit ratios as a markdown table or CSV.
//
// Sequences: synthetic Zipf at several skews, Zipf polluted by periodic
// sequential scans, and every trace found in -traces (ARC, LIRS and cache2k
// formats; see internal/trace). Each replay runs one cache from one goroutine
// in exact mode (see internal/sim), so results are repeatable up to the small
// randomness some policies use internally.
//
//	go run ./cmd/hitratio                       # markdown to stdout
//	go run ./cmd/hitratio -format csv -o hr.csv # for cmd/plots
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shardcache/shardcache/bench/internal/adapter"
	"github.com/shardcache/shardcache/bench/internal/sim"
	"github.com/shardcache/shardcache/bench/internal/trace"
	"github.com/shardcache/shardcache/bench/internal/workload"
)

// capacities per trace, chosen to span from a small fraction of each trace's
// distinct keys to most of them (the ARC paper's c=1000 for oltp included).
var capacities = map[string][]int{
	"oltp":     {1000, 2500, 5000, 10000, 20000},
	"p3":       {16384, 65536, 131072, 262144, 524288},
	"loop":     {125, 250, 500, 1000, 2000}, // 1011 keys: LRU hits nothing below that
	"gli":      {250, 500, 1000, 1500, 2000},
	"multi2":   {500, 1000, 2000, 3000, 4000},
	"orm-busy": {1000, 5000, 10000, 20000, 40000},
	"web12":    {500, 1000, 2000, 4000, 8000},
}

// synthetic sequences: keyspace 2^20, 2^20 requests, capacities up to the
// throughput suite's 2^16.
const (
	synthKeyspace = 1 << 20
	synthLength   = 1 << 20
	scanEvery     = 50_000 // Zipf requests between two scans
	scanLength    = 20_000 // fresh keys per scan
)

var synthCapacities = []int{1 << 10, 1 << 12, 1 << 14, 1 << 16}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hitratio:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hitratio", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		tracesDir = fs.String("traces", trace.DefaultDir, "directory of trace files; a relative path is taken relative to the bench module")
		format    = fs.String("format", "markdown", "output format: markdown or csv")
		out       = fs.String("o", "", "write to this file instead of stdout")
		csvOut    = fs.String("csv", "", "also write CSV to this file (whatever -format says)")
		caches    = fs.String("caches", "", "comma-separated cache names (default: all)")
		only      = fs.String("only", "", "comma-separated sequence names (default: all), e.g. oltp,zipf-0.8")
		synthetic = fs.Bool("synthetic", true, "include the synthetic Zipf sequences")
		workers   = fs.Int("j", 0, "replays run at once (default GOMAXPROCS)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != "markdown" && *format != "csv" {
		return fmt.Errorf("-format %q: want markdown or csv", *format)
	}
	factories, err := pickCaches(*caches)
	if err != nil {
		return err
	}
	want := func(name string) bool {
		return *only == "" || slices.Contains(strings.Split(*only, ","), name)
	}

	var seqs []sim.Sequence
	if *synthetic {
		for _, s := range []float64{0.6, 0.8, 1.0, 1.1} {
			name := "zipf-" + strconv.FormatFloat(s, 'f', 1, 64)
			if !want(name) {
				continue
			}
			keys, err := workload.Zipf(synthKeyspace, s, synthLength, 1)
			if err != nil {
				return err
			}
			seqs = append(seqs, sim.Sequence{Name: name, Keys: keys, Capacities: synthCapacities})
		}
		if want("zipf-0.9-scan") {
			keys, err := workload.ZipfWithScans(synthKeyspace, 0.9, synthLength, scanEvery, scanLength, 1)
			if err != nil {
				return err
			}
			seqs = append(seqs, sim.Sequence{Name: "zipf-0.9-scan", Keys: keys, Capacities: synthCapacities})
		}
	}
	dir := trace.ResolveDir(*tracesDir)
	paths, err := trace.List(dir)
	if err != nil {
		return fmt.Errorf("traces: %w (set -traces)", err)
	}
	for _, p := range paths {
		_, name := trace.FormatOf(p)
		if !want(name) {
			continue
		}
		tr, err := trace.Load(p)
		if err != nil {
			return err
		}
		caps, ok := capacities[name]
		if !ok {
			caps = defaultCapacities(workload.Unique(tr.Keys))
		}
		seqs = append(seqs, sim.Sequence{Name: name, Keys: tr.Keys, Capacities: caps})
	}
	if len(seqs) == 0 {
		return errors.New("no sequences selected")
	}

	start := time.Now()
	rows, err := sim.Run(seqs, factories, *workers)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "hitratio: %d replays in %v; replay time per cache:", len(rows), time.Since(start).Round(time.Millisecond))
	perCache := map[string]time.Duration{}
	for _, r := range rows {
		perCache[r.Cache] += r.Elapsed
	}
	for _, f := range factories {
		fmt.Fprintf(stderr, " %s %v", f.Name, perCache[f.Name].Round(time.Millisecond))
	}
	fmt.Fprintln(stderr)

	if *csvOut != "" {
		if err := writeFile(*csvOut, func(w io.Writer) error { return writeCSV(w, rows) }); err != nil {
			return err
		}
	}
	write := func(w io.Writer) error { return writeMarkdown(w, seqs, rows, factories) }
	if *format == "csv" {
		write = func(w io.Writer) error { return writeCSV(w, rows) }
	}
	if *out == "" {
		return write(stdout)
	}
	return writeFile(*out, write)
}

// writeFile creates path (and its directory) and fills it with write.
func writeFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pickCaches returns the named factories, or every factory that takes the
// traces' integer keys (all but go-cache, which is string-keyed and has no
// size bound, so its hit ratio would only be the ceiling row).
func pickCaches(list string) ([]adapter.Factory[uint64, uint64], error) {
	if list == "" {
		var fs []adapter.Factory[uint64, uint64]
		for _, f := range adapter.All[uint64, uint64]() {
			c, err := f.New(adapter.Config{Capacity: 1, Exact: true})
			if errors.Is(err, adapter.ErrUnsupported) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			c.Close()
			fs = append(fs, f)
		}
		return fs, nil
	}
	var fs []adapter.Factory[uint64, uint64]
	for _, name := range strings.Split(list, ",") {
		f, err := adapter.Lookup[uint64, uint64](strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// defaultCapacities spans 1% to 50% of the distinct keys of an unknown trace.
func defaultCapacities(unique int) []int {
	var caps []int
	for _, pct := range []int{1, 5, 10, 25, 50} {
		caps = append(caps, max(unique*pct/100, 1))
	}
	return caps
}

func writeCSV(w io.Writer, rows []sim.Row) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"sequence", "capacity", "cache", "requests", "hits", "hit_ratio"})
	for _, r := range rows {
		cw.Write([]string{
			r.Sequence, strconv.Itoa(r.Capacity), r.Cache,
			strconv.FormatUint(r.Requests, 10), strconv.FormatUint(r.Hits, 10),
			strconv.FormatFloat(r.Ratio(), 'f', 6, 64),
		})
	}
	cw.Flush()
	return cw.Error()
}

// writeMarkdown prints one table per sequence: a row per cache, a column per
// capacity, hit ratios in percent.
func writeMarkdown(w io.Writer, seqs []sim.Sequence, rows []sim.Row, factories []adapter.Factory[uint64, uint64]) error {
	names := make([]string, 0, len(factories)+1)
	for _, f := range factories {
		names = append(names, f.Name)
	}
	names = append(names, sim.CeilingName)
	cell := make(map[string]float64, len(rows))
	key := func(seq string, capacity int, cache string) string {
		return seq + "\x00" + strconv.Itoa(capacity) + "\x00" + cache
	}
	for _, r := range rows {
		cell[key(r.Sequence, r.Capacity, r.Cache)] = r.Ratio()
	}
	for _, s := range seqs {
		fmt.Fprintf(w, "### %s (%d requests, %d distinct keys)\n\n| cache |", s.Name, len(s.Keys), workload.Unique(s.Keys))
		for _, c := range s.Capacities {
			fmt.Fprintf(w, " %d |", c)
		}
		fmt.Fprint(w, "\n|---|")
		for range s.Capacities {
			fmt.Fprint(w, "---:|")
		}
		fmt.Fprintln(w)
		for _, n := range names {
			fmt.Fprintf(w, "| %s |", n)
			for _, c := range s.Capacities {
				fmt.Fprintf(w, " %.2f |", 100*cell[key(s.Name, c, n)])
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, "Hit ratio in percent: hits / requests, demand fill on every miss; ceiling = unbounded cache (compulsory misses only).")
	return err
}
