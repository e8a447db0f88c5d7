package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/shardcache/shardcache/client"
	"github.com/shardcache/shardcache/client/cachev1"
)

// inProcessConn serves srv over an in-memory listener and returns a
// connection to it, and a function that closes both. Against a real
// server, call client.New("host:port", ...) instead.
func inProcessConn(srv cachev1.CacheServer) (*grpc.ClientConn, func()) {
	lis := bufconn.Listen(1 << 20)
	g := grpc.NewServer()
	cachev1.RegisterCacheServer(g, srv)
	go g.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///in-process",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	return conn, func() { conn.Close(); g.Stop() }
}

func Example() {
	// The in-memory fake of the tests stands in for shardcached here.
	conn, stop := inProcessConn(newFake())
	defer stop()
	c := client.NewFromConn(conn)
	ctx := context.Background()

	if err := c.Set(ctx, "greeting", []byte("hello"), client.WithTTL(time.Minute)); err != nil {
		log.Fatal(err)
	}
	v, err := c.Get(ctx, "greeting")
	if err != nil {
		log.Fatal(err)
	}
	ttl, err := c.TTL(ctx, "greeting")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, expires in %v\n", v, ttl)

	err = c.Set(ctx, "greeting", []byte("hi"), client.IfAbsent())
	fmt.Println(errors.Is(err, client.ErrConditionFailed), status.Code(err))

	_, err = c.Get(ctx, "nobody")
	fmt.Println(errors.Is(err, client.ErrNotFound))

	n, err := c.Increment(ctx, "visits", 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("visits:", n)

	items, err := c.GetMany(ctx, []string{"greeting", "nobody"})
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range items {
		fmt.Printf("%s found=%v value=%q\n", it.Key, it.Found, it.Value)
	}

	for key, err := range c.Scan(ctx, "*", 100) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("key:", key)
	}
	// Output:
	// hello, expires in 1m0s
	// true FailedPrecondition
	// true
	// visits: 3
	// greeting found=true value="hello"
	// nobody found=false value=""
	// key: greeting
	// key: visits
}

func ExampleClient_TTL() {
	conn, stop := inProcessConn(newFake())
	defer stop()
	c := client.NewFromConn(conn)
	ctx := context.Background()

	if err := c.Set(ctx, "forever", []byte("v")); err != nil {
		log.Fatal(err)
	}
	ttl, err := c.TTL(ctx, "forever")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ttl == client.NoTTL)
	// Output: true
}

func ExampleNew() {
	// Compiled only: it needs a running shardcached.
	c, err := client.New("localhost:7380",
		client.WithPassword("requirepass-password"),
		client.WithTLS(nil), // verify the server against the system roots
	)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_ = c.Set(context.Background(), "k", []byte("v"), client.WithTTL(time.Hour))
}
