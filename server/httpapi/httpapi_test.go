package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache/server"
	"github.com/shardcache/shardcache/server/internal/servertest"
)

type fixture struct {
	srv   *server.Server
	h     http.Handler
	url   string
	redis *redis.Client
}

func start(t testing.TB, args ...string) *fixture {
	t.Helper()
	srv, addr := servertest.StartInProcess(t, args...)
	h := Handler(srv)
	ts := httptest.NewServer(h)
	pw := ""
	for i, a := range args {
		if a == "--requirepass" {
			pw = args[i+1]
		}
	}
	rc := redis.NewClient(&redis.Options{Addr: addr, Password: pw})
	t.Cleanup(func() { ts.Close(); rc.Close() })
	return &fixture{srv: srv, h: h, url: ts.URL, redis: rc}
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

// errBody decodes an error answer, failing the test if it is not our JSON.
func (a answer) errBody(t testing.TB) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(a.body, &e); err != nil || e.Code != a.code || e.Status == "" || e.Message == "" {
		t.Fatalf("error body %q (%v) for status %d", a.body, err, a.code)
	}
	return e
}

func (f *fixture) do(t testing.TB, method, path string, body []byte, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{res.StatusCode, res.Header, b}
}

func TestValuesAndTTLsAgreeWithRESP(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	value := make([]byte, 256)
	for i := range value {
		value[i] = byte(i) // every byte, CR and LF included
	}
	if a := f.do(t, "PUT", "/v1/keys/bin?ttl=30s", value); a.code != 200 {
		t.Fatalf("PUT: %d %s", a.code, a.body)
	}
	if v, _ := f.redis.Get(ctx, "bin").Bytes(); !bytes.Equal(v, value) {
		t.Fatalf("RESP GET = %q", v)
	}
	if ttl := f.redis.PTTL(ctx, "bin").Val(); ttl < 29*time.Second || ttl > 30*time.Second {
		t.Fatalf("RESP PTTL = %v", ttl)
	}
	f.redis.Set(ctx, "r", "from resp", 10*time.Second)
	a := f.do(t, "GET", "/v1/keys/r", nil)
	if a.code != 200 || string(a.body) != "from resp" || a.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("GET = %d %q %v", a.code, a.body, a.header)
	}
	if ms, _ := strconv.Atoi(a.header.Get(TTLHeader)); ms < 9000 || ms > 10000 {
		t.Fatalf("GET %s = %q", TTLHeader, a.header.Get(TTLHeader))
	}
	// HEAD: existence and TTL, no body.
	a = f.do(t, "HEAD", "/v1/keys/r", nil)
	if ms, _ := strconv.Atoi(a.header.Get(TTLHeader)); a.code != 200 || ms < 9000 || len(a.body) != 0 {
		t.Fatalf("HEAD = %d %v %q", a.code, a.header, a.body)
	}
	f.redis.Set(ctx, "forever", "x", 0)
	if a := f.do(t, "HEAD", "/v1/keys/forever", nil); a.code != 200 || a.header.Get(TTLHeader) != "-1" {
		t.Fatalf("HEAD of a key without TTL = %d %v", a.code, a.header)
	}
	if a := f.do(t, "HEAD", "/v1/keys/missing", nil); a.code != 404 {
		t.Fatalf("HEAD missing = %d", a.code)
	}
	// JSON: the value is protojson's base64 string.
	if a := f.do(t, "PUT", "/v1/keys/j", []byte(`"aGVsbG8="`), "Content-Type", "application/json"); a.code != 200 {
		t.Fatalf("PUT json: %d %s", a.code, a.body)
	}
	if v := f.redis.Get(ctx, "j").Val(); v != "hello" {
		t.Fatalf("RESP GET j = %q", v)
	}
	if a := f.do(t, "GET", "/v1/keys/j", nil, "Accept", "application/json"); string(a.body) != `"aGVsbG8="` {
		t.Fatalf("GET json = %q", a.body)
	}
	// DELETE.
	if a := f.do(t, "DELETE", "/v1/keys/j", nil); a.code != 200 || f.redis.Exists(ctx, "j").Val() != 0 {
		t.Fatalf("DELETE = %d", a.code)
	}
	a = f.do(t, "DELETE", "/v1/keys/j", nil)
	if a.code != 404 || a.errBody(t).Status != "NOT_FOUND" {
		t.Fatalf("DELETE missing = %d %s", a.code, a.body)
	}
	if a := f.do(t, "GET", "/v1/keys/j", nil); a.code != 404 {
		t.Fatalf("GET missing = %d", a.code)
	}
}

