package workload

import "testing"

func TestScrambleIsInjectiveOnARange(t *testing.T) {
	seen := make(map[uint64]bool, 1<<16)
	for i := range uint64(1 << 16) {
		k := Scramble(i)
		if seen[k] {
			t.Fatalf("Scramble(%d) = %#x collides", i, k)
		}
		seen[k] = true
	}
}

func TestZipfWithScans(t *testing.T) {
	const keyspace, length, every, scan = 1000, 10_000, 1000, 300
	keys, err := ZipfWithScans(keyspace, 0.9, length, every, scan, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := length + (length/every-1)*scan; len(keys) != want {
		t.Fatalf("len = %d, want %d", len(keys), want)
	}
	zipfOnly := make(map[uint64]bool)
	for r := range uint64(keyspace) {
		zipfOnly[Scramble(r)] = true
	}
	scans := 0
	for _, k := range keys {
		if !zipfOnly[k] {
			scans++
		}
	}
	if want := (length/every - 1) * scan; scans != want {
		t.Fatalf("scan keys = %d, want %d", scans, want)
	}
	if u := Unique(keys); u > keyspace+scans {
		t.Fatalf("unique = %d, more than keyspace + scan keys", u)
	}
}

func TestStringsInterns(t *testing.T) {
	s := Strings([]uint64{5, 7, 5})
	if s[0] != s[2] || s[0] == s[1] {
		t.Fatalf("Strings = %q", s)
	}
}

func TestLoop(t *testing.T) {
	keys := Loop(3, 7)
	if keys[0] != keys[3] || keys[0] != keys[6] || Unique(keys) != 3 {
		t.Fatalf("Loop(3, 7) = %v", keys)
	}
}
