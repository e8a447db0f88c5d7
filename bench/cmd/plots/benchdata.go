package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// point is the median of every run of one benchmark configuration.
type point struct {
	base   string             // "Throughput" (benchfmt drops the Benchmark prefix)
	keys   map[string]string  // sub-benchmark key=value parts
	procs  int                // GOMAXPROCS (1 when the name has no -N suffix)
	nsOp   float64            // median ns/op
	allocs float64            // median allocs/op (NaN-free: 0 when absent)
	units  map[string]float64 // median of every unit reported, custom metrics included
	runs   int
}

// readBench parses Go benchmark output (any number of -count runs) and
// returns the median of each configuration, in first-seen order.
func readBench(path string) ([]point, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type acc struct {
		p      point
		ns, al []float64
		units  map[string][]float64
	}
	var order []string
	byName := map[string]*acc{}
	r := benchfmt.NewReader(f, path)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue // syntax errors and unit lines: not ours to judge
		}
		ns, ok := res.Value("sec/op")
		if !ok {
			continue
		}
		full := res.Name.String()
		a := byName[full]
		if a == nil {
			p, err := parseName(res.Name)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			a = &acc{p: p, units: map[string][]float64{}}
			byName[full] = a
			order = append(order, full)
		}
		a.ns = append(a.ns, ns*1e9)
		if al, ok := res.Value("allocs/op"); ok {
			a.al = append(a.al, al)
		}
		for _, v := range res.Values {
			a.units[v.Unit] = append(a.units[v.Unit], v.Value)
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	out := make([]point, 0, len(order))
	for _, n := range order {
		a := byName[n]
		a.p.nsOp, a.p.allocs, a.p.runs = median(a.ns), median(a.al), len(a.ns)
		a.p.units = make(map[string]float64, len(a.units))
		for u, vs := range a.units {
			a.p.units[u] = median(vs)
		}
		out = append(out, a.p)
	}
	return out, nil
}

func parseName(n benchfmt.Name) (point, error) {
	base, parts := n.Parts()
	p := point{base: string(base), keys: map[string]string{}, procs: 1}
	for _, part := range parts {
		s := string(part)
		switch {
		case strings.HasPrefix(s, "-"):
			procs, err := strconv.Atoi(s[1:])
			if err != nil {
				return p, fmt.Errorf("benchmark %s: bad GOMAXPROCS suffix %q", n, s)
			}
			p.procs = procs
		default:
			k, v, ok := strings.Cut(strings.TrimPrefix(s, "/"), "=")
			if !ok {
				k, v = strings.TrimPrefix(s, "/"), ""
			}
			p.keys[k] = v
		}
	}
	return p, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// label joins the key=value parts of p except the named ones, sorted, e.g.
// "keys=string mix=90" — used to name series and groups.
func label(p point, except ...string) string {
	var parts []string
	for k, v := range p.keys {
		if !slices.Contains(except, k) {
			parts = append(parts, k+"="+v)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