func TestKeysInPaths(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	for _, key := range []string{"user:1", "a/b/c", "sp ace", "100%", "q?x=1#f", "ünï", "x:batchGet", "a+b"} {
		path := "/v1/keys/" + url.PathEscape(key)
		if a := f.do(t, "PUT", path, []byte("v "+key)); a.code != 200 {
			t.Fatalf("PUT %q (%s): %d %s", key, path, a.code, a.body)
		}
		if v := f.redis.Get(ctx, key).Val(); v != "v "+key {
			t.Fatalf("PUT %s stored %q under %q", path, v, key)
		}
		if a := f.do(t, "GET", path, nil); string(a.body) != "v "+key {
			t.Fatalf("GET %s = %d %q", path, a.code, a.body)
		}
	}
	// A '/' may also be sent bare: the key is the rest of the path.
	if a := f.do(t, "GET", "/v1/keys/a/b/c", nil); string(a.body) != "v a/b/c" {
		t.Fatalf("GET /v1/keys/a/b/c = %d %q", a.code, a.body)
	}
	if a := f.do(t, "PUT", "/v1/keys/", []byte("v")); a.code != 400 {
		t.Fatalf("PUT of the empty key = %d %s", a.code, a.body)
	}
	if a := f.do(t, "GET", "/v1/keys/%FF", nil); a.code != 400 {
		t.Fatalf("GET of a key that is not UTF-8 = %d %s", a.code, a.body)
	}
}

func TestConditionsAndQueries(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	if a := f.do(t, "PUT", "/v1/keys/k?nx", []byte("1")); a.code != 200 {
		t.Fatalf("PUT ?nx on a new key = %d", a.code)
	}
	a := f.do(t, "PUT", "/v1/keys/k?nx", []byte("2"))
	if a.code != 412 || a.errBody(t).Status != "FAILED_PRECONDITION" || f.redis.Get(ctx, "k").Val() != "1" {
		t.Fatalf("PUT ?nx on an existing key = %d %s", a.code, a.body)
	}
	if a := f.do(t, "PUT", "/v1/keys/none?xx", []byte("2")); a.code != 412 || f.redis.Exists(ctx, "none").Val() != 0 {
		t.Fatalf("PUT ?xx on a missing key = %d", a.code)
	}
	f.redis.Set(ctx, "k", "1", time.Minute)
	if a := f.do(t, "PUT", "/v1/keys/k?xx&keepttl", []byte("3")); a.code != 200 || f.redis.PTTL(ctx, "k").Val() < 50*time.Second {
		t.Fatalf("PUT ?xx&keepttl = %d, PTTL %v", a.code, f.redis.PTTL(ctx, "k").Val())
	}
	if a := f.do(t, "PUT", "/v1/keys/k?ttl=90", []byte("3")); a.code != 200 || f.redis.PTTL(ctx, "k").Val() < 89*time.Second {
		t.Fatalf("PUT ?ttl=90 (seconds) = %d, PTTL %v", a.code, f.redis.PTTL(ctx, "k").Val())
	}
	for _, q := range []string{"?ttl=0", "?ttl=-5s", "?ttl=soon", "?nx&xx", "?ttl=1s&keepttl", "?nx=maybe", "?ex=5", "?ttl=1s&ttl=2s"} {
		a := f.do(t, "PUT", "/v1/keys/k"+q, []byte("bad"))
		if a.code != 400 || a.errBody(t).Status != "INVALID_ARGUMENT" {
			t.Errorf("PUT %s = %d %s, want 400", q, a.code, a.body)
		}
	}
	if v := f.redis.Get(ctx, "k").Val(); v != "3" {
		t.Fatalf("a refused PUT changed the value: %q", v)
	}
	if a := f.do(t, "GET", "/v1/keys/k?ttl=1s", nil); a.code != 400 {
		t.Fatalf("GET with a query = %d", a.code)
	}
	if a := f.do(t, "PATCH", "/v1/keys/k", []byte("x")); a.code != 405 {
		t.Fatalf("PATCH = %d %s", a.code, a.body)
	}
	if a := f.do(t, "GET", "/v2/nothing", nil); a.code != 404 {
		t.Fatalf("unknown route = %d", a.code)
	}
	f.redis.Set(ctx, "s", "abc", 0)
	if a := f.do(t, "POST", "/v1/keys:batchSet", []byte(`{"items":[{"key":"s","value":"eA==","ttl":"-1s"}]}`)); a.code != 400 {
		t.Fatalf("batchSet with a negative ttl = %d %s", a.code, a.body)
	}
	if a := f.do(t, "POST", "/v1/keys:batchGet", []byte(`{"keys":["s"],"bogus":1}`)); a.code != 400 {
		t.Fatalf("batchGet with an unknown field = %d %s", a.code, a.body)
	}
}

