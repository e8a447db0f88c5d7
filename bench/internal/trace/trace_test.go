package trace

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ulikunitz/xz"
)

func TestReadARC(t *testing.T) {
	// Ranges expand to consecutive blocks; fields 3 and 4 are ignored.
	in := "5 1 0 0\n100 3 7 1\n\n9 2 0 2\n"
	got, err := ReadARC(bytes.NewBufferString(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{5, 100, 101, 102, 9, 10}; !slices.Equal(got, want) {
		t.Fatalf("ReadARC = %v, want %v", got, want)
	}
	for _, bad := range []string{"5\n", "x 1 0 0\n", "5 0 0 0\n", "5 -1 0 0\n", "5 99999999 0 0\n"} {
		if _, err := ReadARC(bytes.NewBufferString(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("ReadARC(%q) error = %v, want ErrFormat", bad, err)
		}
	}
}

func TestReadLIRS(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"LF", "3\n1\n*\n4\n\n"},
		{"CRLF", "3\r\n1\r\n*\r\n4\r\n"},
		{"no final newline", "  3\n1 \n*\n4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadLIRS(bytes.NewBufferString(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if want := []uint64{3, 1, 4}; !slices.Equal(got, want) {
				t.Fatalf("ReadLIRS = %v, want %v", got, want)
			}
		})
	}
	if _, err := ReadLIRS(bytes.NewBufferString("3\n**\n")); !errors.Is(err, ErrFormat) {
		t.Errorf("ReadLIRS(**) error = %v, want ErrFormat", err)
	}
}

func cache2kSample() ([]byte, []uint64) {
	vals := []int32{0, 1, -1, 0x7fffffff, -0x80000000, 123456}
	var b bytes.Buffer
	want := make([]uint64, len(vals))
	for i, v := range vals {
		binary.Write(&b, binary.BigEndian, v)
		want[i] = uint64(uint32(v))
	}
	return b.Bytes(), want
}

func TestReadCache2k(t *testing.T) {
	data, want := cache2kSample()
	got, err := ReadCache2k(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ReadCache2k = %v, want %v", got, want)
	}
	if _, err := ReadCache2k(bytes.NewReader(data[:len(data)-1])); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated record: error = %v, want ErrFormat", err)
	}
}

// TestLoadCompressed writes small files in each compression and format and
// loads them back through the extension-based dispatch.
func TestLoadCompressed(t *testing.T) {
	dir := t.TempDir()
	c2k, c2kWant := cache2kSample()
	files := map[string]struct {
		raw  []byte
		want []uint64
	}{
		"a.arc.gz":      {[]byte("7 2 0 0\n"), []uint64{7, 8}},
		"b.lirs.gz":     {[]byte("1\r\n*\r\n2\r\n"), []uint64{1, 2}},
		"c.cache2k.xz":  {c2k, c2kWant},
		"d.lirs":        {[]byte("9\n"), []uint64{9}},
		"ignored.txt":   {[]byte("x"), nil},
		"e.cache2k.bin": {[]byte("x"), nil},
	}
	for name, f := range files {
		var b bytes.Buffer
		switch filepath.Ext(name) {
		case ".gz":
			w := gzip.NewWriter(&b)
			w.Write(f.raw)
			w.Close()
		case ".xz":
			w, err := xz.NewWriter(&b)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(f.raw)
			w.Close()
		default:
			b.Write(f.raw)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	paths, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 4 {
		t.Fatalf("List = %v, want the 4 known formats", paths)
	}
	for _, p := range paths {
		tr, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := files[filepath.Base(p)].want; !slices.Equal(tr.Keys, want) {
			t.Errorf("%s: keys %v, want %v", p, tr.Keys, want)
		}
	}
	if _, err := Load(filepath.Join(dir, "ignored.txt")); err == nil {
		t.Error("Load of unknown format succeeded")
	}
}

func TestFormatOf(t *testing.T) {
	for path, want := range map[string]struct {
		f    Format
		name string
	}{
		"x/oltp.arc.gz":          {ARC, "oltp"},
		"loop.lirs.gz":           {LIRS, "loop"},
		"orm-busy.cache2k.xz":    {Cache2k, "orm-busy"},
		"README.md":              {Unknown, "README.md"},
		"/a/b/multi2.lirs":       {LIRS, "multi2"},
		"web12.cache2k.xz.extra": {Unknown, "web12.cache2k.xz.extra"},
	} {
		if f, name := FormatOf(path); f != want.f || name != want.name {
			t.Errorf("FormatOf(%q) = %v, %q; want %v, %q", path, f, name, want.f, want.name)
		}
	}
}
