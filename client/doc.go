// Package client is a Go client of shardcached's gRPC API
// (proto/shardcache/v1/cache.proto). Its generated messages and stubs are
// in package cachev1.
//
// New connects to a server; NewFromConn calls over a connection the caller
// manages. A Client is safe for concurrent use:
//
//	c, err := client.New("localhost:7380", client.WithPassword(pw), client.WithTLS(nil))
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	err = c.Set(ctx, "greeting", []byte("hello"), client.WithTTL(time.Minute), client.IfAbsent())
//	v, err := c.Get(ctx, "greeting")
//
// Errors match, with errors.Is, a sentinel per gRPC status code the server
// answers with (ErrNotFound, ErrConditionFailed, ErrInvalidArgument,
// ErrResourceExhausted, ErrUnauthenticated, ErrPermissionDenied,
// ErrUnavailable), and keep the status itself: status.Code(err) and
// status.FromError(err) return the server's code and message.
//
// TTLs have millisecond resolution; NoTTL stands for a key that does not
// expire.
package client
