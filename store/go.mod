module github.com/shardcache/shardcache/store

go 1.26.0

replace github.com/shardcache/shardcache => ../

require github.com/shardcache/shardcache v0.0.0-00010101000000-000000000000

require github.com/cespare/xxhash/v2 v2.3.0 // indirect
