// Package atomicfile replaces a file's contents all at once: the new
// contents are written to a temporary file in the same directory, synced to
// disk, renamed over the file and the directory synced, so that a crash at
// any point leaves either the old file or the new one, never a mix. It
// knows nothing of what the file holds: snapshots use it, and so can any
// file that must never be seen half-written (a manifest, say).
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// File is the pending new contents of a file: a temporary file beside it,
// named ".<name>.tmp*" with mode 0600, that Commit renames over it. Until
// Commit the file at the path is untouched. Cleanup removes the temporary
// file unless Commit succeeded, so deferring it right after Create leaves
// nothing behind on any failure; a crash can still leave one, which is safe
// to delete.
//
// A File is not safe for concurrent use: one goroutine writes and commits
// it. Two Files for the same path may be committed in either order, the
// last rename winning; callers that care serialise them. The zero File is
// not usable: call Create.
type File struct {
	f       *os.File
	path    string
	renamed bool // Commit got as far as the rename: nothing to clean up
}

// Create starts replacing the file at path by creating its temporary file.
// The directory must exist.
func Create(path string) (*File, error) {
	dir, name := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return nil, err
	}
	return &File{f: f, path: path}, nil
}

// Write writes to the temporary file, as os.File.Write.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// Commit makes what was written the file's contents: it syncs and closes
// the temporary file, renames it over the path and syncs the directory,
// which makes the rename itself durable (except on Windows, which cannot
// sync a directory and does not need to). An error before the rename leaves
// the file as it was; an error syncing the directory comes after the
// rename, when the new contents are in place but perhaps not yet durable.
// Call Commit at most once.
func (f *File) Commit() error {
	if err := f.f.Sync(); err != nil {
		return err
	}
	if err := f.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.f.Name(), f.path); err != nil {
		return err
	}
	f.renamed = true
	return syncDir(filepath.Dir(f.path))
}

// Cleanup closes and removes the temporary file, unless Commit renamed it.
// It is safe to call more than once, and after Commit.
func (f *File) Cleanup() {
	if f.renamed {
		return
	}
	_ = f.f.Close() // may already be closed; the error that matters is the caller's
	_ = os.Remove(f.f.Name())
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory
// (and does not need to), so there it does nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}
