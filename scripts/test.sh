#!/usr/bin/env bash
# Runs every module's vet and race-enabled tests; `make test` and .ci/run call it.
# Modules are found from their go.mod files, so a new module is tested as soon
# as it exists.
set -euo pipefail
cd "$(dirname "$0")/.."

# The integration tests start real redis-server and memcached processes on
# free loopback ports; install the Debian packages when they are missing.
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v memcached >/dev/null || need+=(memcached)
# protoc, for the check that the generated gRPC/HTTP code is current.
command -v protoc >/dev/null || need+=(protobuf-compiler)
[[ -f /usr/include/google/protobuf/duration.proto ]] || need+=(libprotobuf-dev)
if ((${#need[@]})); then
	sudo=""
	[[ $(id -u) -eq 0 ]] || sudo="sudo"
	echo "== installing ${need[*]}"
	$sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
		echo "!! could not install ${need[*]}: the tests that need them will skip (or fail under CI=true)"
fi

status=0
echo "== generated code (scripts/proto.sh --check)"
./scripts/proto.sh --check || status=1
for mod in $(git ls-files --cached --others --exclude-standard 'go.mod' '*/go.mod' | xargs -n1 dirname | sort -u); do
	echo "== module ${mod}"
	(cd "$mod" && go vet ./... && go test -race -count=1 ./...) || status=1
done
exit $status
