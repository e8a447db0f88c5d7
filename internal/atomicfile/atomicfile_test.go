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

func TestCommitReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))

	f, err := Create(path)
	require.NoError(t, err)
	defer f.Cleanup()
	_, err = f.Write([]byte("new contents"))
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(got), "until Commit the file is untouched")
	assert.Len(t, names(t, dir), 2, "the file and its temporary file")

	require.NoError(t, f.Commit())
	f.Cleanup() // after Commit: nothing to do
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new contents", string(got))
	assert.Equal(t, []string{"state"}, names(t, dir))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	}
}

func TestCleanupWithoutCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	f, err := Create(path)
	require.NoError(t, err)
	_, err = f.Write([]byte("half"))
	require.NoError(t, err)
	f.Cleanup()
	f.Cleanup() // twice is fine
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))
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
