package client

import (
	"context"
	"crypto/tls"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/shardcache/shardcache/client/cachev1"
)

// An Option configures the connection New makes. Options are applied in
// order; a later one of the same kind replaces an earlier one.
type Option func(*config)

type config struct {
	password string
	useTLS   bool
	tls      *tls.Config
	dial     []grpc.DialOption
}

// WithPassword sends p, the server's requirepass password, with every
// call as the metadata "authorization: Bearer <p>". An empty p sends
// nothing.
//
// Without WithTLS the password is sent in clear text, readable by anyone
// on the network path: use WithTLS unless the server is on the same host
// or a trusted network. With WithTLS the credentials require a secure
// transport, and gRPC refuses to send them over an insecure one (for
// instance when WithDialOptions replaces the transport credentials with
// insecure ones).
func WithPassword(p string) Option {
	return func(c *config) { c.password = p }
}

// WithTLS makes the connection speak TLS, configured by cfg (which is
// cloned; nil: the default configuration, verifying the server against
// the system roots). Without WithTLS the connection is plaintext.
func WithTLS(cfg *tls.Config) Option {
	return func(c *config) { c.useTLS, c.tls = true, cfg }
}

// WithDialOptions adds gRPC dial options, applied after the ones New
// derives from the other options (so they can override them), for
// instance grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(n)) to read
// values over gRPC's default 4 MiB limit, keepalive parameters, or a
// custom dialer.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *config) { c.dial = append(c.dial, opts...) }
}

// bearerToken is the per-RPC credentials of WithPassword.
type bearerToken struct {
	header     string
	secureOnly bool
}

// GetRequestMetadata returns the authorization metadata.
func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": b.header}, nil
}

// RequireTransportSecurity is true when the client was configured with
// TLS, so that the password is never sent in clear text by mistake; false
// without TLS, where sending it in clear text is what was asked.
func (b bearerToken) RequireTransportSecurity() bool {
	return b.secureOnly
}

var _ credentials.PerRPCCredentials = bearerToken{}

// A SetOption modifies a Set (or one item of SetMany). By default a Set
// stores the value whether or not the key exists, with no TTL.
type SetOption func(*cachev1.SetRequest)

// WithTTL makes the key expire after d, with millisecond resolution (a
// positive d under a millisecond is rounded up to one). A d of 0 or NoTTL
// stores the key without a TTL; any other negative d is refused by the
// server with ErrInvalidArgument.
func WithTTL(d time.Duration) SetOption {
	return func(r *cachev1.SetRequest) {
		if d == 0 || d == NoTTL {
			r.Ttl = nil
			return
		}
		r.Ttl = durationpb.New(d)
	}
}

// IfAbsent stores the value only if the key does not exist (Redis's SET
// NX); otherwise the call fails with ErrConditionFailed. It replaces
// IfPresent.
func IfAbsent() SetOption {
	return func(r *cachev1.SetRequest) { r.Condition = cachev1.Condition_CONDITION_IF_ABSENT }
}

// IfPresent stores the value only if the key exists (Redis's SET XX);
// otherwise the call fails with ErrConditionFailed. It replaces IfAbsent.
func IfPresent() SetOption {
	return func(r *cachev1.SetRequest) { r.Condition = cachev1.Condition_CONDITION_IF_PRESENT }
}

// KeepTTL keeps the TTL the key has (Redis's SET KEEPTTL; a new key gets
// none). It cannot be combined with a positive WithTTL: the server
// refuses that with ErrInvalidArgument.
func KeepTTL() SetOption {
	return func(r *cachev1.SetRequest) { r.KeepTtl = true }
}

// setRequest builds the request of a Set.
func setRequest(key string, value []byte, opts []SetOption) *cachev1.SetRequest {
	r := &cachev1.SetRequest{Key: key, Value: value, Condition: cachev1.Condition_CONDITION_ALWAYS}
	for _, o := range opts {
		o(r)
	}
	return r
}
