package client_test

import (
	"context"
	"math"
	"net"
	"path"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/shardcache/shardcache/client/cachev1"
)

// fakeCache is an in-memory cachev1.CacheServer with the status codes of
// server/grpcapi: a map of values with deadlines on a manual clock,
// Set conditions, Scan paging, and a guard (password, protected mode,
// unavailability) checked before every call as the real server's
// interceptors do.
type fakeCache struct {
	cachev1.UnimplementedCacheServer

	mu       sync.Mutex
	now      time.Time
	data     map[string]fakeEntry
	password string // "" = no password needed
	// protected refuses every call with PERMISSION_DENIED, unavailable
	// with UNAVAILABLE.
	protected, unavailable bool
	maxValue               int      // values longer are RESOURCE_EXHAUSTED; 0 = no limit
	auth                   []string // the authorization metadata of each call, in order
	scanPageSizes          []int32  // page_size of each Scan
	scanMessages           int      // ScanResponse messages sent
	// holdScan makes Scan, after its pages, wait for its stream's
	// context to end and report the context's error on scanEnded.
	holdScan  bool
	scanEnded chan error
}

type fakeEntry struct {
	value    []byte
	deadline time.Time // zero: no TTL
}

func newFake() *fakeCache {
	return &fakeCache{
		now:       time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		data:      map[string]fakeEntry{},
		scanEnded: make(chan error, 1),
	}
}

// advance moves the fake's clock.
func (f *fakeCache) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// serve starts a gRPC server of f on a bufconn listener, stopped at the
// end of the test, and returns the listener.
func (f *fakeCache) serve(tb testing.TB, opts ...grpc.ServerOption) *bufconn.Listener {
	tb.Helper()
	lis := bufconn.Listen(1 << 20)
	opts = append(opts,
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := f.guard(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := f.guard(ss.Context()); err != nil {
				return err
			}
			return h(srv, ss)
		}),
	)
	g := grpc.NewServer(opts...)
	cachev1.RegisterCacheServer(g, f)
	go g.Serve(lis)
	tb.Cleanup(g.Stop)
	return lis
}

// dialer returns the dial option connecting to lis.
func dialer(lis *bufconn.Listener) grpc.DialOption {
	return grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return lis.DialContext(ctx)
	})
}

// guard checks a call as server/grpcapi's admit does, recording its
// authorization metadata.
func (f *fakeCache) guard(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	got := md.Get("authorization")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, got...)
	switch {
	case f.protected:
		return status.Error(codes.PermissionDenied, "protected mode is on")
	case f.unavailable:
		return status.Error(codes.Unavailable, "loading the dataset")
	case f.password == "":
		return nil
	case len(got) == 0:
		return status.Error(codes.Unauthenticated, "authentication required")
	case got[0] != "Bearer "+f.password:
		return status.Error(codes.Unauthenticated, "invalid password")
	}
	return nil
}

// authSeen returns the authorization metadata received so far.
func (f *fakeCache) authSeen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.auth)
}

// lookup returns key's live entry; f.mu is held.
func (f *fakeCache) lookup(key string) (fakeEntry, bool) {
	e, ok := f.data[key]
	if ok && !e.deadline.IsZero() && !f.now.Before(e.deadline) {
		delete(f.data, key)
		return fakeEntry{}, false
	}
	return e, ok
}

// ttl returns e's remaining TTL as the API sends it; f.mu is held.
func (f *fakeCache) ttl(e fakeEntry) *durationpb.Duration {
	if e.deadline.IsZero() {
		return nil
	}
	return durationpb.New(e.deadline.Sub(f.now))
}

func checkKey(k string) error {
	if k == "" {
		return status.Error(codes.InvalidArgument, "key must not be empty")
	}
	return nil
}

// ttlOf validates a request TTL; 0 = none.
func ttlOf(d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "ttl: %v", err)
	}
	t := d.AsDuration()
	if t < 0 {
		return 0, status.Error(codes.InvalidArgument, "ttl must not be negative")
	}
	return t, nil
}

func notFound(key string) error {
	return status.Errorf(codes.NotFound, "key %q not found", key)
}

// checkSet validates req; f.mu is held.
func (f *fakeCache) checkSet(req *cachev1.SetRequest) error {
	if err := checkKey(req.GetKey()); err != nil {
		return err
	}
	ttl, err := ttlOf(req.GetTtl())
	if err != nil {
		return err
	}
	if req.GetKeepTtl() && ttl > 0 {
		return status.Error(codes.InvalidArgument, "keep_ttl and ttl are mutually exclusive")
	}
	if f.maxValue > 0 && len(req.GetValue()) > f.maxValue {
		return status.Error(codes.ResourceExhausted, "OOM command not allowed when used memory > 'maxmemory'")
	}
	return nil
}

// apply runs a checked Set, reporting whether its condition held; f.mu is
// held.
func (f *fakeCache) apply(req *cachev1.SetRequest) bool {
	old, exists := f.lookup(req.GetKey())
	switch req.GetCondition() {
	case cachev1.Condition_CONDITION_IF_ABSENT:
		if exists {
			return false
		}
	case cachev1.Condition_CONDITION_IF_PRESENT:
		if !exists {
			return false
		}
	}
	e := fakeEntry{value: slices.Clone(req.GetValue())}
	if ttl, _ := ttlOf(req.GetTtl()); ttl > 0 {
		e.deadline = f.now.Add(ttl)
	} else if req.GetKeepTtl() {
		e.deadline = old.deadline
	}
	f.data[req.GetKey()] = e
	return true
}

