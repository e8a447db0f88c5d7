#!/usr/bin/env bash
# An AOF rewrite of KEYS keys under write load, shardcached beside redis-server (both appendonly yes,
# appendfsync everysec, automatic rewrites off). Each run: a fresh server loaded with KEYS keys (64-byte
# values, redis-cli --pipe), then redis-benchmark -t set -c 50 -P 16 -r KEYS -d 64 running in the background;
# after WARMUP s the throughput is measured over BASE s (INFO's total_commands_processed), then BGREWRITEAOF,
# and the throughput while aof_rewrite_in_progress is 1 (polled every 50 ms). Prints, per server, the median over
# ROUNDS of the rewrite's duration, the throughput before and during it, and during/before (the issue's target:
# above 0.5). Servers alternate; which goes first swaps every round. Env: KEYS (1000000), ROUNDS (3), WARMUP (3),
# BASE (2), OUT (a file that gets a copy of the report). Linux only; needs redis-server, redis-cli, redis-benchmark.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
KEYS=${KEYS:-1000000}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-3}
BASE=${BASE:-2}
common="--appendonly yes --appendfsync everysec --auto-aof-rewrite-percentage 0"
BENCH_SHARDCACHED_ARGS="$common"
REDIS_ARGS="$common"

for tool in redis-server redis-cli redis-benchmark; do
	command -v "$tool" >/dev/null || { echo "bench-aof-rewrite: $tool is not on PATH (Debian: apt-get install redis-server redis-tools)" >&2; exit 1; }
done
tmp="$(mktemp -d)"
declare -A pid port
bench_pid=
cleanup() {
	[ -z "$bench_pid" ] || kill "$bench_pid" 2>/dev/null || true
	for s in "${!pid[@]}"; do stop "$s"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "bench-aof-rewrite: $*" >&2; }

bin=${BENCH_SHARDCACHED_BIN:-}
if [ -z "$bin" ]; then
	bin="$tmp/shardcached"
	log "building $bin from server/cmd/shardcached"
	(cd "$root/server" && go build -o "$bin" ./cmd/shardcached)
fi
# shellcheck source=lib-servers.sh
. "$(dirname "$0")/lib-servers.sh"

now() { date +%s.%N; }
info() { redis-cli -p "${port[$1]}" info "$2" | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'; }
commands() { info "$1" stats total_commands_processed; }
rewriting() { info "$1" persistence aof_rewrite_in_progress; }

# run NAME: one measured run; appends "name seconds before_ops during_ops" to results.
run() {
	local s=$1 t0 c0 t1 c1 before during r0 r1
	start "$s"
	load_keys "$s" "$KEYS"
	while [ "$(rewriting "$s")" = 1 ]; do sleep 0.1; done
	redis-benchmark -h 127.0.0.1 -p "${port[$s]}" -q -t set -n 100000000 -c 50 -P 16 -r "$KEYS" -d 64 >/dev/null 2>&1 &
	bench_pid=$!
	sleep "$WARMUP"
	t0=$(now); c0=$(commands "$s")
	sleep "$BASE"
	t1=$(now); c1=$(commands "$s")
	before=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.0f", (b - a) / (e - s) }')
	redis-cli -p "${port[$s]}" bgrewriteaof >/dev/null
	r0=$(now); c0=$(commands "$s")
	for _ in $(seq 1200); do # 60 s at most
		[ "$(rewriting "$s")" = 1 ] || break
		sleep 0.05
	done
	r1=$(now); c1=$(commands "$s")
	[ "$(rewriting "$s")" = 0 ] || { log "$s: the rewrite did not finish in 60 s"; exit 1; }
	[ "$(info "$s" persistence aof_last_bgrewrite_status)" = ok ] || { log "$s: the rewrite failed"; exit 1; }
	during=$(awk -v a="$c0" -v b="$c1" -v s="$r0" -v e="$r1" 'BEGIN { printf "%.0f", (b - a) / (e - s) }')
	kill "$bench_pid" 2>/dev/null || true
	wait "$bench_pid" 2>/dev/null || true
	bench_pid=
	echo "$s $(awk -v s="$r0" -v e="$r1" 'BEGIN { printf "%.2f", e - s }') $before $during" >>"$tmp/results"
	log "$s: rewrite $(tail -1 "$tmp/results" | cut -d' ' -f2) s; SET/s before $before, during $during"
	stop "$s"
}

: >"$tmp/results"
for round in $(seq "$ROUNDS"); do
	if [ $((round % 2)) = 1 ]; then order="shardcached redis"; else order="redis shardcached"; fi
	for s in $order; do
		log "round $round/$ROUNDS: $s"
		run "$s"
	done
done

{
	echo "## AOF rewrite of $KEYS keys under redis-benchmark -t set -c 50 -P 16 -r $KEYS -d 64 (appendfsync everysec), median of $ROUNDS"
	echo
	printf "%-12s %12s %14s %14s %14s\n" server "rewrite s" "SET/s before" "SET/s during" "during/before"
	for s in redis shardcached; do
		awk -v s="$s" '$1 == s { print $2, $3, $4, $4 / $3 }' "$tmp/results" | sort -n -k4 |
			awk -v s="$s" '{ r[NR] = $0 } END { split(r[int((NR + 1) / 2)], m, " "); printf "%-12s %12.2f %14.0f %14.0f %14.2f\n", s, m[1], m[2], m[3], m[4] }'
	done
	echo
	echo "(each run's figures: $(tr '\n' ';' <"$tmp/results"))"
} | tee "$tmp/report"
if [ -n "${OUT:-}" ]; then
	mkdir -p "$(dirname "$OUT")"
	cp "$tmp/report" "$OUT"
	log "report copied to $OUT"
fi
