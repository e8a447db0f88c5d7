package policy

// A small hit-ratio harness for iterating on the policies: it replays a
// trace from /work/shared/traces (or $SHARDCACHE_TRACES) through policy
// instances with demand fill, one goroutine, exactly as the shard drives
// them (Insert, then Victim/Remove until within capacity). Keys are hashed
// with the engine's integer mixer, and the "shards" variant splits the
// capacity over 64 instances picked by the low hash bits, like the engine.
//
//	go test ./policy -run TestTraceTable -v                       # quick: gli, multi2, web12
//	SHARDCACHE_TRACE_ALL=1 go test ./policy -run TestTraceTable -v -timeout 30m  # every trace

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shardcache/shardcache/internal/mix"
)

// traceDir returns the traces directory, or "" if there is none.
func traceDir() string {
	d := os.Getenv("SHARDCACHE_TRACES")
	if d == "" {
		d = "/work/shared/traces"
	}
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

var (
	traceMu    sync.Mutex
	traceCache = map[string][]uint64{}
)

// loadTrace reads a trace by file name, decoding it by its extension:
// .arc.gz (start n _ _ lines expanded to n keys), .lirs.gz (one key per
// line; blank lines and "*" skipped), .cache2k.xz (big-endian int32,
// decompressed with the xz command). It skips t if the trace or the xz
// command is missing.
func loadTrace(t testing.TB, name string) []uint64 {
	t.Helper()
	traceMu.Lock()
	defer traceMu.Unlock()
	if keys, ok := traceCache[name]; ok {
		return keys
	}
	dir := traceDir()
	if dir == "" {
		t.Skip("no trace directory")
	}
	path := filepath.Join(dir, name)
	var raw []byte
	var err error
	switch {
	case strings.HasSuffix(name, ".gz"):
		var f *os.File
		if f, err = os.Open(path); err != nil {
			t.Skip(err)
		}
		defer f.Close()
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(f); err != nil {
			t.Fatal(err)
		}
		raw, err = io.ReadAll(zr)
	case strings.HasSuffix(name, ".xz"):
		if _, err := exec.LookPath("xz"); err != nil {
			t.Skip("no xz command")
		}
		raw, err = exec.Command("xz", "-dc", path).Output()
	}
	if err != nil {
		t.Fatal(err)
	}
	var keys []uint64
	switch {
	case strings.HasSuffix(name, ".arc.gz"):
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 2 {
				continue
			}
			start, err1 := strconv.ParseUint(f[0], 10, 64)
			n, err2 := strconv.ParseUint(f[1], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: bad line %q", name, sc.Text())
			}
			for i := range n {
				keys = append(keys, start+i)
			}
		}
	case strings.HasSuffix(name, ".lirs.gz"):
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			s := strings.TrimSpace(sc.Text())
			if s == "" || s == "*" {
				continue
			}
			k, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("%s: bad line %q", name, s)
			}
			keys = append(keys, uint64(k))
		}
	case strings.HasSuffix(name, ".cache2k.xz"):
		for i := 0; i+4 <= len(raw); i += 4 {
			keys = append(keys, uint64(binary.BigEndian.Uint32(raw[i:])))
		}
	}
	traceCache[name] = keys
	return keys
}

// simPolicy names a policy constructor for the harness.
type simPolicy struct {
	name string
	new  func(capacity int) Policy[uint64]
}

var simPolicies = []simPolicy{
	{"lru", func(int) Policy[uint64] { return NewLRU[uint64]() }},
	{"arc", func(c int) Policy[uint64] { return NewARC[uint64](c) }},
	{"wtinylfu", func(c int) Policy[uint64] { return NewWTinyLFU[uint64](c) }},
	{"arc+tinylfu", func(c int) Policy[uint64] { return NewARCTinyLFU[uint64](c) }},
}

// replay runs keys through shards instances of a policy whose capacities
// sum to capacity, with demand fill, and returns the hit ratio.
func replay(keys []uint64, capacity, shards int, newPolicy func(int) Policy[uint64]) float64 {
	type shard struct {
		p     Policy[uint64]
		nodes map[uint64]*Node[uint64]
		cap   int
	}
	ss := make([]shard, shards)
	for i := range ss {
		c := capacity / shards
		if i < capacity%shards {
			c++
		}
		ss[i] = shard{p: newPolicy(c), nodes: make(map[uint64]*Node[uint64], c+1), cap: c}
	}
	hits := 0
	for _, k := range keys {
		h := mix.Uint64(k)
		s := &ss[h&uint64(shards-1)]
		if n, ok := s.nodes[k]; ok {
			hits++
			s.p.Touch(n)
			continue
		}
		n := newKeyed(k, h)
		s.nodes[k] = n
		s.p.Insert(n)
		for s.p.Len() > s.cap {
			vn, _ := s.p.Victim()
			v := keyOf(vn)
			s.p.Remove(s.nodes[v], true)
			delete(s.nodes, v)
		}
	}
	return float64(hits) / float64(len(keys))
}

