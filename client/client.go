package client

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/shardcache/shardcache/client/cachev1"
)

// NoTTL is the TTL of a key that does not expire, as TTL, GetWithTTL and
// Item report it. WithTTL(NoTTL) and Touch with NoTTL store or leave a key
// without a TTL, as 0 does.
const NoTTL time.Duration = -1

// Client calls a shardcached server's Cache service. A Client is safe for
// concurrent use by multiple goroutines, as the grpc.ClientConn under it
// is; calls from several goroutines share (and multiplex over) its
// connection.
//
// Every method takes a context first: its deadline and cancellation apply
// to the call, and an error caused by it matches context.DeadlineExceeded
// or context.Canceled. Errors the server answers with match a sentinel
// error (ErrNotFound, ...); see Error.
type Client struct {
	rpc  cachev1.CacheClient
	conn *grpc.ClientConn // nil when the caller owns the connection
}

// New returns a Client of the server at target, a gRPC target such as
// "localhost:7380" or "dns:///cache.example:7380". It does not connect:
// grpc.NewClient connects at the first call, and reconnects as needed.
// The connection is plaintext unless WithTLS is given. Close releases it.
func New(target string, opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	dial := make([]grpc.DialOption, 0, 2+len(cfg.dial))
	if cfg.useTLS {
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewTLS(cfg.tls)))
	} else {
		dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if cfg.password != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearerToken{
			header:     "Bearer " + cfg.password,
			secureOnly: cfg.useTLS,
		}))
	}
	dial = append(dial, cfg.dial...)
	conn, err := grpc.NewClient(target, dial...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &Client{rpc: cachev1.NewCacheClient(conn), conn: conn}, nil
}

// NewFromConn returns a Client calling over cc, a connection the caller
// set up (credentials included) and closes: the Client's Close does not
// close it. It is as safe for concurrent use as cc (a *grpc.ClientConn
// is).
func NewFromConn(cc grpc.ClientConnInterface) *Client {
	return &Client{rpc: cachev1.NewCacheClient(cc)}
}

// Close closes the connection New made, ending the calls in flight with
// a CANCELLED error; calls after Close fail. For a Client of NewFromConn
// it does nothing and returns nil. A second Close returns an error.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// Get returns the value of key, or ErrNotFound if it is absent. The value
// is the caller's to keep; an empty value is a non-nil empty slice.
func (c *Client) Get(ctx context.Context, key string) ([]byte, error) {
	v, _, err := c.GetWithTTL(ctx, key)
	return v, err
}

// GetWithTTL returns the value of key and its remaining TTL (NoTTL if it
// does not expire), read at the same instant, or ErrNotFound if the key is
// absent.
func (c *Client) GetWithTTL(ctx context.Context, key string) ([]byte, time.Duration, error) {
	r, err := c.rpc.Get(ctx, &cachev1.GetRequest{Key: key})
	if err != nil {
		return nil, 0, wrap("Get", err)
	}
	return nonNil(r.GetValue()), ttlOf(r.GetTtl()), nil
}

// Set stores value under key. By default it stores whether or not the key
// exists, with no TTL (removing one the key had); opts change that:
// WithTTL, IfAbsent, IfPresent, KeepTTL. A condition that does not hold
// fails the call with ErrConditionFailed and leaves the key as it was.
func (c *Client) Set(ctx context.Context, key string, value []byte, opts ...SetOption) error {
	_, err := c.rpc.Set(ctx, setRequest(key, value, opts))
	return wrap("Set", err)
}

// Delete removes key, or returns ErrNotFound if it was absent.
func (c *Client) Delete(ctx context.Context, key string) error {
	_, err := c.rpc.Delete(ctx, &cachev1.DeleteRequest{Key: key})
	return wrap("Delete", err)
}

