#!/usr/bin/env bash
# Draws docs/img/*.png from bench/results/{peers.txt,policies.txt,hitratio.csv,shards.txt} (whichever exist) with cmd/plots.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./cmd/plots -peers results/peers.txt -policies results/policies.txt -hitratio results/hitratio.csv -shards results/shards.txt -memory results/memory.txt -out ../docs/img
