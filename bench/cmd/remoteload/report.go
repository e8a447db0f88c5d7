package main

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
)

// summary is one mode and op's medians across rounds.
type summary struct {
	keysPerSec, callsPerSec, p50, p99, cpuPerKey, selfPerKey float64
	errors, misses                                           uint64
}

func summarize(results []result, mode string, o op) (summary, bool) {
	var s summary
	var kps, cps, p50, p99, cpu, self []float64
	for i := range results {
		r := &results[i]
		if r.mode != mode || r.op != o {
			continue
		}
		kps = append(kps, r.keysPerSec())
		cps = append(cps, r.callsPerSec())
		p50 = append(p50, us(r.h.quantile(0.50)))
		p99 = append(p99, us(r.h.quantile(0.99)))
		if r.keys > 0 {
			cpu = append(cpu, us(r.serverCP)/float64(r.keys))
			self = append(self, us(r.clientCP)/float64(r.keys))
		}
		s.errors += r.errors
		s.misses += r.misses
	}
	if len(kps) == 0 {
		return s, false
	}
	s.keysPerSec, s.callsPerSec = median(kps), median(cps)
	s.p50, s.p99, s.cpuPerKey, s.selfPerKey = median(p50), median(p99), median(cpu), median(self)
	return s, true
}

// report writes the medians table, the two target checks and every
// round's figures, all Markdown.
func report(w io.Writer, c config, ms []*mode, results []result, haveCPU bool) {
	fmt.Fprintf(w, "# remoteload\n\n")
	fmt.Fprintf(w, "%d callers, %d keys preloaded, %d-byte values, batch %d, %d gRPC connection(s), %v per phase, %d rounds, GOMAXPROCS %d (client), %s/%s, %s\n\n",
		c.callers, c.keys, c.valueSize, c.batch, c.grpcConns, c.duration, c.rounds, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if c.rate > 0 {
		fmt.Fprintf(w, "Paced: %s calls/s of all callers together, each caller on a fixed schedule; a call delayed by the one before it counts its latency from its scheduled time, so that the delay counts (no coordinated omission).\n\n", thousands(c.rate))
	} else {
		fmt.Fprintf(w, "Closed loop: each caller sends its next call when the last one returns, as fast as the server answers.\n\n")
	}
	fmt.Fprintf(w, "keys/s counts keys (a pipelined or batched call of %d counts %d); calls/s and the latencies are per call, so per round trip of %d keys in resp/pipelined and grpc/batched.", c.batch, c.batch, c.batch)
	if haveCPU {
		fmt.Fprintf(w, " srv CPU µs/key is the server process's user+system CPU time over the phase divided by its keys, load CPU µs/key the same for this load generator (both from /proc, 10 ms ticks); at 2 CPUs, the two sum to at most 2 s per s.")
	}
	fmt.Fprintf(w, "\n\n## Medians across %d rounds\n\n", c.rounds)
	fmt.Fprintf(w, "| mode | op | keys/s | calls/s | p50 µs/call | p99 µs/call |")
	if haveCPU {
		fmt.Fprintf(w, " srv CPU µs/key | load CPU µs/key |")
	}
	fmt.Fprintf(w, " errors | misses |\n|---|---|---:|---:|---:|---:|")
	if haveCPU {
		fmt.Fprintf(w, "---:|---:|")
	}
	fmt.Fprintf(w, "---:|---:|\n")
	for _, o := range []op{opGet, opSet} {
		for _, m := range ms {
			s, ok := summarize(results, m.name, o)
			if !ok {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |", m.name, o, thousands(s.keysPerSec), thousands(s.callsPerSec), dec(s.p50), dec(s.p99))
			if haveCPU {
				fmt.Fprintf(w, " %.2f | %.2f |", s.cpuPerKey, s.selfPerKey)
			}
			fmt.Fprintf(w, " %d | %d |\n", s.errors, s.misses)
		}
	}

	fmt.Fprintf(w, "\n## Targets\n\n")
	for _, o := range []op{opGet, opSet} {
		b, okB := summarize(results, "grpc/batched", o)
		p, okP := summarize(results, "resp/pipelined", o)
		if okB && okP && p.keysPerSec > 0 {
			ratio := b.keysPerSec / p.keysPerSec
			fmt.Fprintf(w, "- %s: grpc/batched keys/s ÷ resp/pipelined keys/s = %.2f (target ≥ 0.5: %s)\n", o, ratio, met(ratio >= 0.5))
		}
	}
	for _, o := range []op{opGet, opSet} {
		if u, ok := summarize(results, "grpc/unary", o); ok {
			load := "closed loop"
			if c.rate > 0 {
				load = thousands(c.rate) + " calls/s"
			}
			fmt.Fprintf(w, "- %s: grpc/unary p99 = %s µs at %d callers, %s (target < 1000 µs: %s)\n", o, dec(u.p99), c.callers, load, met(u.p99 < 1000))
		}
	}

	fmt.Fprintf(w, "\n## Every round\n\n")
	fmt.Fprintf(w, "| round | mode | op | keys/s | calls/s | p50 µs | p99 µs | max µs |")
	if haveCPU {
		fmt.Fprintf(w, " srv CPU µs/key | load CPU µs/key |")
	}
	fmt.Fprintf(w, " errors |\n|---:|---|---|---:|---:|---:|---:|---:|")
	if haveCPU {
		fmt.Fprintf(w, "---:|---:|")
	}
	fmt.Fprintf(w, "---:|\n")
	for i := range results {
		r := &results[i]
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s |", r.round, r.mode, r.op,
			thousands(r.keysPerSec()), thousands(r.callsPerSec()),
			dec(us(r.h.quantile(0.5))), dec(us(r.h.quantile(0.99))), dec(us(r.h.quantile(1))))
		if haveCPU {
			cpu, self := 0.0, 0.0
			if r.keys > 0 {
				cpu, self = us(r.serverCP)/float64(r.keys), us(r.clientCP)/float64(r.keys)
			}
			fmt.Fprintf(w, " %.2f | %.2f |", cpu, self)
		}
		fmt.Fprintf(w, " %d |\n", r.errors)
	}
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// dec formats a latency with three significant digits or so.
func dec(x float64) string {
	switch {
	case x >= 100:
		return thousands(x)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// thousands formats x rounded to an integer with commas: 1,234,567.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}