// simTrace is a trace with the two capacities the table reports: a small
// one and one near its working set.
type simTrace struct {
	file       string
	capacities [2]int
	big        bool // slow: only with SHARDCACHE_TRACE_ALL
}

var simTraces = []simTrace{
	{"gli.lirs.gz", [2]int{250, 1500}, false},
	{"multi2.lirs.gz", [2]int{500, 3000}, false},
	{"web12.cache2k.xz", [2]int{500, 4000}, false},
	{"loop.lirs.gz", [2]int{250, 750}, true},
	{"oltp.arc.gz", [2]int{1000, 20000}, true},
	{"orm-busy.cache2k.xz", [2]int{1000, 20000}, true},
	{"p3.arc.gz", [2]int{16384, 262144}, true},
}

// TestTraceTable prints the hit ratio of every policy on every trace at two
// capacities, with one instance and with 64 (like the engine's shards).
func TestTraceTable(t *testing.T) {
	all := os.Getenv("SHARDCACHE_TRACE_ALL") != ""
	if !all && testing.Short() {
		t.Skip("-short")
	}
	if traceDir() == "" {
		t.Skip("no traces")
	}
	if !testing.Verbose() && !all {
		t.Skip("prints a table: run with -v")
	}
	var b strings.Builder
	b.WriteString("| trace | capacity |")
	for _, sp := range simPolicies {
		fmt.Fprintf(&b, " %s | %s/64 |", sp.name, sp.name)
	}
	b.WriteString("\n|---|---:|" + strings.Repeat("---:|---:|", len(simPolicies)) + "\n")
	for _, tr := range simTraces {
		if tr.big && !all {
			continue
		}
		keys := loadTrace(t, tr.file)
		for _, c := range tr.capacities {
			res := make([]float64, 2*len(simPolicies))
			var wg sync.WaitGroup
			for i, sp := range simPolicies {
				wg.Go(func() { res[2*i] = replay(keys, c, 1, sp.new) })
				wg.Go(func() { res[2*i+1] = replay(keys, c, 64, sp.new) })
			}
			wg.Wait()
			fmt.Fprintf(&b, "| %s | %d |", strings.Split(tr.file, ".")[0], c)
			for _, r := range res {
				fmt.Fprintf(&b, " %.2f |", 100*r)
			}
			b.WriteString("\n")
		}
	}
	t.Log("\n" + b.String())
}

// TestShardSplitTable prints, for small capacities of the traces, the hit
// ratio of each policy when the capacity is split over 1 to 64 instances:
// the measurement behind the engine's minimum of 128 entries per default
// shard (minShardEntries in the root package).
//
//	SHARDCACHE_TRACE_ALL=1 go test ./policy -run TestShardSplitTable -v
func TestShardSplitTable(t *testing.T) {
	if os.Getenv("SHARDCACHE_TRACE_ALL") == "" || !testing.Verbose() {
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
		keys := loadTrace(t, r.file)
		for _, sp := range simPolicies[:3] {
			res := make([]float64, len(splits))
			var wg sync.WaitGroup
			for i, n := range splits {
				wg.Go(func() { res[i] = replay(keys, r.c, n, sp.new) })
			}
			wg.Wait()
			fmt.Fprintf(&b, "| %s | %d | %s |", strings.Split(r.file, ".")[0], r.c, sp.name)
			for _, x := range res {
				fmt.Fprintf(&b, " %.2f |", 100*x)
			}
			b.WriteString("\n")
		}
	}
	t.Log("\n" + b.String())
}

// TestTraceLRUSanity checks the harness against the ARC paper's LRU figure:
// 32.83% on OLTP at 1000 entries.
func TestTraceLRUSanity(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	keys := loadTrace(t, "oltp.arc.gz")
	got := replay(keys, 1000, 1, func(int) Policy[uint64] { return NewLRU[uint64]() })
	if s := fmt.Sprintf("%.2f", 100*got); s != "32.83" {
		t.Fatalf("LRU(1000) on oltp = %s%%, want 32.83%%", s)
	}
}
