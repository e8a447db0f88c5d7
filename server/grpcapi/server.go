package grpcapi

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/shardcache/shardcache/client/cachev1"
	"github.com/shardcache/shardcache/server"
)

// Options configure a Server. The zero value serves plaintext with the
// limits described on each field.
type Options struct {
	// TLS, when set, makes the server speak TLS only.
	TLS *tls.Config
	// IdleTimeout closes a connection with no call in flight for that long
	// (the timeout directive); 0 means never.
	IdleTimeout time.Duration
}

// frameSlack is what a request may carry beyond its largest value: keys,
// field tags and lengths.
const frameSlack = 1 << 20

// maxStreams bounds the calls in flight on one connection.
const maxStreams = 1024

// Server is the gRPC server of shardcached: the Cache service, the
// standard health service (grpc.health.v1; SERVING while the keyspace is
// loaded and not shutting down) and server reflection (for grpcurl). Its
// methods are safe for concurrent use.
//
// Every Cache call needs the requirepass password, when one is set, as
// the metadata "authorization: Bearer <password>", and is refused from a
// non-loopback address in protected mode, as RESP connections are. Health
// and reflection calls need neither: they reveal no data.
type Server struct {
	srv    *server.Server
	g      *grpc.Server
	health *health.Server
	stop   sync.Once
	opts   Options
}

// NewServer returns the gRPC server over srv. A request larger than
// srv's proto-max-bulk-len (read now) plus 1 MiB is refused with
// RESOURCE_EXHAUSTED before it is read whole.
func NewServer(srv *server.Server, opts Options) *Server {
	max := int(min(srv.MaxBulkLen()+frameSlack, 1<<31-1))
	s := &Server{srv: srv, health: health.NewServer(), opts: opts}
	gopts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(max),
		grpc.MaxSendMsgSize(max),
		grpc.MaxConcurrentStreams(maxStreams),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: opts.IdleTimeout,
			Time:              2 * time.Minute,
			Timeout:           20 * time.Second,
		}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.ChainUnaryInterceptor(s.unaryGuard),
		grpc.ChainStreamInterceptor(s.streamGuard),
	}
	if opts.TLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	s.g = grpc.NewServer(gopts...)
	cachev1.RegisterCacheServer(s.g, NewService(srv, server.ProtocolGRPC))
	healthpb.RegisterHealthServer(s.g, s.health)
	reflection.Register(s.g)
	s.setHealth()
	return s
}

// setHealth publishes whether srv serves, for the whole server ("") and
// for the Cache service.
func (s *Server) setHealth() {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if s.srv.Ready() {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(cachev1.Cache_ServiceDesc.ServiceName, st)
}

// Serve accepts connections on ln until Shutdown. It returns nil after
// Shutdown, or the listener's error.
func (s *Server) Serve(ln net.Listener) error {
	s.setHealth()
	err := s.g.Serve(ln)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Shutdown marks the server NOT_SERVING, stops accepting connections and
// waits for the calls in flight to finish; when ctx ends first, it closes
// the remaining connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.g.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.g.Stop()
		<-done
		return ctx.Err()
	}
}

// guarded reports whether a method needs the password: every Cache
// method does, health and reflection do not.
func guarded(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/"+cachev1.Cache_ServiceDesc.ServiceName+"/")
}

func (s *Server) unaryGuard(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if guarded(info.FullMethod) {
		if err := s.admit(ctx, info.FullMethod); err != nil {
			return nil, err
		}
	}
	return handler(ctx, req)
}

func (s *Server) streamGuard(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if guarded(info.FullMethod) {
		if err := s.admit(ss.Context(), info.FullMethod); err != nil {
			return err
		}
	}
	return handler(srv, ss)
}

// admit checks protected mode and the bearer token of one call.
func (s *Server) admit(ctx context.Context, fullMethod string) error {
	if p, ok := peer.FromContext(ctx); ok && s.srv.ProtectedDenies(p.Addr) {
		s.srv.RecordRejected(server.ProtocolGRPC, commandOf(fullMethod))
		return status.Error(codes.PermissionDenied, ProtectedModeMessage)
	}
	if !s.srv.NeedsPassword() {
		return nil
	}
	token, ok := bearer(ctx)
	if !ok {
		s.srv.RecordRejected(server.ProtocolGRPC, commandOf(fullMethod))
		return status.Error(codes.Unauthenticated, "authentication required: send the requirepass password as metadata authorization: Bearer <password>")
	}
	if !s.srv.CheckPassword(token) {
		s.srv.RecordRejected(server.ProtocolGRPC, commandOf(fullMethod))
		return status.Error(codes.Unauthenticated, "invalid password")
	}
	return nil
}

// ProtectedModeMessage explains a refusal by protected mode to a client
// of a remote API.
const ProtectedModeMessage = "protected mode is on and no password is set: only loopback clients are served; set requirepass, or protected-mode no"

// bearer returns the token of the call's "authorization: Bearer" metadata.
func bearer(ctx context.Context) (string, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if scheme, token, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "bearer") {
			return strings.TrimSpace(token), true
		}
	}
	return "", false
}

// commandOf names the Redis command a method counts under.
func commandOf(fullMethod string) string {
	return methodCommand[fullMethod[strings.LastIndexByte(fullMethod, '/')+1:]]
}
