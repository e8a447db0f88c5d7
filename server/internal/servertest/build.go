package servertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// ShardcachedPackage is the import path BuildShardcached builds.
const ShardcachedPackage = "github.com/shardcache/shardcache/server/cmd/shardcached"

var build struct {
	once    sync.Once
	dir     string // temporary directory holding the binary; Main removes it
	path    string
	missing string // why there is nothing to build, if so
	err     error
}

// BuildShardcached returns the path of a shardcached binary: $TEST_SHARDCACHED_BIN
// if set, otherwise one built from the server module's cmd/shardcached once
// per test process (race-enabled when the test binary is). Until that
// package exists the test is skipped, or fails when CI=true; a package that
// does not compile always fails the test.
func BuildShardcached(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TEST_SHARDCACHED_BIN"); p != "" {
		return p
	}
	build.once.Do(buildShardcached)
	switch {
	case build.missing != "":
		skipOrFatal(t, "no shardcached to test: %s", build.missing)
	case build.err != nil:
		t.Fatalf("servertest: %v", build.err)
	}
	return build.path
}

func buildShardcached() {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		build.err = fmt.Errorf("go env GOMOD: %v", err)
		return
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		build.err = fmt.Errorf("not inside a module: cannot find %s", ShardcachedPackage)
		return
	}
	moduleDir := filepath.Dir(gomod)
	src, _ := filepath.Glob(filepath.Join(moduleDir, "cmd", "shardcached", "*.go"))
	if len(src) == 0 {
		build.missing = fmt.Sprintf("%s has no Go files yet (or set TEST_SHARDCACHED_BIN)",
			filepath.Join(moduleDir, "cmd", "shardcached"))
		return
	}
	if build.dir, err = os.MkdirTemp("", "servertest-shardcached-"); err != nil {
		build.err = err
		return
	}
	build.path = filepath.Join(build.dir, "shardcached")
	args := []string{"build", "-o", build.path}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ShardcachedPackage)...)
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		build.err = fmt.Errorf("go %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, out)
	}
}

// Main runs a package's tests and then removes the binary BuildShardcached
// built, if any. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(servertest.Main(m)) }
//
// Without it the binary stays in the system's temporary directory.
func Main(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	return code
}
