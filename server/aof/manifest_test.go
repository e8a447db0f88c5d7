package aof

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestManifestRoundTrip(t *testing.T) {
	m := &Manifest{
		Base:    &File{Name: BaseName("appendonly.aof", 3), Seq: 3, Type: TypeBase},
		Incrs:   []File{{IncrName("appendonly.aof", 4), 4, TypeIncr}, {IncrName("appendonly.aof", 5), 5, TypeIncr}},
		History: []File{{IncrName("appendonly.aof", 2), 2, TypeHistory}},
	}
	dir := t.TempDir()
	if err := WriteManifest(dir, "appendonly.aof", m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(dir, "appendonly.aof")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Marshal()) != string(m.Marshal()) {
		t.Fatalf("read back\n%s\nwant\n%s", got.Marshal(), m.Marshal())
	}
	if got.nextSeq(TypeIncr) != 6 || got.nextSeq(TypeBase) != 4 {
		t.Fatalf("next seqs %d %d", got.nextSeq(TypeIncr), got.nextSeq(TypeBase))
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".tmp*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if _, err := ReadManifest(t.TempDir(), "appendonly.aof"); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("missing manifest: %v", err)
	}
}

func TestManifestMalformed(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"empty", "", "lists no base and no incr file"},
		{"odd fields", "file a.aof seq\n", "line 1: odd number of fields"},
		{"unknown type", "file a seq 1 type x\n", "line 1: unknown type"},
		{"bad seq", "file a seq -1 type i\n", "line 1: bad seq"},
		{"missing key", "file a type i\n", "line 1: needs file, seq and type"},
		{"two bases", "file a seq 1 type b\nfile b seq 2 type b\n", "line 2: more than one base"},
		{"out of order", "file a seq 2 type i\nfile b seq 1 type i\n", "line 2: incr files out of order"},
		{"path", "file ../x seq 1 type i\n", "is a path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "x.manifest"), []byte(tc.text), 0o644)
			_, err := ReadManifest(dir, "x")
			var me *ManifestError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.manifest") {
				t.Fatalf("err = %v; want a ManifestError naming the file and %q", err, tc.want)
			}
		})
	}
}
