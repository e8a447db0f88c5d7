module github.com/shardcache/shardcache/examples/service

go 1.26.0

replace (
	github.com/shardcache/shardcache => ../../
	github.com/shardcache/shardcache/store => ../../store
)

require (
	github.com/bradfitz/gomemcache v0.0.0-20260422231931-4d751bb6e37c
	github.com/redis/go-redis/v9 v9.23.0
	github.com/shardcache/shardcache v0.0.0-00010101000000-000000000000
	github.com/shardcache/shardcache/store v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
