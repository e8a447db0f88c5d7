#!/usr/bin/env bash
# Replays the synthetic sequences and every trace in TRACES (default ../shared/traces beside the repo) through every cache; writes bench/results/hitratio.md and hitratio.csv (extra arguments go to cmd/hitratio).
set -euo pipefail
cd "$(dirname "$0")/.."
TRACES=${TRACES:-../../shared/traces}
mkdir -p results
go run ./cmd/hitratio -traces "$TRACES" -format markdown -o results/hitratio.md -csv results/hitratio.csv "$@"
echo "hitratio: results/hitratio.md, results/hitratio.csv" >&2
