package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/shardcache/shardcache/client/cachev1"
)

// FuzzSetQuery checks PUT's query parsing: it never panics, refuses with
// errQuery, and what it accepts is consistent.
func FuzzSetQuery(f *testing.F) {
	for _, q := range []string{"", "ttl=30s", "nx", "xx", "ttl=1m30s&nx", "keepttl&xx", "nx&xx", "ttl=0", "ttl=9223372036854775807",
		"ttl=-1", "ttl=1e3s", "nx=false", "nx=1&nx=1", "ttl=%zz", "a=b", "ttl=2562047h"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		values, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		var req cachev1.SetRequest
		if err := parseSetQuery(values, &req); err != nil {
			if !errors.Is(err, errQuery) {
				t.Fatalf("%q: error %v does not wrap errQuery", q, err)
			}
			return
		}
		if req.Ttl != nil && (req.Ttl.AsDuration() <= 0 || req.KeepTtl) {
			t.Fatalf("%q accepted as %v", q, &req)
		}
		if _, ok := values["ttl"]; ok != (req.Ttl != nil) {
			t.Fatalf("%q: ttl given %v, parsed %v", q, ok, req.Ttl)
		}
	})
}

// FuzzKeyPath writes a value under any key through the HTTP API and reads
// it back over both APIs: the key a path names is the key escaped into it.
func FuzzKeyPath(f *testing.F) {
	for _, k := range []string{"k", "user:1", "a/b", "a//b", "/lead", "trail/", "%2F", "..", ".", "x:batchGet", "sp ace", "ü", "a?b", "#", "*"} {
		f.Add(k)
	}
	fx := start(f)
	f.Fuzz(func(t *testing.T, key string) {
		path := "/v1/keys/" + url.PathEscape(key)
		req := httptest.NewRequest("PUT", "/", bytes.NewReader([]byte(key)))
		req.RemoteAddr = "127.0.0.1:1234"
		req.URL = &url.URL{Path: mustUnescape(t, path), RawPath: path}
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		switch {
		case key == "" || !utf8.ValidString(key):
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("PUT of key %q = %d %s, want 400", key, rec.Code, rec.Body)
			}
			return
		case rec.Code != http.StatusOK:
			t.Fatalf("PUT %s = %d %s", path, rec.Code, rec.Body)
		}
		if v, err := fx.redis.Get(context.Background(), key).Result(); err != nil || v != key {
			t.Fatalf("PUT %s: RESP GET %q = %q, %v", path, key, v, err)
		}
		req = httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = "127.0.0.1:1234"
		req.URL = &url.URL{Path: mustUnescape(t, path), RawPath: path}
		rec = httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != key {
			t.Fatalf("GET %s = %d %q", path, rec.Code, rec.Body)
		}
		fx.redis.Del(context.Background(), key)
	})
}

func mustUnescape(t *testing.T, p string) string {
	u, err := url.PathUnescape(p)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
