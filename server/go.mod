module github.com/shardcache/shardcache/server

go 1.26.0

replace github.com/shardcache/shardcache => ../
