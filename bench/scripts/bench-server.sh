#!/usr/bin/env bash
# Compares shardcached with redis-server 7 on one machine, both on 127.0.0.1 with nothing persisted.
#  1. Throughput: redis-benchmark -t set,get,incr,mset -n N -c 50 -r 100000 -d 64 at -P 16 and -P 1, one
#     test per run, servers alternating (which one goes first swaps every round), best of ROUNDS. Each run
#     also reads the server's CPU time (utime+stime in /proc/PID/stat) before and after, giving CPU seconds
#     per million requests. Prints requests/s for both servers, shardcached/redis, and the CPU figures.
#  2. Memory: fresh servers, KEYS keys key:000000000001... with 64-byte values loaded through
#     redis-cli --pipe, DBSIZE checked, then VmRSS from /proc/PID/status: total and bytes per key above the
#     empty server's RSS.
# shardcached is built from server/cmd/shardcached (or BENCH_SHARDCACHED_BIN) and started with --admin-port 0 and
# BENCH_SHARDCACHED_ARGS; redis-server with --save "" --appendonly no. SELF=1 puts a second redis-server where
# shardcached would be, to check the script itself; its ratios show the noise floor (redis-benchmark shares the
# machine's cores with the server, and at small N two identical servers differ by a third).
# Env: N (1000000), PIPELINES ("16 1"), ROUNDS (3), CLIENTS (50), KEYS (1000000), TESTS (set,get,incr,mset),
# REDIS_ARGS and BENCH_SHARDCACHED_ARGS (more flags for each server, e.g. the AOF's),
# OUT (a file that gets a copy of the report). Quick check: N=20000 ROUNDS=1 KEYS=100000 SELF=1.
# CPU time is counted in clock ticks (10 ms), so small N gives coarse CPU figures. Linux only (/proc). Needs redis-server, redis-cli and redis-benchmark on PATH.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
N=${N:-1000000}
PIPELINES=${PIPELINES:-16 1}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
KEYS=${KEYS:-1000000}
TESTS=${TESTS:-set,get,incr,mset}
SELF=${SELF:-0}
BENCH_SHARDCACHED_ARGS=${BENCH_SHARDCACHED_ARGS:-}
REDIS_ARGS=${REDIS_ARGS:-}

for tool in redis-server redis-cli redis-benchmark; do
	command -v "$tool" >/dev/null || { echo "bench-server: $tool is not on PATH (Debian: apt-get install redis-server redis-tools)" >&2; exit 1; }
done

