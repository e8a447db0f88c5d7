#!/usr/bin/env bash
# Runs the root package's benchmarks (COUNT=10 times, BENCH regexp, default all) and pivots them by shard count with benchstat -col /shards; raw output goes to bench/results/shards.txt for cmd/plots.
set -euo pipefail
bench="$(cd "$(dirname "$0")/.." && pwd)"
COUNT=${COUNT:-10}
BENCH=${BENCH:-.}
BENCHTIME=${BENCHTIME:-1s}
OUT=${OUT:-$bench/results/shards.txt}
mkdir -p "$(dirname "$OUT")"
(cd "$bench/.." && go test -run '^$' -bench "$BENCH" -benchtime "$BENCHTIME" -count "$COUNT" .) > "$OUT"
(cd "$bench" && go tool benchstat -col /shards "$OUT") | tee "${OUT%.txt}-benchstat.txt"
