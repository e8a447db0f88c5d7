// Package tracetest finds the shared traces for tests.
package tracetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shardcache/shardcache/bench/internal/trace"
)

// Dir returns the shared traces directory. When it is absent the test is
// skipped with a loud message, except under CI=true, where the traces must be
// present and the test fails instead.
func Dir(t testing.TB) string {
	t.Helper()
	dir := trace.ResolveDir(trace.DefaultDir)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("traces directory %s missing under CI=true: %v", dir, err)
		}
		t.Skipf("SKIPPING: traces directory %s not found (%v); real-trace checks not run", dir, err)
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
