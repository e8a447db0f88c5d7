package main

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// throughputCharts draws one grouped bar chart per workload family
// (keys, zipf, GOMAXPROCS, par): a group of bars per mix, a bar per cache,
// height in million operations per second (1e3 / ns/op).
func throughputCharts(points []point, outDir string) ([]string, error) {
	type family struct {
		keys, zipf, par string
		procs           int
	}
	fams := map[family][]point{}
	var order []family
	for _, p := range points {
		if p.base != "Throughput" {
			continue
		}
		f := family{p.keys["keys"], p.keys["zipf"], p.keys["par"], p.procs}
		if _, ok := fams[f]; !ok {
			order = append(order, f)
		}
		fams[f] = append(fams[f], p)
	}
	var files []string
	for _, f := range order {
		ps := fams[f]
		caches := uniq(ps, func(p point) string { return p.keys["cache"] })
		mixes := uniq(ps, func(p point) string { return p.keys["mix"] })
		slices.SortStableFunc(mixes, func(a, b string) int { return cmp.Compare(atoi(b), atoi(a)) })
		p := plot.New()
		p.Title.Text = fmt.Sprintf("Throughput: keys=%s zipf=%s GOMAXPROCS=%d par=%s (higher is better)", f.keys, f.zipf, f.procs, f.par)
		p.Y.Label.Text = "M ops/s"
		p.X.Label.Text = "read % (mix)"
		err := groupedBars(p, mixes, caches, func(c, m string) float64 {
			for _, q := range ps {
				if q.keys["cache"] == c && q.keys["mix"] == m && q.nsOp > 0 {
					return 1e3 / q.nsOp
				}
			}
			return 0
		})
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("throughput_%s_zipf%s_cpu%d_par%s.png", f.keys, f.zipf, f.procs, f.par)
		if err := p.Save(22*vg.Centimeter, 12*vg.Centimeter, filepath.Join(outDir, name)); err != nil {
			return nil, err
		}
		files = append(files, name)
	}
	return files, nil
}

