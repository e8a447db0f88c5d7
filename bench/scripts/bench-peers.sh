#!/usr/bin/env bash
# Runs the peer throughput suite (BenchmarkThroughput, BenchmarkOverwrite; with BENCH=Policies, shardcache's policies on the same workloads) COUNT times, one pass at a time so that the caches interleave on a noisy machine, then summarises with benchstat. Env: COUNT (6), BENCH (regexp, default 'Throughput|Overwrite'), BENCHTIME (1s), CPU (1,2), OUT (results/peers.txt); the full suite took 1 h with BENCHTIME=200ms on the 2-core benchmark VM, and takes longer at the 1 s default.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-6}
BENCH=${BENCH:-'Throughput|Overwrite'}
BENCHTIME=${BENCHTIME:-1s}
CPU=${CPU:-1,2}
OUT=${OUT:-results/peers.txt}
mkdir -p "$(dirname "$OUT")"
go test -c -o "$OUT.test" .
: > "$OUT"
for i in $(seq "$COUNT"); do
  echo "bench-peers: pass $i/$COUNT" >&2
  "$OUT.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME" -test.cpu "$CPU" -test.count 1 >> "$OUT"
done
rm -f "$OUT.test"
go tool benchstat -col /cache "$OUT" > "${OUT%.txt}-benchstat.txt"
echo "bench-peers: raw results in $OUT, summary in ${OUT%.txt}-benchstat.txt" >&2