func TestBatchesInJSON(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	f.redis.Set(ctx, "b", "old", 0)
	a := f.do(t, "POST", "/v1/keys:batchSet", []byte(`{"items":[
		{"key":"a","value":"MQ==","ttl":"60s"},
		{"key":"b","value":"Mg==","condition":"CONDITION_IF_ABSENT"}]}`), "Content-Type", "application/json")
	var applied struct{ Applied []bool }
	if a.code != 200 || json.Unmarshal(a.body, &applied) != nil || !slices.Equal(applied.Applied, []bool{true, false}) {
		t.Fatalf("batchSet = %d %s", a.code, a.body)
	}
	if v := f.redis.MGet(ctx, "a", "b").Val(); v[0] != "1" || v[1] != "old" {
		t.Fatalf("RESP MGET = %q", v)
	}
	a = f.do(t, "POST", "/v1/keys:batchGet", []byte(`{"keys":["a","nope","b"]}`))
	var got struct {
		Items []struct {
			Key   string
			Found bool
			Value []byte
			TTL   string `json:"ttl"`
		}
	}
	if err := json.Unmarshal(a.body, &got); err != nil || a.code != 200 {
		t.Fatalf("batchGet = %d %s (%v)", a.code, a.body, err)
	}
	if len(got.Items) != 3 || string(got.Items[0].Value) != "1" || !strings.HasSuffix(got.Items[0].TTL, "s") ||
		got.Items[1].Found || got.Items[1].Key != "nope" || string(got.Items[2].Value) != "old" || got.Items[2].TTL != "" {
		t.Fatalf("batchGet items = %+v", got.Items)
	}
}

func TestAuthentication(t *testing.T) {
	f := start(t, "--requirepass", "s3cret")
	for _, h := range [][]string{nil, {"Authorization", "Bearer nope"}, {"Authorization", "Basic czNjcmV0"}} {
		a := f.do(t, "PUT", "/v1/keys/k", []byte("v"), h...)
		if a.code != 401 || a.errBody(t).Status != "UNAUTHENTICATED" || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("PUT with %q = %d %v %s", h, a.code, a.header, a.body)
		}
	}
	if f.redis.Exists(context.Background(), "k").Val() != 0 {
		t.Fatal("an unauthenticated PUT was applied")
	}
	if a := f.do(t, "PUT", "/v1/keys/k", []byte("v"), "Authorization", "Bearer s3cret"); a.code != 200 {
		t.Fatalf("PUT with the password = %d %s", a.code, a.body)
	}
	if a := f.do(t, "GET", "/v1/keys/k", nil, "Authorization", "bearer s3cret"); string(a.body) != "v" {
		t.Fatalf("GET with the password = %d %s", a.code, a.body)
	}
}

