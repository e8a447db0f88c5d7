#!/usr/bin/env bash
# Regenerates the Go code of proto/shardcache/v1 (`make proto`):
#   client/cachev1/cache.pb.go, cache_grpc.pb.go   messages and gRPC stubs
#   server/httpapi/internal/cachev1/cache.pb.gw.go the HTTP gateway (cache_http.yaml)
# With --check it generates into a temporary directory and fails when the
# committed files differ (`make test` runs that). protoc comes from Debian's
# protobuf-compiler (installed when missing); the plugins are pinned below and
# built from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
PROTOC_GEN_GATEWAY=github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@v2.34.0

check=false
[[ ${1:-} == --check ]] && check=true

if ! command -v protoc >/dev/null || [[ ! -f /usr/include/google/protobuf/duration.proto ]]; then
	sudo=""
	[[ $(id -u) -eq 0 ]] || sudo="sudo"
	echo "== installing protobuf-compiler"
	$sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOBIN="$tmp/bin"
go install "$PROTOC_GEN_GO" "$PROTOC_GEN_GO_GRPC" "$PROTOC_GEN_GATEWAY" 2>/dev/null ||
	{ go install "$PROTOC_GEN_GO" && go install "$PROTOC_GEN_GO_GRPC" && go install "$PROTOC_GEN_GATEWAY"; }

mod=github.com/shardcache/shardcache
mkdir -p "$tmp/out"
PATH="$GOBIN:$PATH" protoc -I proto -I /usr/include \
	--go_out="$tmp/out" --go_opt=module=$mod \
	--go-grpc_out="$tmp/out" --go-grpc_opt=module=$mod \
	--grpc-gateway_out="$tmp/out" \
	--grpc-gateway_opt=module=$mod,standalone=true,generate_unbound_methods=false,grpc_api_configuration=proto/shardcache/v1/cache_http.yaml \
	shardcache/v1/cache.proto 2>&1 | { grep -v '^$' || true; }
mkdir -p "$tmp/out/server/httpapi/internal/cachev1"
mv "$tmp/out/client/cachev1/cache.pb.gw.go" "$tmp/out/server/httpapi/internal/cachev1/"

files=(client/cachev1/cache.pb.go client/cachev1/cache_grpc.pb.go server/httpapi/internal/cachev1/cache.pb.gw.go)
if $check; then
	stale=0
	for f in "${files[@]}"; do
		if ! cmp -s "$tmp/out/$f" "$f"; then
			echo "!! $f is stale: run \`make proto\` and commit the result"
			diff -u "$f" "$tmp/out/$f" | head -20 || true
			stale=1
		fi
	done
	((stale == 0)) && echo "== generated code matches proto/"
	exit $stale
fi
for f in "${files[@]}"; do
	mkdir -p "$(dirname "$f")"
	cp "$tmp/out/$f" "$f"
done
echo "== regenerated ${files[*]}"
