package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunOnSmallTrace drives the command end to end on a tiny LIRS trace:
// a loop of 3 keys through an LRU of 2 (no hits) and of 4 (all but the 3
// compulsory misses hit).
func TestRunOnSmallTrace(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tiny.lirs"), []byte("1\n2\n3\n1\n2\n3\n1\n2\n3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	capacities["tiny"] = []int{2, 4}
	defer delete(capacities, "tiny")

	var out, errOut bytes.Buffer
	csvPath := filepath.Join(dir, "out.csv")
	err := run([]string{"-traces", dir, "-synthetic=false", "-caches", "lru", "-csv", csvPath}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v (stderr %s)", err, errOut.String())
	}
	md := out.String()
	for _, want := range []string{"### tiny (9 requests, 3 distinct keys)", "| lru | 0.00 | 66.67 |", "| ceiling | 66.67 | 66.67 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	csv, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sequence,capacity,cache,requests,hits,hit_ratio\n", "tiny,4,lru,9,6,0.666667\n", "tiny,2,lru,9,0,0.000000\n"} {
		if !strings.Contains(string(csv), want) {
			t.Errorf("CSV lacks %q:\n%s", want, csv)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-format", "xml"}, &out, &errOut); err == nil {
		t.Error("-format xml accepted")
	}
	if err := run([]string{"-caches", "nope", "-synthetic=false"}, &out, &errOut); err == nil {
		t.Error("-caches nope accepted")
	}
}
