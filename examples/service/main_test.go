package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestHandler(t *testing.T) {
	s, err := newStore("memory", "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var lookups atomic.Int32
	h := newHandler(s, func(ctx context.Context, id string) (User, error) {
		lookups.Add(1)
		return User{ID: id, Name: "user " + id}, nil
	})
	for i, want := range []string{"miss", "hit"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/user/42", nil))
		if rec.Code != http.StatusOK || rec.Header().Get("X-Cache") != want {
			t.Fatalf("request %d: %d, X-Cache %q, body %q; want 200 and %s", i, rec.Code, rec.Header().Get("X-Cache"), rec.Body, want)
		}
		if body := rec.Body.String(); body != `{"id":"42","name":"user 42"}`+"\n" {
			t.Fatalf("body %q", body)
		}
	}
	if n := lookups.Load(); n != 1 {
		t.Fatalf("%d lookups, want 1", n)
	}
	if _, err := newStore("nope", "", ""); err == nil {
		t.Fatal("an unknown backend was accepted")
	}
}