tmp="$(mktemp -d)"
declare -A pid port
cleanup() {
	for s in "${!pid[@]}"; do stop "$s"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench-server: $*" >&2; }

if [ "$SELF" = 1 ]; then
	B=redis-self
	log "SELF=1: a second redis-server stands in for shardcached"
else
	B=shardcached
	bin=${BENCH_SHARDCACHED_BIN:-}
	if [ -z "$bin" ]; then
		bin="$tmp/shardcached"
		log "building $bin from server/cmd/shardcached"
		(cd "$root/server" && go build -o "$bin" ./cmd/shardcached)
	fi
fi
A=redis

# shellcheck source=lib-servers.sh
. "$(dirname "$0")/lib-servers.sh"

# bench NAME TEST P: one redis-benchmark run; appends "name test P rps cpu_s_per_Mreq" to results.
bench() {
	local s=$1 t=$2 P=$3 before after rps
	before=$(cpu_ticks "${pid[$s]}")
	rps=$(redis-benchmark -h 127.0.0.1 -p "${port[$s]}" -q --csv -t "$t" -n "$N" -c "$CLIENTS" -r 100000 -d 64 -P "$P" |
		awk -F'","' 'NR > 1 { gsub(/"/, "", $2); print $2; exit }')
	after=$(cpu_ticks "${pid[$s]}")
	[ -n "$rps" ] || { log "redis-benchmark gave no result for $s $t -P $P"; exit 1; }
	echo "$s $t $P $rps $(awk -v d=$((after - before)) -v hz="$hz" -v n="$N" 'BEGIN { printf "%.3f", d / hz / n * 1e6 }')" >>"$tmp/results"
}

start "$A"
start "$B"
log "$A on port ${port[$A]}, $B on port ${port[$B]}; N=$N ROUNDS=$ROUNDS P=($PIPELINES) c=$CLIENTS"
: >"$tmp/results"
for round in $(seq "$ROUNDS"); do
	if [ $((round % 2)) = 1 ]; then order="$B $A"; else order="$A $B"; fi
	for P in $PIPELINES; do
		for t in ${TESTS//,/ }; do
			for s in $order; do
				log "round $round/$ROUNDS: $s $t -P $P"
				bench "$s" "$t" "$P"
			done
		done
	done
done

report() {
	echo "## Throughput: redis-benchmark -t $TESTS -n $N -c $CLIENTS -r 100000 -d 64, best of $ROUNDS"
	echo "(requests/s; CPU = server CPU seconds per million requests, best run; MSET requests set 10 keys each)"
	echo
	# Best rps and lowest CPU per (server, test, P), then one row per (test, P).
	awk -v A="$A" -v B="$B" -v pipes="$PIPELINES" -v tests="$TESTS" '
	{ k = $1 SUBSEP $2 SUBSEP $3
	  if (!(k in rps) || $4 > rps[k]) rps[k] = $4
	  if (!(k in cpu) || $5 < cpu[k]) cpu[k] = $5 }
	END {
		printf "%-6s %3s %14s %14s %7s %10s %10s\n", "test", "P", A " rps", B " rps", "ratio", A " CPU", B " CPU"
		np = split(pipes, ps, " "); nt = split(tests, ts, ",")
		for (i = 1; i <= np; i++) for (j = 1; j <= nt; j++) {
			a = A SUBSEP ts[j] SUBSEP ps[i]; b = B SUBSEP ts[j] SUBSEP ps[i]
			printf "%-6s %3s %14.0f %14.0f %7.2f %10.3f %10.3f\n", toupper(ts[j]), ps[i], rps[a], rps[b], rps[b] / rps[a], cpu[a], cpu[b]
		}
	}' "$tmp/results"
}
report | tee "$tmp/report"

# Memory: fresh servers, exactly KEYS keys (KEYS=0 skips it).
stop "$A"
stop "$B"
if [ "$KEYS" = 0 ]; then
	[ -z "${OUT:-}" ] || cp "$tmp/report" "$OUT"
	exit 0
fi
log "memory: loading $KEYS keys with 64-byte values into fresh servers"
declare -A rss0 rss1
for s in "$A" "$B"; do
	start "$s"
	sleep 0.5 # let the new process settle before the baseline
	rss0[$s]=$(rss_kb "${pid[$s]}")
	load_keys "$s" "$KEYS"
	sleep 0.5
	rss1[$s]=$(rss_kb "${pid[$s]}")
	stop "$s"
done
{
	echo
	echo "## Memory: $KEYS keys of 16 bytes (key:NNNNNNNNNNNN) with 64-byte values, loaded with redis-cli --pipe"
	echo
	printf "%-12s %12s %12s %14s\n" server "empty RSS" "loaded RSS" "bytes/key"
	for s in "$A" "$B"; do
		printf "%-12s %9d KiB %9d KiB %14.1f\n" "$s" "${rss0[$s]}" "${rss1[$s]}" "$(awk -v a="${rss0[$s]}" -v b="${rss1[$s]}" -v n="$KEYS" 'BEGIN { print (b - a) * 1024 / n }')"
	done
} | tee -a "$tmp/report"
if [ -n "${OUT:-}" ]; then
	mkdir -p "$(dirname "$OUT")"
	cp "$tmp/report" "$OUT"
	log "report copied to $OUT"
fi
