#!/usr/bin/env bash
# Runs every module's vet and race-enabled tests; `make test` and .ci/run call it.
# Modules are found from their go.mod files, so a new module is tested as soon
# as it exists.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
for mod in $(git ls-files --cached --others --exclude-standard 'go.mod' '*/go.mod' | xargs -n1 dirname | sort -u); do
	echo "== module ${mod}"
	(cd "$mod" && go vet ./... && go test -race -count=1 ./...) || status=1
done
exit $status
