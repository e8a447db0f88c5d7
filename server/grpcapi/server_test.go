package grpcapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/shardcache/shardcache/client/cachev1"
	"github.com/shardcache/shardcache/server"
	"github.com/shardcache/shardcache/server/internal/servertest"
)

type fixture struct {
	srv   *server.Server
	api   cachev1.CacheClient
	conn  *grpc.ClientConn
	redis *redis.Client
	grpc  *Server
}

// start serves the gRPC API of an in-process server over an in-memory
// connection, beside its RESP port.
func start(t *testing.T, args ...string) *fixture {
	t.Helper()
	srv, addr := servertest.StartInProcess(t, args...)
	g := NewServer(srv, Options{})
	ln := bufconn.Listen(1 << 20)
	served := make(chan error, 1)
	go func() { served <- g.Serve(ln) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10), // no BDP growth: flow control holds a stream
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20), grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(&redis.Options{Addr: addr, Password: passwordOf(args)})
	t.Cleanup(func() {
		rc.Close()
		conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &fixture{srv: srv, api: cachev1.NewCacheClient(conn), conn: conn, redis: rc, grpc: g}
}

func passwordOf(args []string) string {
	if i := slices.Index(args, "--requirepass"); i >= 0 {
		return args[i+1]
	}
	return ""
}

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("status %v (%v), want %v", got, err, want)
	}
}