func (f *fakeCache) Get(_ context.Context, req *cachev1.GetRequest) (*cachev1.GetResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.lookup(req.GetKey())
	if !ok {
		return nil, notFound(req.GetKey())
	}
	return &cachev1.GetResponse{Value: slices.Clone(e.value), Ttl: f.ttl(e)}, nil
}

func (f *fakeCache) Set(_ context.Context, req *cachev1.SetRequest) (*cachev1.SetResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkSet(req); err != nil {
		return nil, err
	}
	if !f.apply(req) {
		return nil, status.Errorf(codes.FailedPrecondition, "condition %v failed for key %q", req.GetCondition(), req.GetKey())
	}
	return &cachev1.SetResponse{}, nil
}

func (f *fakeCache) Delete(_ context.Context, req *cachev1.DeleteRequest) (*cachev1.DeleteResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.lookup(req.GetKey()); !ok {
		return nil, notFound(req.GetKey())
	}
	delete(f.data, req.GetKey())
	return &cachev1.DeleteResponse{}, nil
}

func (f *fakeCache) GetMany(_ context.Context, req *cachev1.GetManyRequest) (*cachev1.GetManyResponse, error) {
	for _, k := range req.GetKeys() {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &cachev1.GetManyResponse{}
	for _, k := range req.GetKeys() {
		it := &cachev1.Item{Key: k}
		if e, ok := f.lookup(k); ok {
			it.Found, it.Value, it.Ttl = true, slices.Clone(e.value), f.ttl(e)
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

func (f *fakeCache) SetMany(_ context.Context, req *cachev1.SetManyRequest) (*cachev1.SetManyResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, it := range req.GetItems() {
		if err := f.checkSet(it); err != nil {
			return nil, status.Errorf(status.Code(err), "items[%d]: %s", i, status.Convert(err).Message())
		}
	}
	out := &cachev1.SetManyResponse{Applied: make([]bool, len(req.GetItems()))}
	for i, it := range req.GetItems() {
		out.Applied[i] = f.apply(it)
	}
	return out, nil
}

func (f *fakeCache) Touch(_ context.Context, req *cachev1.TouchRequest) (*cachev1.TouchResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	ttl, err := ttlOf(req.GetTtl())
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.lookup(req.GetKey())
	if !ok {
		return nil, notFound(req.GetKey())
	}
	e.deadline = time.Time{}
	if ttl > 0 {
		e.deadline = f.now.Add(ttl)
	}
	f.data[req.GetKey()] = e
	return &cachev1.TouchResponse{}, nil
}

func (f *fakeCache) TTL(_ context.Context, req *cachev1.TTLRequest) (*cachev1.TTLResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.lookup(req.GetKey())
	if !ok {
		return nil, notFound(req.GetKey())
	}
	return &cachev1.TTLResponse{Ttl: f.ttl(e)}, nil
}

func (f *fakeCache) Increment(_ context.Context, req *cachev1.IncrementRequest) (*cachev1.IncrementResponse, error) {
	if err := checkKey(req.GetKey()); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.lookup(req.GetKey())
	var n int64
	if ok {
		var err error
		if n, err = strconv.ParseInt(string(e.value), 10, 64); err != nil {
			return nil, status.Error(codes.InvalidArgument, "value is not an integer or out of range")
		}
	}
	d := req.GetDelta()
	if (d > 0 && n > math.MaxInt64-d) || (d < 0 && n < math.MinInt64-d) {
		return nil, status.Error(codes.InvalidArgument, "increment or decrement would overflow")
	}
	n += d
	e.value = strconv.AppendInt(nil, n, 10)
	f.data[req.GetKey()] = e
	return &cachev1.IncrementResponse{Value: n}, nil
}

func (f *fakeCache) Scan(req *cachev1.ScanRequest, stream grpc.ServerStreamingServer[cachev1.ScanResponse]) error {
	page := int(req.GetPageSize())
	switch {
	case page < 0:
		return status.Error(codes.InvalidArgument, "page_size must not be negative")
	case page == 0:
		page = 100
	}
	match := req.GetMatch()
	if match == "" {
		match = "*"
	}
	if _, err := path.Match(match, ""); err != nil {
		return status.Errorf(codes.InvalidArgument, "bad pattern %q", match)
	}
	f.mu.Lock()
	f.scanPageSizes = append(f.scanPageSizes, req.GetPageSize())
	var keys []string
	for k := range f.data {
		if _, ok := f.lookup(k); !ok {
			continue
		}
		if ok, _ := path.Match(match, k); ok {
			keys = append(keys, k)
		}
	}
	hold := f.holdScan
	f.mu.Unlock()
	slices.Sort(keys)
	if hold {
		// However the sending ends (a Send can fail once the client
		// cancels), wait for the stream's context.
		defer func() {
			select {
			case <-stream.Context().Done():
				f.scanEnded <- stream.Context().Err()
			case <-time.After(10 * time.Second):
				f.scanEnded <- nil
			}
		}()
	}
	for chunk := range slices.Chunk(keys, page) {
		if err := stream.Send(&cachev1.ScanResponse{Keys: chunk}); err != nil {
			return err
		}
		f.mu.Lock()
		f.scanMessages++
		f.mu.Unlock()
	}
	return nil
}
