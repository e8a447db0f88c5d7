// Package config is shardcached's configuration, redis-server style: the
// directives of redis.conf that shardcached has, read from a file, the
// environment and the command line, and read and changed at runtime by
// CONFIG GET and CONFIG SET.
//
// One table of directives (directives.go) drives every source and both
// commands, so their names, defaults, syntax, formatting and error texts
// cannot drift apart. Redis 7.0's behaviour is the specification; the texts of
// errors are Redis's wherever Redis has one, and the tests compare them, and
// CONFIG GET's formatting, with a real redis-server.
//
// Where shardcached departs from Redis, on purpose:
//
//   - Defaults: port 6380, dir "" (in memory only: no snapshots, so no save
//     rules either), dbfilename dump.snap, save off, databases 1.
//   - bind, port, tls-port, tls-cert-file and tls-key-file cannot be changed
//     at runtime ("can't set immutable config"; Redis 7 rebinds its
//     listeners), nor can the ours-only admin-port, grpc-port, http-port,
//     tls-grpc, tls-http, shards and event-loops. dir and
//     dbfilename fail as Redis 7's protected configs do by default.
//   - maxmemory-policy has noeviction, allkeys-lru and allkeys-lfu; Redis's
//     volatile-* and allkeys-random are refused with a reason that lists
//     what is supported.
//   - databases accepts only 1: the keyspace is db 0.
//   - bind refuses an empty list (port 0 is the way to listen nowhere); a '-'
//     prefix (bind the address if it exists) is kept, for the listener to
//     honour.
//   - maxmemory and proto-max-bulk-len stop at 2⁶³-1 bytes.
//   - CONFIG GET answers in a fixed order (the patterns', then the table's)
//     rather than a hash table's.
//   - A save in a higher source replaces the lower sources' rules; within
//     one source save lines add up as in redis.conf.
//   - CONFIG REWRITE is not implemented here.
//   - appendonly yes needs a dir (dir "" keeps everything in memory).
package config
