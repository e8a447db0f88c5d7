//go:build race

package servertest

// raceEnabled: this test binary is built with -race, so is shardcached.
const raceEnabled = true