// countingBody is an endless body that counts what the handler read: its
// prefix, then base64 digits for ever (so a JSON decoder keeps reading one
// value).
type countingBody struct {
	prefix string
	n      int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	for i := range p {
		if b.n+int64(i) < int64(len(b.prefix)) {
			p[i] = b.prefix[b.n+int64(i)]
		} else {
			p[i] = 'A'
		}
	}
	b.n += int64(len(p))
	return len(p), nil
}

func (b *countingBody) Close() error { return nil }

func TestOversizedBodiesAreRefusedUnread(t *testing.T) {
	f := start(t, "--proto-max-bulk-len", "1mb", "--maxmemory", "3mb")
	const limit = 1 << 20
	for _, tc := range []struct {
		name          string
		path          string
		contentLength int64
		maxRead       int64
	}{
		{"declared too long", "/v1/keys/big", 100 << 20, 0},
		{"chunked", "/v1/keys/big", -1, limit + 64<<10},
		{"batch chunked", "/v1/keys:batchSet", -1, limit/3*4 + frameSlack + 64<<10},
	} {
		body := &countingBody{}
		req := httptest.NewRequest("PUT", tc.path, nil)
		req.RemoteAddr = "127.0.0.1:1234"
		if strings.Contains(tc.path, ":") {
			body.prefix = `{"items":[{"key":"big","value":"`
			req.Method = "POST"
		}
		req.Body, req.ContentLength = body, tc.contentLength
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		a := answer{rec.Code, rec.Header(), rec.Body.Bytes()}
		if a.code != 413 || a.errBody(t).Status != "RESOURCE_EXHAUSTED" {
			t.Fatalf("%s: %d %s", tc.name, a.code, a.body)
		}
		if body.n > tc.maxRead {
			t.Fatalf("%s: read %d bytes of the body, want at most %d", tc.name, body.n, tc.maxRead)
		}
	}
	if f.redis.Exists(context.Background(), "big").Val() != 0 {
		t.Fatal("an oversized PUT was stored")
	}
	// A value at the limit is fine; maxmemory (noeviction) answers 507.
	var a answer
	for i := range 8 {
		if a = f.do(t, "PUT", "/v1/keys/v"+strconv.Itoa(i), bytes.Repeat([]byte("y"), limit)); a.code != 200 {
			break
		}
	}
	if a.code != 507 || a.errBody(t).Status != "RESOURCE_EXHAUSTED" || !strings.HasPrefix(a.errBody(t).Message, "OOM ") {
		t.Fatalf("PUT past maxmemory = %d %s", a.code, a.body)
	}
}

func TestMetricsByProtocol(t *testing.T) {
	f := start(t)
	f.do(t, "PUT", "/v1/keys/k", []byte("v"))
	f.do(t, "GET", "/v1/keys/k", nil)
	f.do(t, "HEAD", "/v1/keys/k", nil)
	f.do(t, "GET", "/v1/keys/k?bad", nil)
	calls := map[string]uint64{}
	rejected := map[string]uint64{}
	for _, cs := range f.srv.Stats().Commands {
		calls[cs.Protocol.String()+" "+cs.Name] += cs.Calls
		rejected[cs.Protocol.String()+" "+cs.Name] += cs.Rejected
	}
	if calls["http set"] != 1 || calls["http get"] != 2 || rejected["http get"] != 1 { // HEAD is a get
		t.Fatalf("calls %v, rejected %v", calls, rejected)
	}
}
