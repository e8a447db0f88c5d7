package aof

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func openLog(t *testing.T, dir string, p Policy) *Log {
	t.Helper()
	l, err := Open(Options{Dir: dir, Name: "appendonly.aof", Policy: p, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// records reads every record of the manifest's incr files, in order.
func records(t *testing.T, dir string) []string {
	t.Helper()
	m, err := ReadManifest(dir, "appendonly.aof")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range m.Incrs {
		b, err := os.ReadFile(filepath.Join(dir, in.Name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Scan(bytes.NewReader(b), func(u Unit) error {
			for _, c := range u.Cmds {
				out = append(out, string(bytes.Join(c, []byte(" "))))
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", in.Name, err)
		}
	}
	return out
}

func rec(i int) []byte {
	return AppendCommand(nil, []byte("SET"), fmt.Appendf(nil, "k%d", i), []byte("v"))
}

// TestLogGroupCommit appends from many goroutines under each policy (half
// of them Queue and Flush themselves, as event loops do): every
// Wait returns once its record is written (and, under Always, fsynced), and
// the file holds every record once, in Append order per goroutine.
func TestLogGroupCommit(t *testing.T) {
	for _, p := range []Policy{Always, EverySec, No} {
		t.Run("policy="+p.String(), func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, p)
			if !l.NeedsBase() {
				t.Fatal("a new directory needs a base")
			}
			if err := l.Rewrite(func(path string) error { return os.WriteFile(path, []byte("base"), 0o644) }); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 100 {
						var off int64
						if g%2 == 0 {
							off = l.Append(rec(g*1000 + i))
						} else { // as an event loop does
							off = l.Queue(rec(g*1000 + i))
							l.Flush(off)
						}
						if err := l.Wait(off); err != nil {
							t.Error(err)
							return
						}
						if p == Always && l.synced.Load() < off {
							t.Errorf("Wait(%d) returned with %d fsynced", off, l.synced.Load())
						}
					}
				}()
			}
			wg.Wait()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			got := records(t, dir)
			if len(got) != 800 {
				t.Fatalf("%d records, want 800", len(got))
			}
			next := map[int]int{} // per goroutine, the next record due
			for _, r := range got {
				var n int
				if _, err := fmt.Sscanf(r, "SET k%d v", &n); err != nil {
					t.Fatalf("record %q: %v", r, err)
				}
				if g, i := n/1000, n%1000; i != next[g] {
					t.Fatalf("goroutine %d: record %d where %d was due", g, i, next[g])
				}
				next[n/1000]++
			}
			// Reopen: appends go on in the same incr file.
			l = openLog(t, dir, p)
			l.Wait(l.Append(rec(-1)))
			l.Close()
			if got := records(t, dir); len(got) != 801 || got[800] != "SET k-1 v" {
				t.Fatalf("after reopen: %d records, last %q", len(got), got[len(got)-1])
			}
		})
	}
}

// TestLogQueue: Queued records wait for a Wait (or Kick) to be written,
// the Wait that needs them writes and, under Always, fsyncs them, and Flush
// does so in the caller.
func TestLogQueue(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Always)
	if err := l.Rewrite(func(path string) error { return os.WriteFile(path, []byte("base"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	written, synced := l.written.Load(), l.synced.Load()
	var off int64
	for i := range 50 {
		off = l.Queue(rec(i))
	}
	if l.written.Load() != written {
		t.Fatal("Queue started a write")
	}
	if err := l.Wait(off); err != nil {
		t.Fatal(err)
	}
	if l.synced.Load() < off {
		t.Fatalf("Wait(%d) returned with %d fsynced (from %d)", off, l.synced.Load(), synced)
	}
	// Flush writes and fsyncs in the caller, before it returns.
	off = l.Queue(rec(50))
	l.Flush(off)
	if l.written.Load() < off || l.synced.Load() < off {
		t.Fatalf("Flush(%d) returned with %d written, %d fsynced", off, l.written.Load(), l.synced.Load())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got := records(t, dir)
	if len(got) != 51 || got[0] != "SET k0 v" || got[50] != "SET k50 v" {
		t.Fatalf("%d records: %q", len(got), got)
	}
}

// TestLogRewrite: records appended before a rewrite are in the files it
// replaces, those after in the new incr file; a failed rewrite leaves a
// manifest that still lists every record.
func TestLogRewrite(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Always)
	defer l.Close()
	save := func(path string) error { return os.WriteFile(path, []byte("base"), 0o644) }
	if err := l.Rewrite(save); err != nil {
		t.Fatal(err)
	}
	l.Wait(l.Append(rec(1)))
	boom := errors.New("disk full")
	if err := l.Rewrite(func(string) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed rewrite: %v", err)
	}
	l.Wait(l.Append(rec(2)))
	if got := records(t, dir); len(got) != 2 {
		t.Fatalf("after a failed rewrite: records %q, want both", got)
	}
	m := l.Manifest()
	if m.Base == nil || m.Base.Seq != 1 || len(m.Incrs) != 2 {
		t.Fatalf("after a failed rewrite: manifest\n%s", m.Marshal())
	}
	if err := l.Rewrite(save); err != nil {
		t.Fatal(err)
	}
	l.Wait(l.Append(rec(3)))
	if got := records(t, dir); len(got) != 1 || got[0] != "SET k3 v" {
		t.Fatalf("after a rewrite: records %q, want only k3", got)
	}
	m = l.Manifest()
	if m.Base.Seq != 2 || len(m.Incrs) != 1 || m.Incrs[0].Seq != 3 {
		t.Fatalf("after a rewrite: manifest\n%s", m.Marshal())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files %v; want the base, one incr and the manifest", names)
	}
	if st := l.Stats(); st.BaseSize != 4 || st.Size != 4+int64(len(rec(3))) {
		t.Fatalf("stats %+v", st)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Always)
	l.Rewrite(func(path string) error { return os.WriteFile(path, []byte("base"), 0o644) })
	l.Wait(l.Append(rec(1), rec(2)))
	l.Close()
	var out bytes.Buffer
	if err := Check(dir, CheckOptions{Out: &out}); err != nil {
		t.Fatalf("intact AOF: %v\n%s", err, out.String())
	}
	incr := filepath.Join(dir, l.Manifest().Incrs[0].Name)
	full, _ := os.ReadFile(incr)
	os.WriteFile(incr, full[:len(full)-3], 0o644)
	if err := Check(dir, CheckOptions{Out: &out}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("torn AOF: %v", err)
	}
	if err := Check(dir, CheckOptions{Out: &out, Fix: true}); err != nil {
		t.Fatalf("--fix: %v", err)
	}
	if b, _ := os.ReadFile(incr); len(b) != len(rec(1)) {
		t.Fatalf("fixed file has %d bytes, want %d", len(b), len(rec(1)))
	}
	if err := Check(dir, CheckOptions{Out: &out}); err != nil {
		t.Fatalf("after --fix: %v", err)
	}
}
