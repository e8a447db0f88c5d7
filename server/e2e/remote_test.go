package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/shardcache/shardcache/client"
	"github.com/shardcache/shardcache/client/cachev1"
	"github.com/shardcache/shardcache/server/internal/servertest"
)

// remote holds clients of all three protocols of one shardcached.
type remote struct {
	srv   *servertest.Remote
	resp  *redis.Client
	grpc  cachev1.CacheClient
	conn  *grpc.ClientConn
	http  *http.Client
	base  string // "http://host:port"
	token string // the bearer token HTTP requests send, if any
}

func startRemote(t *testing.T, args ...string) *remote {
	t.Helper()
	srv := servertest.StartShardcachedRemote(t, args...)
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	r := &remote{srv: srv, resp: redis.NewClient(&redis.Options{Addr: srv.Addr()}),
		grpc: cachev1.NewCacheClient(conn), conn: conn,
		http: &http.Client{Timeout: 30 * time.Second}, base: "http://" + srv.HTTPAddr}
	t.Cleanup(func() { r.resp.Close(); conn.Close(); r.http.CloseIdleConnections() })
	return r
}

type httpAnswer struct {
	code   int
	header http.Header
	body   []byte
}

// errStatus is the "status" field of the API's JSON error body.
func (a httpAnswer) errStatus() string {
	var e struct {
		Code   int
		Status string
	}
	if json.Unmarshal(a.body, &e) != nil || e.Code != a.code {
		return fmt.Sprintf("(not an error body: %s)", a.body)
	}
	return e.Status
}

func (r *remote) do(t *testing.T, method, path string, body []byte) httpAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(path, ":batch") {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, path, err)
	}
	return httpAnswer{resp.StatusCode, resp.Header, b}
}

// near says whether a TTL is within a second below want (it has been
// counting down since it was set).
func near(got, want time.Duration) bool { return got <= want && got > want-time.Second }

func ttlHeader(t *testing.T, a httpAnswer) time.Duration {
	t.Helper()
	ms, err := strconv.ParseInt(a.header.Get("Shardcache-TTL-Ms"), 10, 64)
	if err != nil {
		t.Fatalf("TTL header %q: %v", a.header.Get("Shardcache-TTL-Ms"), err)
	}
	return time.Duration(ms) * time.Millisecond
}

