package aof

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileType is a manifest entry's kind, as Redis 7 writes it.
type FileType byte

const (
	TypeBase    FileType = 'b' // a snapshot in the engine's format
	TypeIncr    FileType = 'i' // RESP records since that base
	TypeHistory FileType = 'h' // replaced by a rewrite, to be deleted
)

// File is one manifest entry.
type File struct {
	Name string
	Seq  int64
	Type FileType
}

// Manifest lists the files of an AOF directory: at most one base, the
// incremental files in the order they are replayed, and history files a
// rewrite replaced (never loaded).
type Manifest struct {
	Base    *File
	Incrs   []File
	History []File
}

// ErrNoManifest: the directory holds no manifest (no AOF yet).
var ErrNoManifest = errors.New("aof: no manifest")

// ManifestError is a manifest that cannot be read: it names the line.
type ManifestError struct {
	Path string
	Line int
	Msg  string
}

func (e *ManifestError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("aof: manifest %s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("aof: manifest %s line %d: %s", e.Path, e.Line, e.Msg)
}

// Names of the files of an AOF named name (appendfilename), as Redis 7
// names them; the base holds the engine's snapshot format, hence .snap.
func ManifestName(name string) string        { return name + ".manifest" }
func BaseName(name string, seq int64) string { return fmt.Sprintf("%s.%d.base.snap", name, seq) }
func IncrName(name string, seq int64) string { return fmt.Sprintf("%s.%d.incr.aof", name, seq) }

// ParseManifest reads a manifest; path is for messages. Lines are "file
// NAME seq N type T" (keys in any order, as Redis reads them); blank lines
// and lines starting with '#' are skipped.
func ParseManifest(r io.Reader, path string) (*Manifest, error) {
	m := &Manifest{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	lastSeq := int64(0)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if len(fields)%2 != 0 {
			return nil, &ManifestError{path, n, "odd number of fields"}
		}
		var f File
		seen := map[string]bool{}
		for i := 0; i < len(fields); i += 2 {
			k, v := fields[i], fields[i+1]
			seen[k] = true
			switch k {
			case "file":
				if strings.ContainsAny(v, `/\`) || v == "." || v == ".." {
					return nil, &ManifestError{path, n, fmt.Sprintf("file name %q is a path", v)}
				}
				f.Name = v
			case "seq":
				s, err := strconv.ParseInt(v, 10, 64)
				if err != nil || s < 1 {
					return nil, &ManifestError{path, n, fmt.Sprintf("bad seq %q", v)}
				}
				f.Seq = s
			case "type":
				if len(v) != 1 || (v[0] != 'b' && v[0] != 'i' && v[0] != 'h') {
					return nil, &ManifestError{path, n, fmt.Sprintf("unknown type %q", v)}
				}
				f.Type = FileType(v[0])
			default:
				// Keys Redis may add later are ignored, as Redis does.
			}
		}
		if !seen["file"] || !seen["seq"] || !seen["type"] {
			return nil, &ManifestError{path, n, "needs file, seq and type"}
		}
		switch f.Type {
		case TypeBase:
			if m.Base != nil {
				return nil, &ManifestError{path, n, "more than one base file"}
			}
			b := f
			m.Base = &b
		case TypeIncr:
			if f.Seq <= lastSeq {
				return nil, &ManifestError{path, n, "incr files out of order"}
			}
			lastSeq = f.Seq
			m.Incrs = append(m.Incrs, f)
		case TypeHistory:
			m.History = append(m.History, f)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ManifestError{path, n, err.Error()}
	}
	if m.Base == nil && len(m.Incrs) == 0 {
		return nil, &ManifestError{path, 0, "lists no base and no incr file"}
	}
	return m, nil
}

// Marshal encodes m as ParseManifest reads it: base, history, then incrs.
func (m *Manifest) Marshal() []byte {
	var b bytes.Buffer
	line := func(f File) { fmt.Fprintf(&b, "file %s seq %d type %c\n", f.Name, f.Seq, f.Type) }
	if m.Base != nil {
		line(*m.Base)
	}
	for _, f := range m.History {
		line(f)
	}
	for _, f := range m.Incrs {
		line(f)
	}
	return b.Bytes()
}

// clone returns a copy of m that shares nothing with it.
func (m *Manifest) clone() *Manifest {
	out := &Manifest{Incrs: append([]File(nil), m.Incrs...), History: append([]File(nil), m.History...)}
	if m.Base != nil {
		b := *m.Base
		out.Base = &b
	}
	return out
}

// nextSeq returns the sequence after the highest of type t in m.
func (m *Manifest) nextSeq(t FileType) int64 {
	var s int64
	if t == TypeBase && m.Base != nil {
		s = m.Base.Seq
	}
	for _, f := range m.History {
		if f.Type == t || (t == TypeBase && strings.Contains(f.Name, ".base.")) || (t == TypeIncr && strings.Contains(f.Name, ".incr.")) {
			s = max(s, f.Seq)
		}
	}
	if t == TypeIncr {
		for _, f := range m.Incrs {
			s = max(s, f.Seq)
		}
	}
	return s + 1
}

// ReadManifest reads dir's manifest for name; ErrNoManifest if it is absent.
func ReadManifest(dir, name string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName(name))
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoManifest
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseManifest(f, path)
}

// WriteManifest replaces dir's manifest atomically: a temporary file,
// fsync, rename over the old one, fsync of the directory. A crash at any
// point leaves the old manifest or the new one.
func WriteManifest(dir, name string, m *Manifest) error {
	path := filepath.Join(dir, ManifestName(name))
	tmp, err := os.CreateTemp(dir, ".tmp-"+ManifestName(name)+"-*")
	if err != nil {
		return fmt.Errorf("aof: write manifest: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := tmp.Write(m.Marshal()); err != nil {
		tmp.Close()
		return fmt.Errorf("aof: write manifest: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("aof: write manifest: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("aof: write manifest: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("aof: write manifest: %w", err)
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, so that a rename or a creation in it is
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("aof: fsync %s: %w", dir, err)
	}
	return nil
}
