#!/usr/bin/env bash
# Get/Set throughput and p50/p99 latency of shardcached over RESP (unary and pipelined), gRPC (unary and
# GetMany/SetMany) and HTTP (keep-alive), 50 callers, 64-byte values over 100,000 preloaded keys.
# Builds bin/shardcached, then bench/cmd/remoteload starts it on free 127.0.0.1 ports (in memory: --save ""
# --appendonly no, a temporary --dir) and runs ROUNDS rounds of every mode in turn, a Set then a Get phase of
# DURATION each; it prints medians across rounds, the two targets and every round's figures, as Markdown, to
# bench/results/remote.txt (OUT) and stdout. This part takes about 3 minutes (5 modes × 2 ops × 6 × 3 s, plus
# the build and the preload); timeout bounds it at 10 minutes. The whole script takes about 5 minutes.
# Then it measures unary gRPC and RESP again with the same callers paced at each of RATES calls/s in all
# (remoteload -rate: latency below saturation; a call delayed by the one before counts from its scheduled
# time), PACED_ROUNDS rounds each, about 40 s per rate.
# Env: DURATION (3s), ROUNDS (6), CALLERS (50), RATES ("2000 5000 10000"; "" skips them), PACED_ROUNDS (3),
# OUT, PROFILE (a directory: server CPU profiles of the last round, from the admin port's /debug/pprof). More
# arguments go to remoteload (e.g. -modes grpc/unary).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-6}
CALLERS=${CALLERS:-50}
OUT=${OUT:-$root/bench/results/remote.txt}
PROFILE=${PROFILE:-}
RATES=${RATES:-2000 5000 10000}
PACED_ROUNDS=${PACED_ROUNDS:-3}

(cd "$root/server" && go build -o "$root/bin/shardcached" ./cmd/shardcached)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$root/bench" && go build -o "$tmp/remoteload" ./cmd/remoteload)

args=(-server "$root/bin/shardcached" -duration "$DURATION" -rounds "$ROUNDS" -callers "$CALLERS")
[ -n "$PROFILE" ] && args+=(-profile "$PROFILE")
mkdir -p "$(dirname "$OUT")"
timeout --signal=TERM --kill-after=15s 10m "$tmp/remoteload" "${args[@]}" "$@" > "$tmp/out"
# Then latency at fixed loads below saturation: unary gRPC and RESP, the same callers, paced at each of RATES.
for rate in $RATES; do
	echo >> "$tmp/out"
	timeout --signal=TERM --kill-after=15s 5m "$tmp/remoteload" "${args[@]}" -rounds "$PACED_ROUNDS" \
		-modes grpc/unary,resp/unary -rate "$rate" "$@" >> "$tmp/out"
done
cp "$tmp/out" "$OUT"
cat "$OUT"
