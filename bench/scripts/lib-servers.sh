# Sourced by bench-server.sh and bench-aof-rewrite.sh: starting and stopping redis-server and shardcached on
# free loopback ports, and reading a process's CPU time and RSS from /proc. The caller sets tmp (a scratch
# directory), bin (the shardcached binary), BENCH_SHARDCACHED_ARGS, REDIS_ARGS, the associative arrays pid and
# port, and a log function.

# A port nobody answers on; start retries with another if the bind still fails.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# start NAME: starts server NAME (redis, redis-self or shardcached) and waits for PING. Each start gets an
# empty --dir, so that a snapshot written at a previous stop is not loaded into a "fresh" server.
starts=0
start() {
	local s=$1 attempt p dir
	starts=$((starts + 1))
	dir="$tmp/$1.$starts"
	mkdir -p "$dir"
	for attempt in 1 2 3 4 5; do
		p=$(free_port)
		case $s in
		shardcached)
			# shellcheck disable=SC2086 # BENCH_SHARDCACHED_ARGS is a list of words
			"$bin" --port "$p" --bind 127.0.0.1 --admin-port 0 --dir "$dir" $BENCH_SHARDCACHED_ARGS >"$dir/log" 2>&1 &
			;;
		*)
			# shellcheck disable=SC2086 # REDIS_ARGS is a list of words
			redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --dir "$dir" $REDIS_ARGS >"$dir/log" 2>&1 &
			;;
		esac
		pid[$s]=$!
		port[$s]=$p
		for _ in $(seq 100); do
			if [ "$(redis-cli -p "$p" ping 2>/dev/null)" = PONG ]; then return; fi
			kill -0 "${pid[$s]}" 2>/dev/null || break
			sleep 0.1
		done
		stop "$s"
		grep -qi "address already in use" "$dir/log" || { log "$s did not start:"; cat "$dir/log" >&2; exit 1; }
	done
	log "$s: no free port after 5 attempts"
	exit 1
}

# stop NAME: SIGTERM, up to 10 s, then SIGKILL.
stop() {
	local s=$1 p=${pid[$1]:-}
	[ -n "$p" ] || return 0
	unset "pid[$s]"
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	log "$s ignored SIGTERM for 10 s: killing it"
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

hz=$(getconf CLK_TCK)
# cpu_ticks PID: utime+stime; fields counted after the ")" that ends the command name.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# load_keys NAME N: N keys key:000000000001... with 64-byte values into server NAME through redis-cli --pipe,
# checked by the replies and DBSIZE.
load_keys() {
	local s=$1 n=$2 out value
	value=$(printf '%064d' 0 | tr 0 v)
	out=$(awk -v n="$n" -v v="$value" 'BEGIN { for (i = 1; i <= n; i++) printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$64\r\n%s\r\n", i, v }' |
		redis-cli -p "${port[$s]}" --pipe 2>&1)
	echo "$out" | grep -q "errors: 0, replies: $n" || { log "$s: redis-cli --pipe: $out"; exit 1; }
	out=$(redis-cli -p "${port[$s]}" dbsize)
	[ "$out" = "$n" ] || { log "$s: DBSIZE is $out after loading $n keys"; exit 1; }
}
