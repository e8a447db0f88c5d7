package client

import (
	"context"
	"errors"
	"io"
	"iter"
	"math"

	"github.com/shardcache/shardcache/client/cachev1"
)

// Scan returns an iterator over the keys matching match, a Redis glob
// pattern ("user:*", "id:[0-9]?"; empty: every key). The server sends
// pageSize keys per message at most (0: its default, 100; it caps large
// sizes); a negative pageSize is refused with ErrInvalidArgument.
//
// Each range over the iterator runs one scan, a server stream under ctx.
// A key present for the whole scan is yielded exactly once; a key added
// or removed meanwhile may or may not be. A failure is yielded once, as
// ("", err), and ends the iteration. Breaking out of the loop cancels the
// stream, so the server stops sending. The iterator may be ranged over
// again (each time a new scan) and from several goroutines at once, but
// each range must stay in one goroutine.
//
//	for key, err := range c.Scan(ctx, "session:*", 500) {
//		if err != nil {
//			return err
//		}
//		// use key
//	}
func (c *Client) Scan(ctx context.Context, match string, pageSize int) iter.Seq2[string, error] {
	size := int32(min(max(pageSize, -1), math.MaxInt32))
	return func(yield func(string, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.rpc.Scan(ctx, &cachev1.ScanRequest{Match: match, PageSize: size})
		if err != nil {
			yield("", wrap("Scan", err))
			return
		}
		for {
			page, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield("", wrap("Scan", err))
				return
			}
			for _, k := range page.GetKeys() {
				if !yield(k, nil) {
					return
				}
			}
		}
	}
}
