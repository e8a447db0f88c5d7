// Command service is a small HTTP service that caches a slow lookup behind
// the store.Store interface, with the backend chosen by one flag:
//
//	go run . -backend memory
//	go run . -backend redis -redis 127.0.0.1:6379
//	go run . -backend memcached -memcached 127.0.0.1:11211
//	go run . -backend tiered -redis 127.0.0.1:6379
//
// then curl localhost:8090/user/42 twice: the first answer takes the lookup's
// 100 ms, the second comes from the cache. The handler is written once,
// against store.Typed; only newStore knows the backends.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache"
	"github.com/shardcache/shardcache/store"
	"github.com/shardcache/shardcache/store/memcachestore"
	"github.com/shardcache/shardcache/store/memory"
	"github.com/shardcache/shardcache/store/redisstore"
	"github.com/shardcache/shardcache/store/tiered"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "HTTP listen address")
	backend := flag.String("backend", "memory", "cache backend: memory, redis, memcached or tiered (memory in front of redis)")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address, for -backend redis and tiered")
	mcAddr := flag.String("memcached", "127.0.0.1:11211", "memcached address, for -backend memcached")
	flag.Parse()

	s, err := newStore(*backend, *redisAddr, *mcAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	srv := &http.Server{Addr: *addr, Handler: newHandler(s, slowLookup)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Printf("serving on %s with the %s backend", *addr, *backend)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// newStore is the only code that knows the backends.
func newStore(backend, redisAddr, mcAddr string) (store.Store, error) {
	newRedis := func() *redis.Client {
		return redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
	}
	switch backend {
	case "memory":
		return memory.New(shardcache.Config[string, []byte]{MaxEntries: 100_000})
	case "redis":
		return redisstore.New(newRedis()), nil
	case "memcached":
		c := memcache.New(mcAddr)
		c.MaxIdleConns = 16
		return memcachestore.New(c), nil
	case "tiered":
		c := newRedis()
		return tiered.New(shardcache.Config[string, []byte]{MaxEntries: 10_000}, redisstore.New(c),
			tiered.Options{L1TTL: 2 * time.Second, Invalidator: redisstore.NewInvalidator(c, "service:invalidations")})
	}
	return nil, fmt.Errorf("unknown -backend %q: want memory, redis, memcached or tiered", backend)
}

// User is what the slow lookup returns.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// slowLookup stands for a database query: 100 ms per call.
func slowLookup(ctx context.Context, id string) (User, error) {
	select {
	case <-time.After(100 * time.Millisecond):
		return User{ID: id, Name: "user " + id}, nil
	case <-ctx.Done():
		return User{}, ctx.Err()
	}
}

// jsonCodec stores a User as JSON, readable from any language sharing the
// backend.
type jsonCodec struct{}

func (jsonCodec) Append(dst []byte, u User) ([]byte, error) {
	b, err := json.Marshal(u)
	return append(dst, b...), err
}

func (jsonCodec) Decode(src []byte) (User, error) {
	var u User
	err := json.Unmarshal(src, &u)
	return u, err
}

// newHandler serves GET /user/{id} from the cache, loading misses with
// lookup (once per id however many requests ask at once) and caching them
// for a minute. A cache error is a 502: the backend is down, and falling
// through to the database for every request would take it down too.
func newHandler(s store.Store, lookup func(context.Context, string) (User, error)) http.Handler {
	users := store.NewTyped[User](s, jsonCodec{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		start := time.Now()
		loaded := false
		u, err := users.GetOrLoad(ctx, "user:"+r.PathValue("id"), func(ctx context.Context, key string) (User, time.Duration, error) {
			loaded = true
			u, err := lookup(ctx, strings.TrimPrefix(key, "user:"))
			return u, time.Minute, err
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("X-Cache", map[bool]string{true: "miss", false: "hit"}[loaded])
		w.Header().Set("X-Took", time.Since(start).String())
		json.NewEncoder(w).Encode(u)
	})
	return mux
}