func TestRemoteAPIsShareKeysAndTTLs(t *testing.T) {
	r := startRemote(t)
	ctx := context.Background()

	// RESP → HTTP and gRPC.
	r.resp.Set(ctx, "from:resp", "v1", 100*time.Second)
	a := r.do(t, "GET", "/v1/keys/from:resp", nil)
	if a.code != 200 || string(a.body) != "v1" || !near(ttlHeader(t, a), 100*time.Second) {
		t.Fatalf("HTTP GET of a RESP key = %d %q, TTL %s", a.code, a.body, a.header.Get("Shardcache-TTL-Ms"))
	}
	g, err := r.grpc.Get(ctx, &cachev1.GetRequest{Key: "from:resp"})
	if err != nil || string(g.Value) != "v1" || !near(g.Ttl.AsDuration(), 100*time.Second) {
		t.Fatalf("gRPC Get of a RESP key = %v, %v", g, err)
	}

	// HTTP → RESP and gRPC.
	if a := r.do(t, "PUT", "/v1/keys/from:http?ttl=50s", []byte("v2")); a.code != 200 {
		t.Fatalf("PUT = %d %s", a.code, a.body)
	}
	if v, _ := r.resp.Get(ctx, "from:http").Result(); v != "v2" {
		t.Fatalf("RESP GET of an HTTP key = %q", v)
	}
	if d := r.resp.PTTL(ctx, "from:http").Val(); !near(d, 50*time.Second) {
		t.Fatalf("RESP PTTL of an HTTP key = %v", d)
	}
	if tr, err := r.grpc.TTL(ctx, &cachev1.TTLRequest{Key: "from:http"}); err != nil || !near(tr.Ttl.AsDuration(), 50*time.Second) {
		t.Fatalf("gRPC TTL of an HTTP key = %v, %v", tr, err)
	}

	// gRPC → RESP and HTTP, with a key that needs escaping in a path.
	key := "from grpc/ü?"
	if _, err := r.grpc.Set(ctx, &cachev1.SetRequest{Key: key, Value: []byte("v3"), Ttl: durationpb.New(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.resp.Get(ctx, key).Result(); v != "v3" {
		t.Fatalf("RESP GET of a gRPC key = %q", v)
	}
	a = r.do(t, "GET", "/v1/keys/from%20grpc%2F%C3%BC%3F", nil)
	if a.code != 200 || string(a.body) != "v3" || !near(ttlHeader(t, a), 30*time.Second) {
		t.Fatalf("HTTP GET of a gRPC key = %d %q, TTL %v", a.code, a.body, a.header.Get("Shardcache-TTL-Ms"))
	}

	// A TTL changed on one protocol is seen by the others.
	if _, err := r.grpc.Touch(ctx, &cachev1.TouchRequest{Key: "from:resp", Ttl: durationpb.New(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if d := r.resp.PTTL(ctx, "from:resp").Val(); !near(d, 10*time.Second) {
		t.Fatalf("PTTL after gRPC Touch = %v", d)
	}
	r.resp.Persist(ctx, "from:http")
	if a := r.do(t, "HEAD", "/v1/keys/from:http", nil); a.code != 200 || a.header.Get("Shardcache-TTL-Ms") != "-1" {
		t.Fatalf("HEAD after PERSIST = %d, TTL %q", a.code, a.header.Get("Shardcache-TTL-Ms"))
	}
	if tr, err := r.grpc.TTL(ctx, &cachev1.TTLRequest{Key: "from:http"}); err != nil || tr.Ttl != nil {
		t.Fatalf("gRPC TTL after PERSIST = %v, %v", tr, err)
	}
	// A key that expires is gone for all three.
	r.resp.Set(ctx, "short", "x", 50*time.Millisecond)
	time.Sleep(120 * time.Millisecond)
	if a := r.do(t, "GET", "/v1/keys/short", nil); a.code != 404 {
		t.Fatalf("HTTP GET of an expired key = %d", a.code)
	}
	if _, err := r.grpc.Get(ctx, &cachev1.GetRequest{Key: "short"}); status.Code(err) != codes.NotFound {
		t.Fatalf("gRPC Get of an expired key: %v", err)
	}

	// Counters.
	if n, err := r.grpc.Increment(ctx, &cachev1.IncrementRequest{Key: "n", Delta: 5}); err != nil || n.Value != 5 {
		t.Fatalf("Increment = %v, %v", n, err)
	}
	r.resp.IncrBy(ctx, "n", -2)
	if a := r.do(t, "GET", "/v1/keys/n", nil); string(a.body) != "3" {
		t.Fatalf("HTTP GET of a counter = %d %q", a.code, a.body)
	}

	// Batches across protocols.
	a = r.do(t, "POST", "/v1/keys:batchSet", []byte(`{"items":[{"key":"b1","value":"YQ=="},{"key":"b2","value":"Yg==","ttl":"20s"},{"key":"n","value":"Yw==","condition":"CONDITION_IF_ABSENT"}]}`))
	var applied struct{ Applied []bool }
	if a.code != 200 || json.Unmarshal(a.body, &applied) != nil || !slices.Equal(applied.Applied, []bool{true, true, false}) {
		t.Fatalf("batchSet = %d %s", a.code, a.body)
	}
	gm, err := r.grpc.GetMany(ctx, &cachev1.GetManyRequest{Keys: []string{"b1", "nope", "b2", "n"}})
	if err != nil || len(gm.Items) != 4 || string(gm.Items[0].Value) != "a" || gm.Items[1].Found ||
		string(gm.Items[2].Value) != "b" || !near(gm.Items[2].Ttl.AsDuration(), 20*time.Second) || string(gm.Items[3].Value) != "3" {
		t.Fatalf("GetMany = %v, %v", gm, err)
	}
	if _, err := r.grpc.SetMany(ctx, &cachev1.SetManyRequest{Items: []*cachev1.SetRequest{{Key: "m1", Value: []byte("one")}, {Key: "m2", Value: []byte("two")}}}); err != nil {
		t.Fatal(err)
	}
	if v := r.resp.MGet(ctx, "m1", "m2").Val(); v[0] != "one" || v[1] != "two" {
		t.Fatalf("RESP MGET of a SetMany = %v", v)
	}

	// Delete on HTTP; a Scan over gRPC sees what RESP's SCAN sees.
	if a := r.do(t, "DELETE", "/v1/keys/m2", nil); a.code != 200 {
		t.Fatalf("DELETE = %d %s", a.code, a.body)
	}
	if r.resp.Exists(ctx, "m2").Val() != 0 {
		t.Fatal("a key deleted over HTTP exists over RESP")
	}
	want, _, err := r.resp.Scan(ctx, 0, "*", 1000).Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if got := scanAll(t, r.grpc, ""); !slices.Equal(got, want) {
		t.Fatalf("gRPC Scan = %q, RESP SCAN = %q", got, want)
	}
}

func scanAll(t *testing.T, c cachev1.CacheClient, match string) []string {
	t.Helper()
	st, err := c.Scan(context.Background(), &cachev1.ScanRequest{Match: match, PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		keys = append(keys, m.Keys...)
	}
	slices.Sort(keys)
	return keys
}

func TestRemoteErrorStatuses(t *testing.T) {
	r := startRemote(t, "--proto-max-bulk-len", "1mb")
	ctx := context.Background()
	r.resp.Set(ctx, "exists", "v", 0)
	r.resp.HSet(ctx, "hash", "f", "v") // unknown command: no other type can exist
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		code               int
		status             string
	}{
		{"missing key", "GET", "/v1/keys/nope", nil, 404, ""},
		{"HEAD of a missing key", "HEAD", "/v1/keys/nope", nil, 404, ""},
		{"DELETE of a missing key", "DELETE", "/v1/keys/nope", nil, 404, "NOT_FOUND"},
		{"bad ttl", "PUT", "/v1/keys/k?ttl=soon", []byte("v"), 400, "INVALID_ARGUMENT"},
		{"nx and xx", "PUT", "/v1/keys/k?nx&xx", []byte("v"), 400, "INVALID_ARGUMENT"},
		{"unknown query", "PUT", "/v1/keys/k?ttl=1s&when=now", []byte("v"), 400, "INVALID_ARGUMENT"},
		{"empty key", "GET", "/v1/keys/", nil, 400, "INVALID_ARGUMENT"},
		{"nx on an existing key", "PUT", "/v1/keys/exists?nx", []byte("v2"), 412, "FAILED_PRECONDITION"},
		{"xx on a missing key", "PUT", "/v1/keys/nope?xx", []byte("v2"), 412, "FAILED_PRECONDITION"},
		{"bad JSON", "POST", "/v1/keys:batchGet", []byte(`{"keys":`), 400, "INVALID_ARGUMENT"},
		{"oversized value", "PUT", "/v1/keys/big", bytes.Repeat([]byte("x"), 2<<20), 413, "RESOURCE_EXHAUSTED"},
		{"unknown route", "GET", "/v2/keys/k", nil, 404, "NOT_FOUND"},
		{"wrong method", "PATCH", "/v1/keys/k", nil, 405, "UNIMPLEMENTED"},
	} {
		a := r.do(t, tc.method, tc.path, tc.body)
		if a.code != tc.code || tc.status != "" && a.errStatus() != tc.status {
			t.Errorf("%s: %s %s = %d %s, want %d %s", tc.name, tc.method, tc.path, a.code, a.body, tc.code, tc.status)
		}
	}
	if v, _ := r.resp.Get(ctx, "exists").Result(); v != "v" {
		t.Fatalf("a refused PUT changed the key: %q", v)
	}
	if r.resp.Exists(ctx, "k", "big", "nope").Val() != 0 {
		t.Fatal("a refused PUT stored a key")
	}

	big := bytes.Repeat([]byte("x"), 3<<20)
	for _, tc := range []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"missing key", func() error { _, err := r.grpc.Get(ctx, &cachev1.GetRequest{Key: "nope"}); return err }, codes.NotFound},
		{"TTL of a missing key", func() error { _, err := r.grpc.TTL(ctx, &cachev1.TTLRequest{Key: "nope"}); return err }, codes.NotFound},
		{"Touch of a missing key", func() error { _, err := r.grpc.Touch(ctx, &cachev1.TouchRequest{Key: "nope"}); return err }, codes.NotFound},
		{"empty key", func() error { _, err := r.grpc.Get(ctx, &cachev1.GetRequest{}); return err }, codes.InvalidArgument},
		{"negative TTL", func() error {
			_, err := r.grpc.Set(ctx, &cachev1.SetRequest{Key: "k", Ttl: durationpb.New(-time.Second)})
			return err
		}, codes.InvalidArgument},
		{"TTL with keep_ttl", func() error {
			_, err := r.grpc.Set(ctx, &cachev1.SetRequest{Key: "k", Ttl: durationpb.New(time.Second), KeepTtl: true})
			return err
		}, codes.InvalidArgument},
		{"if absent on an existing key", func() error {
			_, err := r.grpc.Set(ctx, &cachev1.SetRequest{Key: "exists", Value: []byte("v2"), Condition: cachev1.Condition_CONDITION_IF_ABSENT})
			return err
		}, codes.FailedPrecondition},
		{"increment of a non-integer", func() error {
			_, err := r.grpc.Increment(ctx, &cachev1.IncrementRequest{Key: "exists", Delta: 1})
			return err
		}, codes.InvalidArgument},
		{"oversized message", func() error { _, err := r.grpc.Set(ctx, &cachev1.SetRequest{Key: "big", Value: big}); return err }, codes.ResourceExhausted},
	} {
		if err := tc.call(); status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.code)
		}
	}
	if v, _ := r.resp.Get(ctx, "exists").Result(); v != "v" {
		t.Fatalf("a refused Set changed the key: %q", v)
	}
	if r.resp.Exists(ctx, "k", "big").Val() != 0 {
		t.Fatal("a refused Set stored a key")
	}
}

// endless is a request body of n bytes that counts what was read of it.
type endless struct {
	mu   sync.Mutex
	n    int64
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.read >= e.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), e.n-e.read)]
	for i := range p {
		p[i] = 'x'
	}
	e.read += int64(len(p))
	return len(p), nil
}

