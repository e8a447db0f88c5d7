#!/usr/bin/env bash
# shardcached beside redis-server with the append-only file on: redis-benchmark -t set,incr -n N -c 50 -P 16
# -r 100000 -d 64 against both, with appendonly yes at appendfsync everysec and then always, servers
# alternating, best of ROUNDS (bench-server.sh does the runs; memory is skipped). N (1000000) and ROUNDS (3)
# are read from the environment. Then bench-aof-rewrite.sh: a rewrite of 10^6 keys under that SET load.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for fsync in everysec always; do
	echo "## appendonly yes, appendfsync $fsync"
	TESTS=set,incr PIPELINES=16 KEYS=0 \
		REDIS_ARGS="--appendonly yes --appendfsync $fsync" \
		BENCH_SHARDCACHED_ARGS="--appendonly yes --appendfsync $fsync" \
		"$here/bench-server.sh"
done
echo
"$here/bench-aof-rewrite.sh"
