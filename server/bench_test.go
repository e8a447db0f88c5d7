package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/shardcache/shardcache/server/config"
	"github.com/shardcache/shardcache/server/resp"
)

// BenchmarkCommand runs commands through the dispatcher and the engine as
// a connection would, without the socket: parse (resp.Reader over a
// pipeline), process, reply (resp.Writer to io.Discard). It shows what a
// command costs the server beyond the network, and what it allocates.
func BenchmarkCommand(b *testing.B) {
	cfg, err := config.Load([]string{"--port", "0", "--admin-port", "0"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.cache.Close()
	const keys = 100000
	for i := range keys {
		srv.cache.Set(fmt.Sprintf("key:%012d", i), []byte("1"))
	}
	for _, bc := range []struct{ name, format string }{
		{"cmd=get", "*2\r\n$3\r\nGET\r\n$16\r\nkey:%012d\r\n"},
		{"cmd=incr", "*2\r\n$4\r\nINCR\r\n$16\r\nkey:%012d\r\n"}, // before SET overwrites the counters
		{"cmd=set", "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$64\r\n" + string(bytes.Repeat([]byte("v"), 64)) + "\r\n"},
		{"cmd=set-ex", "*5\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$1\r\nv\r\n$2\r\nEX\r\n$3\r\n100\r\n"},
	} {
		var in bytes.Buffer
		for i := range 4096 {
			fmt.Fprintf(&in, bc.format, (i*7919)%keys)
		}
		pipeline := in.Bytes()
		b.Run(bc.name, func(b *testing.B) {
			c := &client{srv: srv, w: resp.NewWriter(io.Discard), authed: true}
			src := &repeatReader{data: pipeline}
			c.r = resp.NewReader(src, resp.DefaultLimits())
			b.ReportAllocs()
			for b.Loop() {
				args, err := c.r.ReadCommand()
				if err != nil {
					b.Fatal(err)
				}
				c.failed = false
				c.process(args)
				if c.failed {
					b.Fatalf("%s answered an error", args[0])
				}
				if c.w.Buffered() > 32<<10 {
					c.w.Flush()
				}
			}
		})
	}
}

// repeatReader serves data over and over, in reads of at most 16 KiB.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.off == len(r.data) {
		r.off = 0
	}
	n := copy(p, r.data[r.off:min(len(r.data), r.off+16<<10)])
	r.off += n
	return n, nil
}
