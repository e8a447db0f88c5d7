// Package trace reads the published cache access traces the hit-ratio
// simulator replays (the README beside the traces, in DefaultDir, gives
// their origin):
//
//   - ARC text (oltp, p3): "start_block num_blocks ignore request_number"
//     per line; each line is expanded to num_blocks accesses of consecutive
//     keys, as the ARC paper counts requests.
//   - LIRS text (loop, gli, multi2): one block number per line; blank lines
//     and "*" checkpoint lines are skipped, CRLF endings tolerated.
//   - cache2k binary (orm-busy, web12): big-endian int32 keys, no header.
//
// A file's format is named by its extension (.arc, .lirs, .cache2k) before
// the compression suffix (.gz, .xz). Readers return every access as a uint64
// key; the whole trace is held in memory (5M accesses = 40 MB), since the
// simulator replays it once per cache and capacity.
package trace

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ulikunitz/xz"
)

// ErrFormat is wrapped by every parse error.
var ErrFormat = errors.New("trace: malformed input")

// Format is one of the trace encodings.
type Format int

// The known formats.
const (
	Unknown Format = iota
	ARC
	LIRS
	Cache2k
)

func (f Format) String() string {
	switch f {
	case ARC:
		return "arc"
	case LIRS:
		return "lirs"
	case Cache2k:
		return "cache2k"
	}
	return "unknown"
}

// Trace is a loaded access sequence.
type Trace struct {
	Name   string // file name without format and compression suffixes
	Format Format
	Keys   []uint64
}

// FormatOf reports the format named by a file's extension, and the name
// without its suffixes ("oltp.arc.gz" -> ARC, "oltp").
func FormatOf(path string) (Format, string) {
	base := filepath.Base(path)
	for _, c := range []string{".gz", ".xz"} {
		base = strings.TrimSuffix(base, c)
	}
	for f, ext := range map[Format]string{ARC: ".arc", LIRS: ".lirs", Cache2k: ".cache2k"} {
		if name, ok := strings.CutSuffix(base, ext); ok {
			return f, name
		}
	}
	return Unknown, base
}

// Load reads, decompresses and parses one trace file.
func Load(path string) (*Trace, error) {
	format, name := FormatOf(path)
	if format == Unknown {
		return nil, fmt.Errorf("trace: %s: unknown format (want .arc, .lirs or .cache2k before .gz/.xz)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<16)
	switch {
	case strings.HasSuffix(path, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("trace: %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	case strings.HasSuffix(path, ".xz"):
		xr, err := xz.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("trace: %s: %w", path, err)
		}
		r = xr
	}
	keys, err := Read(format, r)
	if err != nil {
		return nil, fmt.Errorf("trace: %s: %w", path, err)
	}
	return &Trace{Name: name, Format: format, Keys: keys}, nil
}

// Read parses an uncompressed trace of the given format.
func Read(f Format, r io.Reader) ([]uint64, error) {
	switch f {
	case ARC:
		return ReadARC(r)
	case LIRS:
		return ReadLIRS(r)
	case Cache2k:
		return ReadCache2k(r)
	}
	return nil, fmt.Errorf("%w: unknown format", ErrFormat)
}

// List returns the trace files in dir that Load understands, sorted by name.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if f, _ := FormatOf(e.Name()); f != Unknown && !e.IsDir() {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(paths)
	return paths, nil
}

// ModulePath is the bench module, against which relative trace paths resolve.
const ModulePath = "github.com/shardcache/shardcache/bench"

// ResolveDir makes a relative traces path relative to the bench module's
// directory (found by walking up from the working directory to its go.mod),
// so "../../shared/traces" means the same from bench/, bench/cmd/hitratio or
// a test. Absolute paths, and paths outside any bench module, are returned
// as given.
func ResolveDir(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		return p
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module "+ModulePath+"\n") {
			return filepath.Join(dir, p)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return p
		}
		dir = parent
	}
}

// DefaultDir is where the shared traces sit relative to the bench module:
// a shared/traces folder beside the repository's clone.
const DefaultDir = "../../shared/traces"
