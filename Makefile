# Everyday targets. Anything longer than a line or two lives in scripts/.
.PHONY: run test bench bench-shards

# The main job: today a demo of the engine under concurrent load.
run:
	go run ./examples/demo

# Every module's vet and race-enabled tests (what CI runs).
test:
	./scripts/test.sh

# The engine's own benchmarks, once.
bench:
	go test -run '^$$' -bench . -benchmem .

# Shard counts compared with benchstat (-count 10).
bench-shards:
	./scripts/bench-shards.sh
