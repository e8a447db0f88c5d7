package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// names returns the names in dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// pending returns a File replacing dir/state, which holds "old", with
// contents written to it but not committed.
func pending(t *testing.T, dir, contents string) (*File, string) {
	t.Helper()
	path := filepath.Join(dir, "state")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	f, err := Create(path)
	require.NoError(t, err)
	_, err = f.Write([]byte(contents))
	require.NoError(t, err)
	return f, path
}

// read returns the contents of the file at path.
func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestCommitReplaces(t *testing.T) {
	dir := t.TempDir()
	f, path := pending(t, dir, "new contents")
	defer f.Cleanup()
	assert.Equal(t, "old", read(t, path), "until Commit the file is untouched")
	assert.Len(t, names(t, dir), 2, "the file and its temporary file")

	require.NoError(t, f.Commit())
	f.Cleanup() // after Commit: nothing to do
	assert.Equal(t, "new contents", read(t, path))
	assert.Equal(t, []string{"state"}, names(t, dir))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "the mode of the temporary file")
	}
}

func TestCleanupWithoutCommit(t *testing.T) {
	dir := t.TempDir()
	f, path := pending(t, dir, "half")
	f.Cleanup()
	f.Cleanup() // twice is fine
	assert.Equal(t, "old", read(t, path))
	assert.Equal(t, []string{"state"}, names(t, dir), "no temporary file left behind")
}

func TestCreateInMissingDirectory(t *testing.T) {
	_, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir", "state"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	f, err := Create("state")
	require.NoError(t, err)
	defer f.Cleanup()
	_, err = f.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, f.Commit(), "the directory of a bare name is the working directory")
	assert.Equal(t, []string{"state"}, names(t, "."))
}
