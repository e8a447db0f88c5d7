package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/shardcache/shardcache/client"
)

// target is the gRPC target of the bufconn servers: the dialer ignores it.
const target = "passthrough:///bufnet"

// start serves f and returns a Client of it made by New with opts.
func start(t *testing.T, f *fakeCache, opts ...client.Option) *client.Client {
	t.Helper()
	lis := f.serve(t)
	c, err := client.New(target, append([]client.Option{client.WithDialOptions(dialer(lis))}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantErr checks that err matches sentinel with errors.Is and carries
// code for status.Code, with the package's message prefix.
func wantErr(t *testing.T, err, sentinel error, code codes.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v (%v)", sentinel, code)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("errors.Is(%v, %v) = false", err, sentinel)
	}
	if got := status.Code(err); got != code {
		t.Errorf("status.Code(%v) = %v, want %v", err, got, code)
	}
	if !strings.HasPrefix(err.Error(), "client: ") {
		t.Errorf("error %q lacks the \"client: \" prefix", err)
	}
}

func TestSetGetDelete(t *testing.T) {
	ctx := ctxT(t)
	c := start(t, newFake())

	if err := c.Set(ctx, "a", []byte("one")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	v, err := c.Get(ctx, "a")
	if err != nil || string(v) != "one" {
		t.Fatalf("Get = %q, %v; want one", v, err)
	}
	if err := c.Set(ctx, "a", []byte("two")); err != nil {
		t.Fatalf("Set over: %v", err)
	}
	if v, _ := c.Get(ctx, "a"); string(v) != "two" {
		t.Fatalf("Get after overwrite = %q, want two", v)
	}

	// An empty value is found, and non-nil.
	if err := c.Set(ctx, "empty", nil); err != nil {
		t.Fatalf("Set empty: %v", err)
	}
	v, err = c.Get(ctx, "empty")
	if err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Get empty = %#v, %v; want []byte{}, nil", v, err)
	}

	_, err = c.Get(ctx, "missing")
	wantErr(t, err, client.ErrNotFound, codes.NotFound)

	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = c.Get(ctx, "a")
	wantErr(t, err, client.ErrNotFound, codes.NotFound)
	wantErr(t, c.Delete(ctx, "a"), client.ErrNotFound, codes.NotFound)
}

func TestSetConditions(t *testing.T) {
	ctx := ctxT(t)
	c := start(t, newFake())

	wantErr(t, c.Set(ctx, "k", []byte("x"), client.IfPresent()), client.ErrConditionFailed, codes.FailedPrecondition)
	if _, err := c.Get(ctx, "k"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("failed IfPresent stored the key: Get err = %v", err)
	}
	if err := c.Set(ctx, "k", []byte("first"), client.IfAbsent()); err != nil {
		t.Fatalf("IfAbsent on an absent key: %v", err)
	}
	wantErr(t, c.Set(ctx, "k", []byte("second"), client.IfAbsent()), client.ErrConditionFailed, codes.FailedPrecondition)
	if v, _ := c.Get(ctx, "k"); string(v) != "first" {
		t.Fatalf("failed IfAbsent changed the value to %q", v)
	}
	if err := c.Set(ctx, "k", []byte("third"), client.IfPresent()); err != nil {
		t.Fatalf("IfPresent on a present key: %v", err)
	}
	if v, _ := c.Get(ctx, "k"); string(v) != "third" {
		t.Fatalf("Get = %q, want third", v)
	}
	// The last condition wins.
	if err := c.Set(ctx, "k2", []byte("v"), client.IfPresent(), client.IfAbsent()); err != nil {
		t.Fatalf("IfPresent then IfAbsent on an absent key: %v", err)
	}
}

func TestTTLs(t *testing.T) {
	ctx := ctxT(t)
	f := newFake()
	c := start(t, f)

	if err := c.Set(ctx, "k", []byte("v"), client.WithTTL(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	f.advance(3 * time.Second)
	if d, err := c.TTL(ctx, "k"); err != nil || d != 7*time.Second {
		t.Fatalf("TTL = %v, %v; want 7s", d, err)
	}
	if v, d, err := c.GetWithTTL(ctx, "k"); err != nil || string(v) != "v" || d != 7*time.Second {
		t.Fatalf("GetWithTTL = %q, %v, %v; want v, 7s", v, d, err)
	}

	// KeepTTL keeps the deadline; a plain Set removes it.
	if err := c.Set(ctx, "k", []byte("w"), client.KeepTTL()); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.TTL(ctx, "k"); d != 7*time.Second {
		t.Fatalf("TTL after KeepTTL = %v, want 7s", d)
	}
	if err := c.Set(ctx, "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if d, err := c.TTL(ctx, "k"); err != nil || d != client.NoTTL {
		t.Fatalf("TTL after plain Set = %v, %v; want NoTTL", d, err)
	}
	if _, d, _ := c.GetWithTTL(ctx, "k"); d != client.NoTTL {
		t.Fatalf("GetWithTTL ttl = %v, want NoTTL", d)
	}

	// Touch sets and removes.
	if err := c.Touch(ctx, "k", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.TTL(ctx, "k"); d != 5*time.Second {
		t.Fatalf("TTL after Touch = %v, want 5s", d)
	}
	if err := c.Touch(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.TTL(ctx, "k"); d != client.NoTTL {
		t.Fatalf("TTL after Touch(0) = %v, want NoTTL", d)
	}
	if err := c.Touch(ctx, "k", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Touch(ctx, "k", client.NoTTL); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.TTL(ctx, "k"); d != client.NoTTL {
		t.Fatalf("TTL after Touch(NoTTL) = %v, want NoTTL", d)
	}
	wantErr(t, c.Touch(ctx, "missing", time.Second), client.ErrNotFound, codes.NotFound)
	wantErr(t, c.Touch(ctx, "k", -time.Second), client.ErrInvalidArgument, codes.InvalidArgument)
	_, err := c.TTL(ctx, "missing")
	wantErr(t, err, client.ErrNotFound, codes.NotFound)

	// WithTTL(NoTTL) round-trips a TTL reading; negatives are refused.
	if err := c.Set(ctx, "n", []byte("v"), client.WithTTL(client.NoTTL)); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.TTL(ctx, "n"); d != client.NoTTL {
		t.Fatalf("TTL after WithTTL(NoTTL) = %v, want NoTTL", d)
	}
	wantErr(t, c.Set(ctx, "n", []byte("v"), client.WithTTL(-time.Second)), client.ErrInvalidArgument, codes.InvalidArgument)
	wantErr(t, c.Set(ctx, "n", []byte("v"), client.WithTTL(time.Second), client.KeepTTL()), client.ErrInvalidArgument, codes.InvalidArgument)

	// Expiry.
	if err := c.Set(ctx, "e", []byte("v"), client.WithTTL(time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute)
	_, err = c.Get(ctx, "e")
	wantErr(t, err, client.ErrNotFound, codes.NotFound)
}

func TestIncrement(t *testing.T) {
	ctx := ctxT(t)
	f := newFake()
	c := start(t, f)

	if n, err := c.Increment(ctx, "n", 5); err != nil || n != 5 {
		t.Fatalf("Increment absent = %d, %v; want 5", n, err)
	}
	if n, err := c.Increment(ctx, "n", -7); err != nil || n != -2 {
		t.Fatalf("Increment = %d, %v; want -2", n, err)
	}
	if v, _ := c.Get(ctx, "n"); string(v) != "-2" {
		t.Fatalf("Get = %q, want -2", v)
	}
	// The key keeps its TTL.
	if err := c.Touch(ctx, "n", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Increment(ctx, "n", 1); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.TTL(ctx, "n"); d != time.Hour {
		t.Fatalf("TTL after Increment = %v, want 1h", d)
	}

	if err := c.Set(ctx, "s", []byte("text")); err != nil {
		t.Fatal(err)
	}
	_, err := c.Increment(ctx, "s", 1)
	wantErr(t, err, client.ErrInvalidArgument, codes.InvalidArgument)
}

func TestGetManyWithMisses(t *testing.T) {
	ctx := ctxT(t)
	f := newFake()
	c := start(t, f)

	if err := c.Set(ctx, "a", []byte("A"), client.WithTTL(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "b", nil); err != nil {
		t.Fatal(err)
	}
	items, err := c.GetMany(ctx, []string{"missing", "a", "b", "a", "gone"})
	if err != nil {
		t.Fatal(err)
	}
	want := []client.Item{
		{Key: "missing", Found: false, Value: nil, TTL: client.NoTTL},
		{Key: "a", Found: true, Value: []byte("A"), TTL: time.Minute},
		{Key: "b", Found: true, Value: []byte{}, TTL: client.NoTTL},
		{Key: "a", Found: true, Value: []byte("A"), TTL: time.Minute},
		{Key: "gone", Found: false, Value: nil, TTL: client.NoTTL},
	}
	if len(items) != len(want) {
		t.Fatalf("GetMany returned %d items, want %d: %+v", len(items), len(want), items)
	}
	for i := range want {
		g, w := items[i], want[i]
		if g.Key != w.Key || g.Found != w.Found || !bytes.Equal(g.Value, w.Value) || (g.Value == nil) != (w.Value == nil) || g.TTL != w.TTL {
			t.Errorf("items[%d] = %+v, want %+v", i, g, w)
		}
	}

	items, err = c.GetMany(ctx, nil)
	if err != nil || len(items) != 0 {
		t.Fatalf("GetMany(nil) = %v, %v; want empty", items, err)
	}
	_, err = c.GetMany(ctx, []string{"a", ""})
	wantErr(t, err, client.ErrInvalidArgument, codes.InvalidArgument)
}

func TestSetMany(t *testing.T) {
	ctx := ctxT(t)
	c := start(t, newFake())

	if err := c.Set(ctx, "old", []byte("1")); err != nil {
		t.Fatal(err)
	}
	applied, err := c.SetMany(ctx, []client.SetItem{
		{Key: "new", Value: []byte("n"), Options: []client.SetOption{client.WithTTL(time.Minute)}},
		{Key: "old", Value: []byte("2"), Options: []client.SetOption{client.IfAbsent()}},
		{Key: "absent", Value: []byte("3"), Options: []client.SetOption{client.IfPresent()}},
		{Key: "old", Value: []byte("4"), Options: []client.SetOption{client.IfPresent()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false, false, true}; !slices.Equal(applied, want) {
		t.Fatalf("applied = %v, want %v", applied, want)
	}
	items, err := c.GetMany(ctx, []string{"new", "old", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if string(items[0].Value) != "n" || items[0].TTL != time.Minute || string(items[1].Value) != "4" || items[2].Found {
		t.Fatalf("after SetMany: %+v", items)
	}

	// An invalid item fails the whole call and stores nothing.
	_, err = c.SetMany(ctx, []client.SetItem{
		{Key: "x", Value: []byte("x")},
		{Key: "", Value: []byte("y")},
	})
	wantErr(t, err, client.ErrInvalidArgument, codes.InvalidArgument)
	if !strings.Contains(status.Convert(err).Message(), "items[1]") {
		t.Errorf("status message %q does not name items[1]", status.Convert(err).Message())
	}
	if _, err := c.Get(ctx, "x"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("a failed SetMany stored x: %v", err)
	}
}

// collect ranges over a Scan.
func collect(t *testing.T, seq func(func(string, error) bool)) ([]string, error) {
	t.Helper()
	var keys []string
	for k, err := range seq {
		if err != nil {
			return keys, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func TestScanPaging(t *testing.T) {
	ctx := ctxT(t)
	f := newFake()
	c := start(t, f)

	var want []string
	for i := range 25 {
		k := "user:" + strconv.Itoa(100+i)
		want = append(want, k)
		if err := c.Set(ctx, k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"session:1", "other"} {
		if err := c.Set(ctx, k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	got, err := collect(t, c.Scan(ctx, "user:*", 10))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("Scan = %v, want %v", got, want)
	}
	f.mu.Lock()
	msgs, sizes := f.scanMessages, slices.Clone(f.scanPageSizes)
	f.mu.Unlock()
	if msgs != 3 || !slices.Equal(sizes, []int32{10}) {
		t.Fatalf("server sent %d messages for page sizes %v, want 3 for [10]", msgs, sizes)
	}

	// Every key, at the default page size; the iterator can be reused.
	seq := c.Scan(ctx, "", 0)
	for range 2 {
		all, err := collect(t, seq)
		if err != nil || len(all) != 27 {
			t.Fatalf("Scan(\"\") = %d keys, %v; want 27", len(all), err)
		}
	}

	// No match: no keys, no error.
	none, err := collect(t, c.Scan(ctx, "nothing:*", 10))
	if err != nil || len(none) != 0 {
		t.Fatalf("Scan(nothing:*) = %v, %v", none, err)
	}
}

func TestScanErrors(t *testing.T) {
	ctx := ctxT(t)
	c := start(t, newFake())
	if err := c.Set(ctx, "a", []byte("v")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		match string
		size  int
	}{{"[", 10}, {"*", -1}, {"*", -1 << 40}} {
		var errs int
		var last error
		for k, err := range c.Scan(ctx, tc.match, tc.size) {
			if err == nil {
				t.Fatalf("Scan(%q, %d) yielded key %q", tc.match, tc.size, k)
			}
			errs++
			last = err
		}
		if errs != 1 {
			t.Fatalf("Scan(%q, %d) yielded %d errors, want 1", tc.match, tc.size, errs)
		}
		wantErr(t, last, client.ErrInvalidArgument, codes.InvalidArgument)
		var ce *client.Error
		if !errors.As(last, &ce) || ce.Op != "Scan" {
			t.Fatalf("Scan error %v is not a *client.Error of Scan", last)
		}
	}
}

func TestScanBreakCancelsStream(t *testing.T) {
	ctx := ctxT(t)
	f := newFake()
	c := start(t, f)
	for i := range 10 {
		if err := c.Set(ctx, "k"+strconv.Itoa(i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	f.holdScan = true
	f.mu.Unlock()

	var got []string
	for k, err := range c.Scan(ctx, "k*", 2) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
		if len(got) == 3 {
			break
		}
	}
	if !slices.Equal(got, []string{"k0", "k1", "k2"}) {
		t.Fatalf("keys before break = %v", got)
	}
	select {
	case err := <-f.scanEnded:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("server stream ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server's stream context did not end after the consumer broke out")
	}
	// ctx itself is untouched: the client still works.
	if _, err := c.Get(ctx, "k0"); err != nil {
		t.Fatalf("Get after break: %v", err)
	}
}

func TestErrorMapping(t *testing.T) {
	ctx := ctxT(t)
	for _, tc := range []struct {
		name     string
		setup    func(*fakeCache)
		opts     []client.Option
		call     func(*client.Client) error
		sentinel error
		code     codes.Code
		msg      string // the server's status message
	}{
		{
			name: "not found", call: func(c *client.Client) error { _, err := c.Get(ctx, "nope"); return err },
			sentinel: client.ErrNotFound, code: codes.NotFound, msg: `key "nope" not found`,
		},
		{
			name:     "condition failed",
			setup:    func(f *fakeCache) { f.data["k"] = fakeEntry{value: []byte("v")} },
			call:     func(c *client.Client) error { return c.Set(ctx, "k", nil, client.IfAbsent()) },
			sentinel: client.ErrConditionFailed, code: codes.FailedPrecondition,
			msg: `condition CONDITION_IF_ABSENT failed for key "k"`,
		},
		{
			name: "invalid argument", call: func(c *client.Client) error { _, err := c.Get(ctx, ""); return err },
			sentinel: client.ErrInvalidArgument, code: codes.InvalidArgument, msg: "key must not be empty",
		},
		{
			name:     "resource exhausted",
			setup:    func(f *fakeCache) { f.maxValue = 4 },
			call:     func(c *client.Client) error { return c.Set(ctx, "k", []byte("too long")) },
			sentinel: client.ErrResourceExhausted, code: codes.ResourceExhausted,
			msg: "OOM command not allowed when used memory > 'maxmemory'",
		},
		{
			name:     "unauthenticated without password",
			setup:    func(f *fakeCache) { f.password = "s3cret" },
			call:     func(c *client.Client) error { _, err := c.Increment(ctx, "n", 1); return err },
			sentinel: client.ErrUnauthenticated, code: codes.Unauthenticated, msg: "authentication required",
		},
		{
			name:     "unauthenticated with a wrong password",
			setup:    func(f *fakeCache) { f.password = "s3cret" },
			opts:     []client.Option{client.WithPassword("guess")},
			call:     func(c *client.Client) error { return c.Touch(ctx, "n", time.Second) },
			sentinel: client.ErrUnauthenticated, code: codes.Unauthenticated, msg: "invalid password",
		},
		{
			name:     "permission denied",
			setup:    func(f *fakeCache) { f.protected = true },
			call:     func(c *client.Client) error { return c.Delete(ctx, "k") },
			sentinel: client.ErrPermissionDenied, code: codes.PermissionDenied, msg: "protected mode is on",
		},
		{
			name:     "unavailable",
			setup:    func(f *fakeCache) { f.unavailable = true },
			call:     func(c *client.Client) error { _, err := c.TTL(ctx, "k"); return err },
			sentinel: client.ErrUnavailable, code: codes.Unavailable, msg: "loading the dataset",
		},
		{
			name:  "unavailable stream",
			setup: func(f *fakeCache) { f.unavailable = true },
			call: func(c *client.Client) error {
				_, err := collect(t, c.Scan(ctx, "*", 1))
				return err
			},
			sentinel: client.ErrUnavailable, code: codes.Unavailable, msg: "loading the dataset",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				tc.setup(f)
			}
			c := start(t, f, tc.opts...)
			err := tc.call(c)
			wantErr(t, err, tc.sentinel, tc.code)
			st, ok := status.FromError(err)
			if !ok || st.Code() != tc.code || st.Message() != tc.msg {
				t.Errorf("status.FromError = %v, %v; want code %v message %q", st, ok, tc.code, tc.msg)
			}
			var ce *client.Error
			if !errors.As(err, &ce) || ce.Code() != tc.code {
				t.Errorf("errors.As(*client.Error) failed or wrong code: %v", err)
			}
			for _, other := range []error{
				client.ErrNotFound, client.ErrConditionFailed, client.ErrInvalidArgument, client.ErrResourceExhausted,
				client.ErrUnauthenticated, client.ErrPermissionDenied, client.ErrUnavailable,
			} {
				if other != tc.sentinel && errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
			// Wrapping the error keeps both.
			wrapped := errors.Join(errors.New("context"), err)
			if !errors.Is(wrapped, tc.sentinel) || status.Code(wrapped) != tc.code {
				t.Errorf("wrapped error lost its sentinel or code: %v", wrapped)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	ctx := ctxT(t)
	c := start(t, newFake())
	_, err := c.Get(ctx, "a")
	if want := `client: Get: NotFound: key "a" not found`; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

func TestUnreachableServer(t *testing.T) {
	f := newFake()
	lis := f.serve(t)
	lis.Close()
	c, err := client.New(target, client.WithDialOptions(dialer(lis)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Get(ctx, "k")
	wantErr(t, err, client.ErrUnavailable, codes.Unavailable)
}

func TestContextErrors(t *testing.T) {
	c := start(t, newFake())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Get(ctx, "k")
	wantErr(t, err, context.Canceled, codes.Canceled)

	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err = c.Set(ctx, "k", nil)
	wantErr(t, err, context.DeadlineExceeded, codes.DeadlineExceeded)

	_, err = collect(t, c.Scan(ctx, "*", 1))
	wantErr(t, err, context.DeadlineExceeded, codes.DeadlineExceeded)
}

func TestBearerToken(t *testing.T) {
	ctx := ctxT(t)
	f := newFake()
	f.password = "s3cret"
	c := start(t, f, client.WithPassword("s3cret"))

	if err := c.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("Set with the password: %v", err)
	}
	if keys, err := collect(t, c.Scan(ctx, "*", 0)); err != nil || !slices.Equal(keys, []string{"k"}) {
		t.Fatalf("Scan with the password = %v, %v", keys, err)
	}
	if got := f.authSeen(); !slices.Equal(got, []string{"Bearer s3cret", "Bearer s3cret"}) {
		t.Fatalf("authorization metadata received = %q", got)
	}

	// No password set: no metadata at all.
	f2 := newFake()
	c2 := start(t, f2, client.WithPassword(""))
	if _, err := c2.Increment(ctx, "n", 1); err != nil {
		t.Fatal(err)
	}
	if got := f2.authSeen(); len(got) != 0 {
		t.Fatalf("without a password the server received authorization %q", got)
	}
}

func TestPasswordNeedsTLSWhenTLSIsSet(t *testing.T) {
	// WithTLS makes the bearer credentials require a secure transport:
	// replacing it with an insecure one is refused instead of sending the
	// password in clear text.
	_, err := client.New(target,
		client.WithTLS(&tls.Config{}),
		client.WithPassword("s3cret"),
		client.WithDialOptions(grpc.WithTransportCredentials(insecure.NewCredentials())),
	)
	if err == nil || !strings.HasPrefix(err.Error(), "client: ") {
		t.Fatalf("New with TLS credentials replaced by insecure ones: err = %v, want a refusal", err)
	}
	// Without WithTLS, plaintext with a password is what was asked for.
	c, err := client.New(target, client.WithPassword("s3cret"))
	if err != nil {
		t.Fatalf("New with a password over plaintext: %v", err)
	}
	c.Close()
}

// selfSigned returns a server certificate for "bufnet" and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "bufnet"},
		DNSNames:              []string{"bufnet"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestTLSWithPassword(t *testing.T) {
	ctx := ctxT(t)
	cert, pool := selfSigned(t)
	f := newFake()
	f.password = "s3cret"
	lis := f.serve(t, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))

	c, err := client.New(target,
		client.WithTLS(&tls.Config{RootCAs: pool, ServerName: "bufnet"}),
		client.WithPassword("s3cret"),
		client.WithDialOptions(dialer(lis)),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.Increment(ctx, "n", 2); err != nil || n != 2 {
		t.Fatalf("Increment over TLS = %d, %v", n, err)
	}
	if got := f.authSeen(); !slices.Equal(got, []string{"Bearer s3cret"}) {
		t.Fatalf("authorization metadata over TLS = %q", got)
	}

	// A client that does not trust the certificate cannot connect.
	bad, err := client.New(target, client.WithTLS(&tls.Config{ServerName: "bufnet"}), client.WithDialOptions(dialer(lis)))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_, err = bad.Get(ctx, "n")
	wantErr(t, err, client.ErrUnavailable, codes.Unavailable)
}

func TestNewFromConn(t *testing.T) {
	ctx := ctxT(t)
	f := newFake()
	lis := f.serve(t)
	conn, err := grpc.NewClient(target, dialer(lis), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	c := client.NewFromConn(conn)
	if err := c.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close of a NewFromConn client = %v, want nil", err)
	}
	// The connection is the caller's: still open after Close.
	v, err := client.NewFromConn(conn).Get(ctx, "k")
	if err != nil || string(v) != "v" {
		t.Fatalf("Get after Close = %q, %v", v, err)
	}
}

func TestClose(t *testing.T) {
	f := newFake()
	lis := f.serve(t)
	c, err := client.New(target, client.WithDialOptions(dialer(lis)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := c.Set(context.Background(), "k", nil); err == nil {
		t.Fatal("Set after Close succeeded")
	}
	if err := c.Close(); err == nil {
		t.Fatal("second Close = nil, want an error")
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := ctxT(t)
	c := start(t, newFake())
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := c.Increment(ctx, "n", 1); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if v, _ := c.Get(ctx, "n"); string(v) != strconv.Itoa(workers*each) {
		t.Fatalf("n = %q after %d increments", v, workers*each)
	}
}
