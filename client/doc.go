// Package client is a Go client of shardcached's gRPC API
// (proto/shardcache/v1/cache.proto). Its generated messages and stubs are
// in package cachev1.
package client
