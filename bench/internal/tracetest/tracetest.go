// Package tracetest finds and loads the shared traces for tests.
//
// The traces are not in the repository: they are looked for in
// $SHARDCACHE_TRACES when it is set, else in trace.DefaultDir (the shared
// traces folder beside the repository's clone); a relative path is taken
// relative to the bench module, as cmd/hitratio's -traces is. A test that
// needs them is skipped loudly when they are missing, and fails instead under
// CI=true, where they must be present.
package tracetest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/shardcache/shardcache/bench/internal/trace"
)

// EnvDir names the environment variable that overrides trace.DefaultDir.
const EnvDir = "SHARDCACHE_TRACES"

// Dir returns the shared traces directory. When it is absent the test is
// skipped with a loud message, except under CI=true, where the traces must be
// present and the test fails instead.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = trace.DefaultDir
	}
	dir = trace.ResolveDir(dir)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("traces directory %s missing under CI=true: %v", dir, err)
		}
		t.Skipf("SKIPPING: traces directory %s not found (%v); real-trace checks not run (set $%s)", dir, err, EnvDir)
	}
	return dir
}

// File returns the path of one trace in Dir, skipping or failing like Dir
// when the file is missing.
func File(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(Dir(t), name)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("trace %s missing under CI=true: %v", path, err)
		}
		t.Skipf("SKIPPING: trace %s not found (%v)", path, err)
	}
	return path
}

var (
	loadedMu sync.Mutex
	loaded   = map[string][]uint64{}
)

// Keys returns the accesses of one trace in Dir, loaded once per test binary
// and shared by every caller, which must not modify them. It skips or fails
// like File when the trace is missing, and fails when it does not parse.
func Keys(t testing.TB, name string) []uint64 {
	t.Helper()
	path := File(t, name)
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if keys, ok := loaded[path]; ok {
		return keys
	}
	tr, err := trace.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	loaded[path] = tr.Keys
	return tr.Keys
}