func (e *endless) Read64() int64 { e.mu.Lock(); defer e.mu.Unlock(); return e.read }

// TestRemoteOversizedBodyIsNotBuffered sends a chunked PUT far larger than
// proto-max-bulk-len: the server answers 413 and closes without reading
// it all.
func TestRemoteOversizedBodyIsNotBuffered(t *testing.T) {
	r := startRemote(t, "--proto-max-bulk-len", "1mb")
	body := &endless{n: 1 << 30}
	req, _ := http.NewRequest("PUT", r.base+"/v1/keys/huge", io.NopCloser(body)) // unknown length: chunked
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatalf("PUT: %v (sent %d bytes)", err, body.Read64())
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("PUT of 1 GiB chunked = %d", resp.StatusCode)
	}
	if sent := body.Read64(); sent > 64<<20 {
		t.Fatalf("the client sent %d MiB before the server refused it", sent>>20)
	}
	if n := r.resp.Exists(context.Background(), "huge").Val(); n != 0 {
		t.Fatal("the oversized value was stored")
	}
}

// bearer is gRPC credentials that send a password as a bearer token.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearer) RequireTransportSecurity() bool { return true }

func TestRemoteAuthAndTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	srv := servertest.StartShardcachedRemote(t, "--requirepass", "pw", "--tls-cert-file", certFile, "--tls-key-file", keyFile,
		"--tls-grpc", "yes", "--tls-http", "yes")
	ctx := context.Background()
	trusted := credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	dial := func(opts ...grpc.DialOption) cachev1.CacheClient {
		conn, err := grpc.NewClient(srv.GRPCAddr, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return cachev1.NewCacheClient(conn)
	}
	authed := dial(grpc.WithTransportCredentials(trusted), grpc.WithPerRPCCredentials(bearer("pw")))
	if _, err := authed.Set(ctx, &cachev1.SetRequest{Key: "secret", Value: []byte("s")}); err != nil {
		t.Fatalf("Set over TLS with the password: %v", err)
	}
	if _, err := dial(grpc.WithTransportCredentials(trusted)).Get(ctx, &cachev1.GetRequest{Key: "secret"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Get without the password: %v", err)
	}
	if _, err := dial(grpc.WithTransportCredentials(trusted), grpc.WithPerRPCCredentials(bearer("wrong"))).Get(ctx, &cachev1.GetRequest{Key: "secret"}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Get with a wrong password: %v", err)
	}
	if _, err := dial(grpc.WithTransportCredentials(insecure.NewCredentials())).Get(ctx, &cachev1.GetRequest{Key: "secret"}); status.Code(err) != codes.Unavailable {
		t.Fatalf("Get in plain text from a TLS port: %v", err)
	}
	untrusted := credentials.NewTLS(&tls.Config{ServerName: "127.0.0.1"})
	if _, err := dial(grpc.WithTransportCredentials(untrusted), grpc.WithPerRPCCredentials(bearer("pw"))).Get(ctx, &cachev1.GetRequest{Key: "secret"}); status.Code(err) != codes.Unavailable {
		t.Fatalf("Get from a client that does not trust the certificate: %v", err)
	}
	// Health needs no password (load balancers probe it), only TLS.
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(trusted))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health = %v, %v", h, err)
	}
	// A token in metadata works as well as the credentials helper.
	md := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer pw")
	if g, err := dial(grpc.WithTransportCredentials(trusted)).Get(md, &cachev1.GetRequest{Key: "secret"}); err != nil || string(g.Value) != "s" {
		t.Fatalf("Get with the token in metadata = %v, %v", g, err)
	}

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func(c *http.Client, scheme, token string) (int, string, http.Header, error) {
		req, _ := http.NewRequest("GET", scheme+"://"+srv.HTTPAddr+"/v1/keys/secret", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header, nil
	}
	if code, body, _, err := get(hc, "https", "pw"); err != nil || code != 200 || body != "s" {
		t.Fatalf("HTTPS GET with the password = %d %q, %v", code, body, err)
	}
	if code, _, h, err := get(hc, "https", ""); err != nil || code != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("HTTPS GET without the password = %d (WWW-Authenticate %q), %v", code, h.Get("WWW-Authenticate"), err)
	}
	if code, _, _, err := get(hc, "https", "wrong"); err != nil || code != 401 {
		t.Fatalf("HTTPS GET with a wrong password = %d, %v", code, err)
	}
	if code, _, _, err := get(&http.Client{Timeout: 10 * time.Second}, "https", "pw"); err == nil {
		t.Fatalf("a client that does not trust the certificate got %d", code)
	}
	if code, _, _, err := get(&http.Client{Timeout: 10 * time.Second}, "http", "pw"); err == nil && code == 200 {
		t.Fatal("plain HTTP to the TLS port was served")
	}
}

