// Package server runs shardcache's commands for clients speaking Redis's
// protocol: the command table (commands → engine calls → replies), the
// connection loop (read a batch, run it, flush once), transactions, client
// bookkeeping and INFO. It knows nothing of flags or signals; cmd/shardcached
// wires those.
package server
