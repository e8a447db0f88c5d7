package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shardcache/shardcache/client/cachev1"
)

// op is what a phase does: every call of a Set phase writes, every call of
// a Get phase reads.
type op string

const (
	opSet op = "Set"
	opGet op = "Get"
)

// workload is what every mode shares: the keys, the value and the batch.
type workload struct {
	keys  []string
	value []byte
	batch int
}

// pick returns a uniformly random key.
func (w *workload) pick(r *rand.Rand) string { return w.keys[r.IntN(len(w.keys))] }

// callFunc makes one call (one round trip) and returns how many keys it
// asked for that were absent; it belongs to one caller goroutine.
type callFunc func(ctx context.Context) (misses int, err error)

// mode is one way of reaching the server. newCaller returns caller i's
// call function for op, with state of its own (random source, buffers).
type mode struct {
	name        string
	keysPerCall int
	newCaller   func(o op, i int) callFunc
	close       func()
	// dials, when set, counts the connections opened so far.
	dials func() int64
}

// modeNames lists the modes in the order each round runs them.
var modeNames = []string{"resp/unary", "resp/pipelined", "grpc/unary", "grpc/batched", "http/keepalive"}

type addrs struct{ resp, grpc, http string }

// newMode connects mode name to its server address, with a pool (or, for
// gRPC, streams) for callers concurrent callers.
func newMode(name string, a addrs, w *workload, callers, grpcConns int) (*mode, error) {
	switch name {
	case "resp/unary", "resp/pipelined":
		if a.resp == "" {
			return nil, errors.New("needs -resp")
		}
		rdb := redis.NewClient(&redis.Options{
			Addr:            a.resp,
			PoolSize:        callers,
			MinIdleConns:    callers,
			DisableIdentity: true,
			Protocol:        2,
			ReadTimeout:     10 * time.Second,
			WriteTimeout:    10 * time.Second,
		})
		m := &mode{name: name, keysPerCall: 1, close: func() { rdb.Close() }}
		if name == "resp/unary" {
			m.newCaller = func(o op, i int) callFunc { return respUnary(rdb, w, o, i) }
		} else {
			m.keysPerCall = w.batch
			m.newCaller = func(o op, i int) callFunc { return respPipelined(rdb, w, o, i) }
		}
		return m, nil
	case "grpc/unary", "grpc/batched":
		if a.grpc == "" {
			return nil, errors.New("needs -grpc")
		}
		conns := make([]*grpc.ClientConn, grpcConns)
		for i := range conns {
			cc, err := grpc.NewClient(a.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				return nil, err
			}
			conns[i] = cc
		}
		m := &mode{name: name, keysPerCall: 1, close: func() {
			for _, cc := range conns {
				cc.Close()
			}
		}}
		client := func(i int) cachev1.CacheClient { return cachev1.NewCacheClient(conns[i%len(conns)]) }
		if name == "grpc/unary" {
			m.newCaller = func(o op, i int) callFunc { return grpcUnary(client(i), w, o, i) }
		} else {
			m.keysPerCall = w.batch
			m.newCaller = func(o op, i int) callFunc { return grpcBatched(client(i), w, o, i) }
		}
		return m, nil
	case "http/keepalive":
		if a.http == "" {
			return nil, errors.New("needs -http")
		}
		dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
		var dials atomic.Int64
		tr := &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConns:        2 * callers,
			MaxIdleConnsPerHost: 2 * callers,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}
		hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		base := "http://" + a.http + "/v1/keys/"
		return &mode{
			name:        name,
			keysPerCall: 1,
			newCaller:   func(o op, i int) callFunc { return httpKeepalive(hc, base, w, o, i) },
			close:       tr.CloseIdleConnections,
			dials:       dials.Load,
		}, nil
	}
	return nil, fmt.Errorf("unknown mode %q (known: %v)", name, modeNames)
}

func newRand(i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano())))
}

