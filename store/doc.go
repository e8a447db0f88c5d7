// Package store is one cache interface over several backends, so that a
// service is written once and swaps its cache by configuration: the embedded
// shardcache engine (package memory) in tests and on one node, Redis
// (redisstore: a single server, Sentinel or Cluster) or Memcached
// (memcachestore) when many instances share data, and the engine as a
// near-cache in front of any of them (tiered).
//
// Every adapter gives the same semantics, which storetest.Run checks:
//
//   - any key of 1 to 4096 bytes (binary included) and any value up to 1 MiB
//     round-trips, an empty value being a value and not a miss;
//   - a ttl > 0 expires the key after ttl, never earlier (a backend with a
//     coarser clock rounds up), 0 never expires it, and a negative ttl is
//     refused with ErrInvalidTTL, changing nothing;
//   - GetMany and SetMany use the backend's batch commands, not one round
//     trip per key;
//   - every call honours its ctx: with the server stopped or unreachable it
//     returns an error no later than the ctx's deadline, and after Close every
//     call returns an error wrapping ErrClosed;
//   - every Store is safe for concurrent use.
//
// Errors name the adapter, the operation and the key, and wrap the cause, so
// errors.Is finds ErrNotFound, ErrInvalidTTL, ErrTooLarge, ErrClosed and the
// backend's own errors (context.DeadlineExceeded, a net.Error...).
//
// Values are copied at the boundary: a Store never keeps the slice passed to
// Set, and the caller owns the slice Get returns.
package store
