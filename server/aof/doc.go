// Package aof is shardcached's append-only file: the RESP record format and
// its reader, the multi-part layout (a base snapshot, incremental RESP
// files and a manifest naming them, as Redis 7 lays them out), the Log that
// appends records with group commit and Redis's three fsync policies, the
// rewrite that swaps in a new base, and the checker behind
// `shardcached check-aof`.
//
// The package knows nothing of commands: records are arrays of byte
// strings. The server decides what it logs (one canonical record per
// changed key, see server/aof.go) and replays records through its own
// command code.
package aof