func TestRoundTripsAgreeWithRESP(t *testing.T) {
	f := start(t)
	ctx := context.Background()

	// Set with a TTL is SET PX: RESP sees the value and the deadline.
	if _, err := f.api.Set(ctx, &cachev1.SetRequest{Key: "k", Value: []byte("v1"), Ttl: durationpb.New(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if v, err := f.redis.Get(ctx, "k").Result(); err != nil || v != "v1" {
		t.Fatalf("RESP GET = %q, %v", v, err)
	}
	if ttl := f.redis.PTTL(ctx, "k").Val(); ttl < 29*time.Second || ttl > 30*time.Second {
		t.Fatalf("RESP PTTL = %v, want about 30s", ttl)
	}
	// A RESP write is what Get reads, with its TTL.
	f.redis.Set(ctx, "r", "from resp", 10*time.Second)
	g, err := f.api.Get(ctx, &cachev1.GetRequest{Key: "r"})
	if err != nil || string(g.GetValue()) != "from resp" {
		t.Fatalf("Get = %v, %v", g, err)
	}
	if d := g.GetTtl().AsDuration(); d < 9*time.Second || d > 10*time.Second {
		t.Fatalf("Get ttl = %v, want about 10s", d)
	}
	f.redis.Set(ctx, "forever", "x", 0)
	if g, err := f.api.Get(ctx, &cachev1.GetRequest{Key: "forever"}); err != nil || g.Ttl != nil {
		t.Fatalf("Get of a key without TTL = %v, %v; want no ttl", g, err)
	}

	// Conditions.
	_, err = f.api.Set(ctx, &cachev1.SetRequest{Key: "k", Value: []byte("v2"), Condition: cachev1.Condition_CONDITION_IF_ABSENT})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = f.api.Set(ctx, &cachev1.SetRequest{Key: "missing", Value: []byte("v"), Condition: cachev1.Condition_CONDITION_IF_PRESENT})
	wantCode(t, err, codes.FailedPrecondition)
	if n := f.redis.Exists(ctx, "missing").Val(); n != 0 {
		t.Fatalf("a refused IF_PRESENT stored the key")
	}
	if _, err := f.api.Set(ctx, &cachev1.SetRequest{Key: "k", Value: []byte("v3"), Condition: cachev1.Condition_CONDITION_IF_PRESENT, KeepTtl: true}); err != nil {
		t.Fatal(err)
	}
	if v := f.redis.Get(ctx, "k").Val(); v != "v3" {
		t.Fatalf("after IF_PRESENT: %q", v)
	}
	if ttl := f.redis.PTTL(ctx, "k").Val(); ttl < 28*time.Second {
		t.Fatalf("keep_ttl lost the TTL: %v", ttl)
	}
	if _, err := f.api.Set(ctx, &cachev1.SetRequest{Key: "k", Value: []byte("v4")}); err != nil {
		t.Fatal(err)
	}
	if ttl := f.redis.PTTL(ctx, "k").Val(); ttl != -1 {
		t.Fatalf("a plain Set kept the TTL: %v (SET clears it)", ttl)
	}

	// Touch, TTL.
	if _, err := f.api.Touch(ctx, &cachev1.TouchRequest{Key: "k", Ttl: durationpb.New(1500 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	tr, err := f.api.TTL(ctx, &cachev1.TTLRequest{Key: "k"})
	if err != nil || tr.GetTtl().AsDuration() > 1500*time.Millisecond || tr.GetTtl().AsDuration() < time.Second {
		t.Fatalf("TTL after Touch = %v, %v", tr, err)
	}
	if _, err := f.api.Touch(ctx, &cachev1.TouchRequest{Key: "k"}); err != nil {
		t.Fatal(err)
	}
	if ttl := f.redis.PTTL(ctx, "k").Val(); ttl != -1 {
		t.Fatalf("Touch without ttl left PTTL %v", ttl)
	}
	_, err = f.api.Touch(ctx, &cachev1.TouchRequest{Key: "missing"})
	wantCode(t, err, codes.NotFound)
	_, err = f.api.TTL(ctx, &cachev1.TTLRequest{Key: "missing"})
	wantCode(t, err, codes.NotFound)

	// Increment shares INCRBY's integer.
	f.redis.Set(ctx, "n", "40", 0)
	ir, err := f.api.Increment(ctx, &cachev1.IncrementRequest{Key: "n", Delta: 2})
	if err != nil || ir.GetValue() != 42 || f.redis.Get(ctx, "n").Val() != "42" {
		t.Fatalf("Increment = %v, %v; RESP %q", ir, err, f.redis.Get(ctx, "n").Val())
	}
	_, err = f.api.Increment(ctx, &cachev1.IncrementRequest{Key: "k", Delta: 1})
	wantCode(t, err, codes.InvalidArgument)
	f.redis.Set(ctx, "max", strconv.FormatInt(1<<63-1, 10), 0)
	_, err = f.api.Increment(ctx, &cachev1.IncrementRequest{Key: "max", Delta: 1})
	wantCode(t, err, codes.InvalidArgument)

	// Delete.
	if _, err := f.api.Delete(ctx, &cachev1.DeleteRequest{Key: "k"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.api.Delete(ctx, &cachev1.DeleteRequest{Key: "k"})
	wantCode(t, err, codes.NotFound)
	_, err = f.api.Get(ctx, &cachev1.GetRequest{Key: "k"})
	wantCode(t, err, codes.NotFound)
}

func TestBatches(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	f.redis.Set(ctx, "b", "old", 0)
	sr, err := f.api.SetMany(ctx, &cachev1.SetManyRequest{Items: []*cachev1.SetRequest{
		{Key: "a", Value: []byte("1"), Ttl: durationpb.New(time.Minute)},
		{Key: "b", Value: []byte("2"), Condition: cachev1.Condition_CONDITION_IF_ABSENT},
		{Key: "c", Value: []byte{}},
	}})
	if err != nil || !slices.Equal(sr.GetApplied(), []bool{true, false, true}) {
		t.Fatalf("SetMany = %v, %v", sr, err)
	}
	if v := f.redis.MGet(ctx, "a", "b", "c").Val(); v[0] != "1" || v[1] != "old" || v[2] != "" {
		t.Fatalf("RESP MGET after SetMany = %q", v)
	}
	gr, err := f.api.GetMany(ctx, &cachev1.GetManyRequest{Keys: []string{"a", "nope", "b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	items := gr.GetItems()
	if len(items) != 4 || !items[0].Found || string(items[0].Value) != "1" || items[0].Ttl == nil ||
		items[1].Found || items[1].Key != "nope" || string(items[2].Value) != "old" || items[2].Ttl != nil ||
		!items[3].Found || len(items[3].Value) != 0 {
		t.Fatalf("GetMany = %v", items)
	}
	// One invalid item refuses the whole batch before anything is written.
	_, err = f.api.SetMany(ctx, &cachev1.SetManyRequest{Items: []*cachev1.SetRequest{
		{Key: "d", Value: []byte("x")},
		{Key: "", Value: []byte("y")},
	}})
	wantCode(t, err, codes.InvalidArgument)
	if f.redis.Exists(ctx, "d").Val() != 0 {
		t.Fatal("a refused batch wrote its first item")
	}
}

func TestScanReturnsEveryKey(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	want := map[string]bool{}
	pipe := f.redis.Pipeline()
	for i := range 2500 {
		k := "user:" + strconv.Itoa(i)
		pipe.Set(ctx, k, "x", 0)
		want[k] = true
		pipe.Set(ctx, "other:"+strconv.Itoa(i), "x", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	stream, err := f.api.Scan(ctx, &cachev1.ScanRequest{Match: "user:*", PageSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for {
		page, err := stream.Recv()
		if err != nil {
			if status.Code(err) != codes.OK && !errors.Is(err, context.Canceled) && err.Error() != "EOF" {
				t.Fatal(err)
			}
			break
		}
		if n := len(page.GetKeys()); n == 0 || n > 300 {
			t.Fatalf("page of %d keys, want 1..300", n)
		}
		for _, k := range page.GetKeys() {
			got[k] = true
		}
	}
	if len(got) != len(want) {
		t.Fatalf("Scan returned %d keys, want %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Fatalf("Scan missed %q", k)
		}
	}
	s2, err := f.api.Scan(ctx, &cachev1.ScanRequest{PageSize: -1})
	if err == nil {
		_, err = s2.Recv()
	}
	wantCode(t, err, codes.InvalidArgument)
}

func TestInvalidArguments(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	for name, req := range map[string]*cachev1.SetRequest{
		"empty key":         {Key: "", Value: []byte("v")},
		"negative ttl":      {Key: "k", Ttl: durationpb.New(-time.Second)},
		"invalid duration":  {Key: "k", Ttl: &durationpb.Duration{Seconds: 1, Nanos: -5}},
		"ttl with keep_ttl": {Key: "k", Ttl: durationpb.New(time.Second), KeepTtl: true},
		"unknown condition": {Key: "k", Condition: 99},
		"huge ttl":          {Key: "k", Ttl: &durationpb.Duration{Seconds: 315576000000}},
	} {
		_, err := f.api.Set(ctx, req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if n := f.redis.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("refused Sets stored %d keys", n)
	}
	// A sub-millisecond TTL rounds up: the key gets a deadline, not none.
	if _, err := f.api.Set(ctx, &cachev1.SetRequest{Key: "k", Value: []byte("v"), Ttl: durationpb.New(100 * time.Microsecond)}); err != nil {
		t.Fatal(err)
	}
	if ttl := f.redis.PTTL(ctx, "k").Val(); ttl == -1 {
		t.Fatal("a 100µs TTL was stored as no TTL")
	}
}

func TestAuthentication(t *testing.T) {
	f := start(t, "--requirepass", "s3cret")
	bg := context.Background()
	_, err := f.api.Get(bg, &cachev1.GetRequest{Key: "k"})
	wantCode(t, err, codes.Unauthenticated)
	bad := metadata.AppendToOutgoingContext(bg, "authorization", "Bearer nope")
	_, err = f.api.Set(bad, &cachev1.SetRequest{Key: "k", Value: []byte("v")})
	wantCode(t, err, codes.Unauthenticated)
	if f.redis.Exists(bg, "k").Val() != 0 {
		t.Fatal("an unauthenticated Set was applied")
	}
	stream, err := f.api.Scan(bad, &cachev1.ScanRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	wantCode(t, err, codes.Unauthenticated)
	good := metadata.AppendToOutgoingContext(bg, "authorization", "Bearer s3cret")
	if _, err := f.api.Set(good, &cachev1.SetRequest{Key: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	// Health needs no password: probes carry none.
	h, err := healthpb.NewHealthClient(f.conn).Check(bg, &healthpb.HealthCheckRequest{Service: cachev1.Cache_ServiceDesc.ServiceName})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", h, err)
	}
	var rejected uint64
	for _, cs := range f.srv.Stats().Commands {
		if cs.Protocol == server.ProtocolGRPC {
			rejected += cs.Rejected
		}
	}
	if rejected != 3 {
		t.Fatalf("rejected gRPC calls = %d, want 3", rejected)
	}
}

func TestLimits(t *testing.T) {
	f := start(t, "--proto-max-bulk-len", "1mb", "--maxmemory", "4mb")
	ctx := context.Background()
	// Past proto-max-bulk-len + 1 MiB the message is refused unread.
	_, err := f.api.Set(ctx, &cachev1.SetRequest{Key: "big", Value: bytes.Repeat([]byte("x"), 3<<20)})
	wantCode(t, err, codes.ResourceExhausted)
	if f.redis.Exists(ctx, "big").Val() != 0 {
		t.Fatal("an oversized Set was stored")
	}
	// maxmemory with noeviction answers OOM: RESOURCE_EXHAUSTED.
	var last error
	for i := range 20 {
		if _, last = f.api.Set(ctx, &cachev1.SetRequest{Key: "k" + strconv.Itoa(i), Value: bytes.Repeat([]byte("y"), 512<<10)}); last != nil {
			break
		}
	}
	wantCode(t, last, codes.ResourceExhausted)
}

func TestMetricsByProtocol(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	f.api.Set(ctx, &cachev1.SetRequest{Key: "k", Value: []byte("v")})
	f.api.Get(ctx, &cachev1.GetRequest{Key: "k"})
	f.api.Get(ctx, &cachev1.GetRequest{Key: "missing"})
	f.redis.Get(ctx, "k")
	calls := map[string]uint64{}
	for _, cs := range f.srv.Stats().Commands {
		calls[cs.Protocol.String()+" "+cs.Name] += cs.Calls
	}
	if calls["grpc get"] != 2 || calls["grpc set"] != 1 || calls["resp get"] != 1 {
		t.Fatalf("calls by protocol: %v", calls)
	}
	if calls["grpc pttl"] != 0 || calls["grpc multi"] != 0 || calls["grpc exec"] != 0 {
		t.Fatalf("the commands a Get runs are counted on their own: %v", calls)
	}
	// total_commands_processed counts each call once, as commandstats do.
	before := f.srv.Stats().CommandsProcessed
	f.api.SetMany(ctx, &cachev1.SetManyRequest{Items: []*cachev1.SetRequest{{Key: "a"}, {Key: "b"}, {Key: "c"}}})
	f.api.GetMany(ctx, &cachev1.GetManyRequest{Keys: []string{"a", "b", "c"}})
	if d := f.srv.Stats().CommandsProcessed - before; d != 2 {
		t.Fatalf("two calls added %d to total_commands_processed", d)
	}
}

func TestShutdownDrainsStreamsInFlight(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	hc := healthpb.NewHealthClient(f.conn)
	if h, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health before shutdown = %v, %v", h, err)
	}
	// A stream in flight (a Scan held up by flow control: the client
	// reads nothing) finishes before Shutdown returns.
	const keys = 20000
	pad := strings.Repeat("p", 60)
	pipe := f.redis.Pipeline()
	for i := range keys {
		pipe.Set(ctx, pad+strconv.Itoa(i), "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	stream, err := f.api.Scan(ctx, &cachev1.ScanRequest{PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	go func() { stopped <- f.grpc.Shutdown(sctx) }()
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) with a stream in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	n := 10
	for {
		page, err := stream.Recv()
		if err != nil {
			break
		}
		n += len(page.GetKeys())
	}
	if n != keys {
		t.Fatalf("the stream in flight returned %d keys, want %d", n, keys)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestScanSkipsBinaryKeys: a key RESP stored that is not UTF-8 cannot be
// a proto string; Scan leaves it out instead of failing the stream.
func TestScanSkipsBinaryKeys(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	f.redis.Set(ctx, "bin:\xff\xfe", "x", 0)
	f.redis.Set(ctx, "bin:ok", "x", 0)
	stream, err := f.api.Scan(ctx, &cachev1.ScanRequest{Match: "bin:*"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for {
		page, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Scan with a binary key in the keyspace: %v", err)
		}
		keys = append(keys, page.GetKeys()...)
	}
	if len(keys) != 1 || keys[0] != "bin:ok" {
		t.Fatalf("Scan = %q, want [bin:ok]", keys)
	}
}