func respUnary(rdb *redis.Client, w *workload, o op, i int) callFunc {
	r := newRand(i)
	if o == opSet {
		return func(ctx context.Context) (int, error) {
			return 0, rdb.Set(ctx, w.pick(r), w.value, 0).Err()
		}
	}
	return func(ctx context.Context) (int, error) {
		err := rdb.Get(ctx, w.pick(r)).Err()
		if err == redis.Nil {
			return 1, nil
		}
		return 0, err
	}
}

func respPipelined(rdb *redis.Client, w *workload, o op, i int) callFunc {
	r := newRand(i)
	return func(ctx context.Context) (int, error) {
		pipe := rdb.Pipeline()
		for range w.batch {
			if o == opSet {
				pipe.Set(ctx, w.pick(r), w.value, 0)
			} else {
				pipe.Get(ctx, w.pick(r))
			}
		}
		cmds, err := pipe.Exec(ctx)
		if err != nil && err != redis.Nil {
			return 0, err
		}
		misses := 0
		for _, c := range cmds {
			switch err := c.Err(); err {
			case nil:
			case redis.Nil:
				misses++
			default:
				return misses, err
			}
		}
		return misses, nil
	}
}

func grpcUnary(c cachev1.CacheClient, w *workload, o op, i int) callFunc {
	r := newRand(i)
	if o == opSet {
		return func(ctx context.Context) (int, error) {
			_, err := c.Set(ctx, &cachev1.SetRequest{Key: w.pick(r), Value: w.value})
			return 0, err
		}
	}
	return func(ctx context.Context) (int, error) {
		resp, err := c.Get(ctx, &cachev1.GetRequest{Key: w.pick(r)})
		if err != nil {
			if isNotFound(err) {
				return 1, nil
			}
			return 0, err
		}
		if len(resp.GetValue()) != len(w.value) {
			return 0, fmt.Errorf("got %d bytes, want %d", len(resp.GetValue()), len(w.value))
		}
		return 0, nil
	}
}

func grpcBatched(c cachev1.CacheClient, w *workload, o op, i int) callFunc {
	r := newRand(i)
	if o == opSet {
		items := make([]*cachev1.SetRequest, w.batch)
		for j := range items {
			items[j] = &cachev1.SetRequest{Value: w.value}
		}
		req := &cachev1.SetManyRequest{Items: items}
		return func(ctx context.Context) (int, error) {
			for _, it := range items {
				it.Key = w.pick(r)
			}
			_, err := c.SetMany(ctx, req)
			return 0, err
		}
	}
	req := &cachev1.GetManyRequest{Keys: make([]string, w.batch)}
	return func(ctx context.Context) (int, error) {
		for j := range req.Keys {
			req.Keys[j] = w.pick(r)
		}
		resp, err := c.GetMany(ctx, req)
		if err != nil {
			return 0, err
		}
		misses := 0
		for _, it := range resp.GetItems() {
			if !it.GetFound() {
				misses++
			}
		}
		return misses, nil
	}
}

func httpKeepalive(hc *http.Client, base string, w *workload, o op, i int) callFunc {
	r := newRand(i)
	if o == opSet {
		return func(ctx context.Context) (int, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+w.pick(r), bytes.NewReader(w.value))
			if err != nil {
				return 0, err
			}
			req.Header.Set("Content-Type", "application/octet-stream")
			resp, err := hc.Do(req)
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return 0, fmt.Errorf("PUT: %s", resp.Status)
			}
			return 0, nil
		}
	}
	buf := make([]byte, 0, 4*len(w.value)+512)
	return func(ctx context.Context) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+w.pick(r), nil)
		if err != nil {
			return 0, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		b := bytes.NewBuffer(buf[:0])
		_, err = b.ReadFrom(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			return 0, err
		case resp.StatusCode == http.StatusNotFound:
			return 1, nil
		case resp.StatusCode != http.StatusOK:
			return 0, fmt.Errorf("GET: %s", resp.Status)
		case b.Len() != len(w.value):
			return 0, fmt.Errorf("GET: %d bytes, want %d", b.Len(), len(w.value))
		}
		return 0, nil
	}
}
