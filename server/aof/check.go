package aof

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CheckOptions configure Check.
type CheckOptions struct {
	Name string // appendfilename; "" finds the one manifest in the directory
	// Fix cuts a torn or damaged last incr file at its last complete
	// record (or MULTI block), as redis-check-aof --fix does.
	Fix bool
	// VerifyBase checks the base file (the engine's snapshot format, which
	// this package does not read); nil skips it.
	VerifyBase func(path string) error
	Out        io.Writer // the report
}

// ErrDamaged: Check found damage it did not (or could not) fix.
var ErrDamaged = errors.New("aof: damaged")

// Check verifies the AOF in dir: the manifest, the base, and every record
// of every incr file. It reports each file to opt.Out and returns nil if
// the AOF loads (after fixing, with Fix), or an error naming the file and
// offset of the damage.
func Check(dir string, opt CheckOptions) error {
	out := opt.Out
	if out == nil {
		out = io.Discard
	}
	name := opt.Name
	if name == "" {
		found, err := filepath.Glob(filepath.Join(dir, "*.manifest"))
		if err != nil || len(found) != 1 {
			return fmt.Errorf("aof: %s: expected one *.manifest, found %d", dir, len(found))
		}
		base := filepath.Base(found[0])
		name = base[:len(base)-len(".manifest")]
	}
	m, err := ReadManifest(dir, name)
	if errors.Is(err, ErrNoManifest) {
		return fmt.Errorf("aof: %s: no manifest %s", dir, ManifestName(name))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "manifest %s: ok (%s)\n", ManifestName(name), summary(m))
	if m.Base != nil {
		path := filepath.Join(dir, m.Base.Name)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("aof: base %s: %w", m.Base.Name, err)
		}
		if opt.VerifyBase != nil {
			if err := opt.VerifyBase(path); err != nil {
				return fmt.Errorf("aof: base %s: %w: %w", m.Base.Name, ErrDamaged, err)
			}
		}
		fmt.Fprintf(out, "base %s: ok\n", m.Base.Name)
	}
	for i, in := range m.Incrs {
		last := i == len(m.Incrs)-1
		path := filepath.Join(dir, in.Name)
		size, err := CheckIncr(path)
		if err == nil {
			fmt.Fprintf(out, "incr %s: ok, %d bytes\n", in.Name, size)
			continue
		}
		var te *TruncatedError
		var ce *CorruptError
		var at int64
		switch {
		case errors.As(err, &te):
			at = te.Offset
			fmt.Fprintf(out, "incr %s: truncated: the last record is incomplete; the complete ones end at offset %d of %d\n", in.Name, at, te.Size)
		case errors.As(err, &ce):
			at = size
			fmt.Fprintf(out, "incr %s: bad record at offset %d: %s; the complete records before it end at offset %d\n", in.Name, ce.Offset, ce.Msg, at)
		default:
			return fmt.Errorf("aof: incr %s: %w", in.Name, err)
		}
		if !last {
			return fmt.Errorf("aof: incr %s (not the last file): %w at offset %d; cannot fix", in.Name, ErrDamaged, at)
		}
		if !opt.Fix {
			return fmt.Errorf("aof: incr %s: %w at offset %d (run with --fix to cut it there)", in.Name, ErrDamaged, at)
		}
		if err := truncateFile(path, at); err != nil {
			return err
		}
		fmt.Fprintf(out, "incr %s: fixed: cut to %d bytes\n", in.Name, at)
	}
	return nil
}

// CheckIncr reads every record of the incr file at path. It returns the
// end of the last complete unit and nil, a *TruncatedError or a
// *CorruptError.
func CheckIncr(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return Scan(f, func(Unit) error { return nil })
}

// truncateFile cuts path to size and fsyncs it.
func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

// Truncate cuts the incr file at path to size, durably: the loader's
// repair of a torn tail.
func Truncate(path string, size int64) error { return truncateFile(path, size) }

func summary(m *Manifest) string {
	s := "no base"
	if m.Base != nil {
		s = "base " + m.Base.Name
	}
	return fmt.Sprintf("%s, %d incr file(s)", s, len(m.Incrs))
}