// TestRemoteGracefulShutdown sends SIGTERM while gRPC and HTTP calls are
// in flight: a Scan stream read slowly and a PUT whose body is still being
// sent finish, every acknowledged write survives the restart (the final
// snapshot), and the server exits 0.
func TestRemoteGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	r := startRemote(t, "--dir", dir)
	ctx := context.Background()
	const keys = 5000
	p := r.resp.Pipeline()
	for i := range keys {
		p.Set(ctx, "seed:"+strconv.Itoa(i), "v", 0)
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	stream, err := r.grpc.Scan(ctx, &cachev1.ScanRequest{Match: "seed:*", PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	put := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("PUT", r.base+"/v1/keys/slow", pr)
		resp, err := r.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		put <- err
	}()
	if _, err := pw.Write([]byte("first half,")); err != nil {
		t.Fatal(err)
	}

	// Writers on both APIs until the server goes away.
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				k := fmt.Sprintf("grpc:%d:%d", w, i)
				if _, err := r.grpc.Set(ctx, &cachev1.SetRequest{Key: k, Value: []byte(k)}); err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, k)
				mu.Unlock()
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				k := fmt.Sprintf("http:%d:%d", w, i)
				req, _ := http.NewRequest("PUT", r.base+"/v1/keys/"+k, strings.NewReader(k))
				resp, err := r.http.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					return
				}
				mu.Lock()
				acked = append(acked, k)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := r.srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the server is draining now
	if _, err := pw.Write([]byte(" second half")); err != nil {
		t.Fatalf("the PUT in flight was cut: %v", err)
	}
	pw.Close()
	if err := <-put; err != nil {
		t.Fatalf("the PUT in flight at SIGTERM: %v", err)
	}
	n := len(first.Keys)
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the Scan in flight at SIGTERM failed after %d keys: %v", n, err)
		}
		n += len(m.Keys)
		time.Sleep(time.Millisecond) // a slow reader: the stream outlives SIGTERM
	}
	if n != keys {
		t.Fatalf("the Scan in flight at SIGTERM returned %d keys, want %d", n, keys)
	}
	if err := r.srv.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before SIGTERM")
	}

	again := servertest.StartShardcached(t, "--dir", dir)
	c := redis.NewClient(&redis.Options{Addr: again.Addr()})
	defer c.Close()
	if v, _ := c.Get(ctx, "slow").Result(); v != "first half, second half" {
		t.Fatalf("the PUT in flight at SIGTERM stored %q", v)
	}
	missing := 0
	for _, k := range acked {
		if v, err := c.Get(ctx, k).Result(); err != nil || v != k {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d writes acknowledged over gRPC and HTTP missing after restart", missing, len(acked))
	}
	t.Logf("%d writes acknowledged over gRPC and HTTP, all present after SIGTERM and restart", len(acked))
}

