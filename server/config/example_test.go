package config_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/shardcache/shardcache/server/config"
)

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "shardcached")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "shardcached.conf")
	os.WriteFile(file, []byte("# shardcached.conf\nmaxmemory 100mb\nmaxmemory-policy allkeys-lru\nport 7000\n"), 0o644)

	// main would pass os.Args[1:] and os.Environ().
	args := []string{file, "--port", "7001", "--timeout", "300"}
	env := []string{"SHARDCACHED_MAXMEMORY=1gb"}
	c, err := config.Load(args, env)
	if err != nil {
		fmt.Println(err) // then exit 1
		return
	}
	v := c.Snapshot()
	fmt.Println(v.Port, v.MaxMemory, v.MaxMemoryPolicy, v.Timeout)

	// CONFIG SET and CONFIG GET.
	c.OnChange("maxmemory", func(old, new config.Values) error {
		fmt.Println("maxmemory", old.MaxMemory, "→", new.MaxMemory)
		return nil
	})
	if err := c.Set([][2]string{{"maxmemory", "2gb"}}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(c.Set([][2]string{{"maxmemory-policy", "volatile-lru"}}))
	fmt.Println(c.Get("maxmemory*"))

	// A bad value names its source.
	_, err = config.Load([]string{"--maxmemory-policy", "volatile-ttl"}, nil)
	fmt.Println(err)
	// Output:
	// 7001 1073741824 allkeys-lru 5m0s
	// maxmemory 1073741824 → 2147483648
	// ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - not supported; supported: allkeys-lru, allkeys-lfu, noeviction
	// [[maxmemory 2147483648] [maxmemory-policy allkeys-lru]]
	// command line: maxmemory-policy "volatile-ttl": not supported; supported: allkeys-lru, allkeys-lfu, noeviction
}