// policyCharts draws BenchmarkPolicies' results, one chart per GOMAXPROCS:
// a group of bars per mix, a bar per policy other than LRU, height the
// policy's throughput relative to LRU's (see relativeToLRU), with a line
// at 1 (LRU) and a dashed one at 0.9, the floor the policies aim at for Get.
func policyCharts(points []point, outDir string) ([]string, error) {
	rel := relativeToLRU(points)
	var files []string
	for _, procs := range uniqBy(rel, func(r relThroughput) string { return strconv.Itoa(r.procs) }) {
		var mine []relThroughput
		for _, r := range rel {
			if strconv.Itoa(r.procs) == procs {
				mine = append(mine, r)
			}
		}
		mixes := uniqBy(mine, func(r relThroughput) string { return r.mix })
		slices.SortStableFunc(mixes, func(a, b string) int { return cmp.Compare(atoi(b), atoi(a)) })
		pl := plot.New()
		pl.Title.Text = fmt.Sprintf("Throughput relative to LRU, GOMAXPROCS=%s (geometric mean over keys, zipf, par; higher is better)", procs)
		pl.Y.Label.Text = "LRU ns/op ÷ policy ns/op"
		pl.X.Label.Text = "read % (mix)"
		err := groupedBars(pl, mixes, uniqBy(mine, func(r relThroughput) string { return r.cache }), func(c, m string) float64 {
			for _, r := range mine {
				if r.cache == c && r.mix == m {
					return r.ratio
				}
			}
			return 0
		})
		if err != nil {
			return nil, err
		}
		for _, ref := range []struct {
			y     float64
			label string
		}{{1, "1 (as fast as LRU)"}, {0.9, "0.9 (target floor)"}} {
			l, err := plotter.NewLine(plotter.XYs{{X: pl.X.Min, Y: ref.y}, {X: pl.X.Max, Y: ref.y}})
			if err != nil {
				return nil, err
			}
			if ref.y != 1 {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			pl.Add(l)
			pl.Legend.Add(ref.label, l)
		}
		name := fmt.Sprintf("policies_cpu%s.png", procs)
		if err := pl.Save(22*vg.Centimeter, 12*vg.Centimeter, filepath.Join(outDir, name)); err != nil {
			return nil, err
		}
		files = append(files, name)
	}
	return files, nil
}

// relThroughput is one policy's throughput relative to LRU on one mix at
// one GOMAXPROCS.
type relThroughput struct {
	procs      int
	cache, mix string
	ratio      float64 // geometric mean of LRU ns/op ÷ the policy's ns/op
	workloads  int     // how many workloads (keys, zipf, par) the mean covers
}

// relativeToLRU pairs every BenchmarkPolicies point of a policy with LRU's
// (cache=shardcache) point of the same workload and GOMAXPROCS, and returns
// per policy, mix and GOMAXPROCS the geometric mean of LRU's median ns/op
// over the policy's, in first-seen order. Workloads LRU lacks are left out.
func relativeToLRU(points []point) []relThroughput {
	const lru = "shardcache"
	type workload struct {
		procs                int
		keys, zipf, mix, par string
	}
	wl := func(p point) workload {
		return workload{p.procs, p.keys["keys"], p.keys["zipf"], p.keys["mix"], p.keys["par"]}
	}
	base := map[workload]float64{}
	for _, p := range points {
		if p.base == "Policies" && p.keys["cache"] == lru && p.nsOp > 0 {
			base[wl(p)] = p.nsOp
		}
	}
	type group struct {
		procs      int
		cache, mix string
	}
	sums := map[group]*relThroughput{}
	var out []*relThroughput
	for _, p := range points {
		b, ok := base[wl(p)]
		if p.base != "Policies" || p.keys["cache"] == lru || p.nsOp <= 0 || !ok {
			continue
		}
		g := group{p.procs, p.keys["cache"], p.keys["mix"]}
		r := sums[g]
		if r == nil {
			r = &relThroughput{procs: g.procs, cache: g.cache, mix: g.mix}
			sums[g] = r
			out = append(out, r)
		}
		r.ratio += math.Log(b / p.nsOp) // a sum of logs until the end
		r.workloads++
	}
	res := make([]relThroughput, len(out))
	for i, r := range out {
		res[i] = *r
		res[i].ratio = math.Exp(r.ratio / float64(r.workloads))
	}
	return res
}

// memoryChart draws BenchmarkMemory's B/entry: a group of bars per key
// type, a bar per cache.
func memoryChart(points []point, outDir string) ([]string, error) {
	var ps []point
	for _, p := range points {
		if _, ok := p.units["B/entry"]; ok && p.base == "Memory" {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "Heap per entry of a full cache of 65,536 entries (lower is better)"
	p.Y.Label.Text = "bytes per entry"
	p.X.Label.Text = "key type"
	keys := uniq(ps, func(q point) string { return q.keys["keys"] })
	caches := uniq(ps, func(q point) string { return q.keys["cache"] })
	err := groupedBars(p, keys, caches, func(c, k string) float64 {
		for _, q := range ps {
			if q.keys["cache"] == c && q.keys["keys"] == k {
				return q.units["B/entry"]
			}
		}
		return 0
	})
	if err != nil {
		return nil, err
	}
	const name = "memory.png"
	if err := p.Save(22*vg.Centimeter, 12*vg.Centimeter, filepath.Join(outDir, name)); err != nil {
		return nil, err
	}
	return []string{name}, nil
}

// groupedBars adds to p a group of bars per group, a bar per cache in its
// colour, of height value(cache, group) (0: no bar), with a legend on top
// and headroom for it.
func groupedBars(p *plot.Plot, groups, caches []string, value func(cache, group string) float64) error {
	// Each group gets an equal slot of the ~560pt axis; its bars fill 80%.
	w := vg.Points(min(24, 450/float64(len(groups)*max(len(caches), 1))))
	top := 0.0
	for i, c := range caches {
		vals := make(plotter.Values, len(groups))
		for j, g := range groups {
			vals[j] = value(c, g)
			top = max(top, vals[j])
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		bars.Color = cacheColor(c)
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(caches)-1)/2)
		p.Add(bars)
		p.Legend.Add(c, bars)
	}
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, top*1.5 // headroom for the legend
	p.NominalX(groups...)
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	p.Add(hgrid())
	return nil
}

// hitRatioCharts draws hit ratio against capacity (log scale), one line per
// cache, one chart per sequence, from cmd/hitratio's CSV.
func hitRatioCharts(path, outDir string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) < 1 || strings.Join(recs[0], ",") != "sequence,capacity,cache,requests,hits,hit_ratio" {
		return nil, fmt.Errorf("%s: not a hitratio CSV (header %v)", path, recs[:min(1, len(recs))])
	}
	type row struct {
		seq, cache string
		cap        int
		ratio      float64
	}
	var rows []row
	for _, r := range recs[1:] {
		c, err1 := strconv.Atoi(r[1])
		h, err2 := strconv.ParseFloat(r[5], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: bad row %v", path, r)
		}
		rows = append(rows, row{r[0], r[2], c, h})
	}
	var files []string
	seqs := uniqBy(rows, func(r row) string { return r.seq })
	for _, s := range seqs {
		p := plot.New()
		p.Title.Text = "Hit ratio: " + s
		p.X.Label.Text = "capacity (entries, log scale)"
		p.Y.Label.Text = "hit ratio (%)"
		p.X.Scale = plot.LogScale{}
		var mine []row
		for _, r := range rows {
			if r.seq == s {
				mine = append(mine, r)
			}
		}
		for i, c := range uniqBy(mine, func(r row) string { return r.cache }) {
			var xys plotter.XYs
			for _, r := range mine {
				if r.cache == c {
					xys = append(xys, plotter.XY{X: float64(r.cap), Y: 100 * r.ratio})
				}
			}
			line, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, err
			}
			line.Color, pts.Color = cacheColor(c), cacheColor(c)
			pts.Shape = plotutil.Shape(i)
			if c == "ceiling" {
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(line, pts)
			p.Legend.Add(c, line, pts)
		}
		// Hit ratios rise with capacity, so the bottom right is the emptiest.
		p.Legend.Top, p.Legend.Left = false, false
		p.Y.Min, p.Y.Max = 0, 100
		var ticks []plot.Tick
		for _, r := range mine {
			if r.cache == mine[0].cache {
				ticks = append(ticks, plot.Tick{Value: float64(r.cap), Label: strconv.Itoa(r.cap)})
			}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.Add(plotter.NewGrid())
		name := "hitratio_" + s + ".png"
		if err := p.Save(18*vg.Centimeter, 12*vg.Centimeter, filepath.Join(outDir, name)); err != nil {
			return nil, err
		}
		files = append(files, name)
	}
	return files, nil
}

// shardCharts draws ns/op against the shards=N part of the root package's
// benchmarks in one chart, one line per benchmark (and any other key=value
// parts and GOMAXPROCS), x ticks at the shard counts measured.
func shardCharts(points []point, outDir string) ([]string, error) {
	var ps []point
	for _, p := range points {
		if _, ok := p.keys["shards"]; ok {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil, nil
	}
	series := func(q point) string {
		return strings.Join(strings.Fields(fmt.Sprintf("%s %s GOMAXPROCS=%d", q.base, label(q, "shards"), q.procs)), " ")
	}
	p := plot.New()
	p.Title.Text = "ns/op by shard count (lower is better)"
	p.X.Label.Text = "shards (log scale)"
	p.Y.Label.Text = "ns/op"
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	top := 0.0
	for _, v := range uniq(ps, func(q point) string { return q.keys["shards"] }) {
		ticks = append(ticks, plot.Tick{Value: float64(atoi(v)), Label: v})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	for i, s := range uniq(ps, series) {
		var xys plotter.XYs
		for _, q := range ps {
			if series(q) == s {
				xys = append(xys, plotter.XY{X: float64(atoi(q.keys["shards"])), Y: q.nsOp})
				top = max(top, q.nsOp)
			}
		}
		slices.SortFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		line, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		line.Color, pts.Color, pts.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
		line.Dashes = plotutil.Dashes(i)
		p.Add(line, pts)
		p.Legend.Add(s, line, pts)
	}
	p.Y.Min, p.Y.Max = 0, top*1.4 // headroom for the legend
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	const name = "shards.png"
	if err := p.Save(18*vg.Centimeter, 12*vg.Centimeter, filepath.Join(outDir, name)); err != nil {
		return nil, err
	}
	return []string{name}, nil
}

// palette gives each cache one colour in every chart (Tableau 10).
var palette = map[string]color.RGBA{
	"shardcache":   {0xd6, 0x27, 0x28, 0xff}, // red: the engine under test
	"shardcache-1": {0xff, 0x98, 0x96, 0xff},
	"otter":        {0x1f, 0x77, 0xb4, 0xff},
	"ristretto":    {0xff, 0x7f, 0x0e, 0xff},
	"theine":       {0x2c, 0xa0, 0x2c, 0xff},
	"go-cache":     {0x94, 0x67, 0xbd, 0xff},
	"lru":          {0x8c, 0x56, 0x4b, 0xff},
	"arc":          {0xe3, 0x77, 0xc2, 0xff},
	"sc-arc":       {0xf7, 0xb6, 0xd2, 0xff},
	"sc-arc-1":     {0xbc, 0xbd, 0x22, 0xff},
	"sc-tinylfu":   {0xc4, 0x9c, 0x94, 0xff},
	"sc-tinylfu-1": {0xff, 0xbb, 0x78, 0xff},
	"map":          {0x17, 0xbe, 0xcf, 0xff},
	"ceiling":      {0x7f, 0x7f, 0x7f, 0xff},
}

func cacheColor(name string) color.Color {
	if c, ok := palette[name]; ok {
		return c
	}
	return color.RGBA{0x98, 0xdf, 0x8a, 0xff}
}

// hgrid draws horizontal grid lines only (vertical ones would cut the bars).
func hgrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	return g
}

// uniq returns the distinct values of key over ps in first-seen order.
func uniq(ps []point, key func(point) string) []string { return uniqBy(ps, key) }

func uniqBy[T any](xs []T, key func(T) string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if k := key(x); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