func TestRemoteMetricsByProtocol(t *testing.T) {
	admin := servertest.FreePort(t)
	r := startRemote(t, "--admin-port", strconv.Itoa(admin))
	ctx := context.Background()
	r.resp.Set(ctx, "k", "v", 0)
	r.grpc.Get(ctx, &cachev1.GetRequest{Key: "k"})
	r.grpc.Get(ctx, &cachev1.GetRequest{Key: "k"})
	r.do(t, "GET", "/v1/keys/k", nil)
	r.do(t, "PUT", "/v1/keys/k?ttl=bad", []byte("v"))
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(admin) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metrics := string(b)
	for _, want := range []string{
		`shardcached_command_duration_seconds_count{command="set",protocol="resp"} 1`,
		`shardcached_command_duration_seconds_count{command="get",protocol="grpc"} 2`,
		`shardcached_command_duration_seconds_count{command="get",protocol="http"} 1`,
		`shardcached_command_rejected_total{command="set",protocol="http"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", grepLines(metrics, "command_"))
	}
	info := r.resp.Info(ctx, "commandstats").Val()
	if !strings.Contains(info, "cmdstat_get:calls=3,") {
		t.Errorf("INFO commandstats does not sum get over the protocols:\n%s", info)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestGoClient drives the client package against the binary, over TLS
// with a password.
func TestGoClient(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	srv := servertest.StartShardcachedRemote(t, "--requirepass", "pw", "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-grpc", "yes")
	ctx := context.Background()
	tc := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	c, err := client.New(srv.GRPCAddr, client.WithTLS(tc), client.WithPassword("pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "user:1", []byte("ada"), client.WithTTL(time.Minute)); err != nil {
		t.Fatal(err)
	}
	v, ttl, err := c.GetWithTTL(ctx, "user:1")
	if err != nil || string(v) != "ada" || !near(ttl, time.Minute) {
		t.Fatalf("GetWithTTL = %q %v, %v", v, ttl, err)
	}
	if err := c.Set(ctx, "user:1", []byte("bob"), client.IfAbsent()); !errors.Is(err, client.ErrConditionFailed) {
		t.Fatalf("Set IfAbsent of an existing key: %v", err)
	}
	if _, err := c.Get(ctx, "user:2"); !errors.Is(err, client.ErrNotFound) || status.Code(err) != codes.NotFound {
		t.Fatalf("Get of a missing key: %v", err)
	}
	if n, err := c.Increment(ctx, "hits", 3); err != nil || n != 3 {
		t.Fatalf("Increment = %d, %v", n, err)
	}
	applied, err := c.SetMany(ctx, []client.SetItem{{Key: "user:2", Value: []byte("cy")}, {Key: "hits", Value: []byte("0"), Options: []client.SetOption{client.IfAbsent()}}})
	if err != nil || !slices.Equal(applied, []bool{true, false}) {
		t.Fatalf("SetMany = %v, %v", applied, err)
	}
	items, err := c.GetMany(ctx, []string{"user:1", "nope", "user:2"})
	if err != nil || len(items) != 3 || string(items[0].Value) != "ada" || items[1].Found || string(items[2].Value) != "cy" || items[2].TTL != client.NoTTL {
		t.Fatalf("GetMany = %+v, %v", items, err)
	}
	var keys []string
	for k, err := range c.Scan(ctx, "user:*", 1) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"user:1", "user:2"}) {
		t.Fatalf("Scan = %q", keys)
	}
	if err := c.Delete(ctx, "user:1"); err != nil {
		t.Fatal(err)
	}
	resp := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "pw"})
	defer resp.Close()
	if n := resp.Exists(ctx, "user:1").Val(); n != 0 {
		t.Fatal("a key deleted by the client exists over RESP")
	}
	wrong, err := client.New(srv.GRPCAddr, client.WithTLS(tc), client.WithPassword("wrong"))
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	if _, err := wrong.Get(ctx, "user:2"); !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("Get with a wrong password: %v", err)
	}
}

// TestRemoteWritesAreLogged: with appendfsync always, what gRPC and HTTP
// acknowledged (values and TTLs, batches, counters) survives kill -9.
func TestRemoteWritesAreLogged(t *testing.T) {
	dir := t.TempDir()
	r := startRemote(t, "--dir", dir, "--appendonly", "yes", "--appendfsync", "always")
	ctx := context.Background()
	if _, err := r.grpc.Set(ctx, &cachev1.SetRequest{Key: "g", Value: []byte("1"), Ttl: durationpb.New(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.grpc.SetMany(ctx, &cachev1.SetManyRequest{Items: []*cachev1.SetRequest{{Key: "m1", Value: []byte("a")}, {Key: "m2", Value: []byte("b")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.grpc.Increment(ctx, &cachev1.IncrementRequest{Key: "n", Delta: 7}); err != nil {
		t.Fatal(err)
	}
	if a := r.do(t, "PUT", "/v1/keys/h?ttl=30m", []byte("2")); a.code != 200 {
		t.Fatalf("PUT = %d %s", a.code, a.body)
	}
	if a := r.do(t, "DELETE", "/v1/keys/m2", nil); a.code != 200 {
		t.Fatalf("DELETE = %d %s", a.code, a.body)
	}
	r.srv.Kill()

	again := servertest.StartShardcached(t, "--dir", dir, "--appendonly", "yes")
	c := redis.NewClient(&redis.Options{Addr: again.Addr()})
	defer c.Close()
	if v := c.MGet(ctx, "g", "m1", "m2", "n", "h").Val(); fmt.Sprint(v) != "[1 a <nil> 7 2]" {
		t.Fatalf("after kill -9: %v", v)
	}
	if d := c.PTTL(ctx, "g").Val(); d > time.Hour || d < time.Hour-30*time.Second {
		t.Fatalf("gRPC Set's TTL after kill -9: %v", d)
	}
	if d := c.PTTL(ctx, "h").Val(); d > 30*time.Minute || d < 30*time.Minute-30*time.Second {
		t.Fatalf("HTTP PUT's TTL after kill -9: %v", d)
	}
}
