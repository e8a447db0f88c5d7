// Package bench compares shardcache with other Go caches. It is its own
// module, so that the libraries it measures never enter shardcache's go.mod.
//
//   - throughput_test.go: `go test -run '^$' -bench Throughput` runs every
//     cache (internal/adapter) on Zipf workloads of several skews and
//     read/write mixes, with sub-benchmarks named key=value for benchstat.
//   - cmd/hitratio replays synthetic and real traces through every cache and
//     prints hit ratios.
//   - internal/sim is the one hit-ratio harness, through caches or through
//     the engine's eviction policies alone; its real-trace tables run with
//     `go test ./internal/sim -run TestTraceTable -v` (every trace with
//     SHARDCACHE_TRACE_ALL=1).
//   - cmd/plots draws the charts in docs/img from their output.
//   - cmd/remoteload loads a shardcached over RESP, gRPC and HTTP and reports
//     throughput and p50/p99 per protocol (make bench-remote).
//   - scripts/ holds the commands behind the root Makefile's bench targets.
//
// docs/benchmarks.md has the settings, commands and results.
package bench