// Item is one key read by GetMany.
type Item struct {
	// Key is the key, as requested.
	Key string
	// Found reports whether the key exists; when false, Value is nil and
	// TTL is NoTTL.
	Found bool
	// Value is the key's value: a non-nil slice (empty for an empty value)
	// when Found.
	Value []byte
	// TTL is the key's remaining TTL, NoTTL when it does not expire.
	TTL time.Duration
}

// GetMany reads keys at one instant. It returns one Item per key, in the
// order of keys (a key given twice is reported twice): an absent key is
// not an error but an Item with Found false, so a miss and an empty value
// stay distinct. An empty keys returns an empty slice.
func (c *Client) GetMany(ctx context.Context, keys []string) ([]Item, error) {
	r, err := c.rpc.GetMany(ctx, &cachev1.GetManyRequest{Keys: keys})
	if err != nil {
		return nil, wrap("GetMany", err)
	}
	out := make([]Item, len(r.GetItems()))
	for i, it := range r.GetItems() {
		out[i] = Item{Key: it.GetKey(), Found: it.GetFound(), TTL: NoTTL}
		if it.GetFound() {
			out[i].Value, out[i].TTL = nonNil(it.GetValue()), ttlOf(it.GetTtl())
		}
	}
	return out, nil
}

// SetItem is one write of SetMany: Set(Key, Value, Options...).
type SetItem struct {
	Key     string
	Value   []byte
	Options []SetOption
}

// SetMany applies items atomically: no reader sees some applied and
// others not. Each item's condition is checked on its own; applied[i]
// reports whether items[i] was stored, false when its condition did not
// hold (which is not an error). An invalid item (ErrInvalidArgument) fails
// the whole call and none is stored.
func (c *Client) SetMany(ctx context.Context, items []SetItem) (applied []bool, err error) {
	req := &cachev1.SetManyRequest{Items: make([]*cachev1.SetRequest, len(items))}
	for i, it := range items {
		req.Items[i] = setRequest(it.Key, it.Value, it.Options)
	}
	r, err := c.rpc.SetMany(ctx, req)
	if err != nil {
		return nil, wrap("SetMany", err)
	}
	return r.GetApplied(), nil
}

// Touch sets key's TTL to ttl, with millisecond resolution; a ttl of 0 or
// NoTTL removes the TTL, so the key no longer expires. It returns
// ErrNotFound if the key is absent; a negative ttl other than NoTTL is
// refused with ErrInvalidArgument.
func (c *Client) Touch(ctx context.Context, key string, ttl time.Duration) error {
	req := &cachev1.TouchRequest{Key: key}
	if ttl != 0 && ttl != NoTTL {
		req.Ttl = durationpb.New(ttl)
	}
	_, err := c.rpc.Touch(ctx, req)
	return wrap("Touch", err)
}

// TTL returns key's remaining TTL, NoTTL if the key does not expire, or
// ErrNotFound if it is absent.
func (c *Client) TTL(ctx context.Context, key string) (time.Duration, error) {
	r, err := c.rpc.TTL(ctx, &cachev1.TTLRequest{Key: key})
	if err != nil {
		return 0, wrap("TTL", err)
	}
	return ttlOf(r.GetTtl()), nil
}

// Increment adds delta (which may be negative) to the integer key holds,
// an absent key counting as 0, and returns the sum. The key keeps its TTL.
// A value that is not a decimal 64-bit integer, or a sum that overflows,
// fails with ErrInvalidArgument.
func (c *Client) Increment(ctx context.Context, key string, delta int64) (int64, error) {
	r, err := c.rpc.Increment(ctx, &cachev1.IncrementRequest{Key: key, Delta: delta})
	if err != nil {
		return 0, wrap("Increment", err)
	}
	return r.GetValue(), nil
}

// ttlOf converts a response's TTL: unset means the key does not expire.
func ttlOf(d *durationpb.Duration) time.Duration {
	if d == nil {
		return NoTTL
	}
	return d.AsDuration()
}

// nonNil returns b, or an empty slice for nil: protobuf decodes an empty
// bytes field as nil, but a found key's value is never nil here.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
