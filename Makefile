# Everyday targets. Anything longer than a line or two lives in scripts/ or
# bench/scripts/, with a comment on top saying what it does.
.PHONY: run shardcached demo test proto bench bench-peers bench-policies bench-shards bench-memory bench-server bench-aof bench-store bench-remote hitratio plots

# The main job: shardcached in the foreground on 127.0.0.1:6380 (admin
# HTTP on 127.0.0.1:8080, gRPC on 6381, HTTP key API on 6382), in memory.
# Connect with `redis-cli -p 6380`.
run: shardcached
	./bin/shardcached --grpc-port 6381 --http-port 6382

# The server binary, bin/shardcached.
shardcached:
	cd server && go build -o ../bin/shardcached ./cmd/shardcached

# A demo of the engine embedded in a Go program, under concurrent load.
demo:
	go run ./examples/demo

# Every module's vet and race-enabled tests (what CI runs).
test:
	./scripts/test.sh

# Regenerates the Go code of proto/shardcache/v1 (gRPC stubs, HTTP gateway).
proto:
	./scripts/proto.sh

# The engine's own benchmarks, once.
bench:
	go test -run '^$$' -bench . -benchmem .

# shardcache beside otter, ristretto, theine, go-cache, golang-lru and a
# map+RWMutex, -count 6, summarised with benchstat (1 h measured with BENCHTIME=200ms, longer at the 1 s default; BENCH=regexp narrows it).
bench-peers:
	./bench/scripts/bench-peers.sh

# The peer suite's workloads for shardcache with LRU, ARC and W-TinyLFU, -count 6 (45 min with BENCHTIME=200ms).
bench-policies:
	BENCH=Policies OUT=results/policies.txt ./bench/scripts/bench-peers.sh

# The engine's benchmarks at shard counts 1..256, -count 10, pivoted by benchstat.
bench-shards:
	./bench/scripts/bench-shards.sh

# Heap per entry of a full cache, every cache side by side (deterministic: one pass).
bench-memory:
	cd bench && go test -run '^$$' -bench Memory -benchtime 3x .

# shardcached beside redis-server under redis-benchmark, and their memory for 1M keys.
bench-server:
	./bench/scripts/bench-server.sh

# shardcached beside redis-server with appendonly yes, at appendfsync everysec and always, and a rewrite of 10^6 keys under load.
bench-aof:
	./bench/scripts/bench-aof.sh

# Get/Set latency (p50/p99) and throughput of every store adapter over loopback, and the tiered store's L1 hits against Redis.
bench-store:
	cd store && go test -run '^$$' -bench Store -benchtime 1s .

# Get/Set throughput and p50/p99 of shardcached over RESP, gRPC and HTTP (unary and batched), 6 alternating rounds, about 3 min.
bench-remote:
	./bench/scripts/bench-remote.sh

# Hit ratios of every cache on synthetic sequences and the traces in ../shared/traces.
hitratio:
	./bench/scripts/hitratio.sh

# PNG charts in docs/img from the results of the three targets above.
plots:
	./bench/scripts/plots.sh
