package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardcache/shardcache/store"
)

// Invalidator carries key invalidations between processes over one Redis
// pub/sub channel: Publish sends the keys a process wrote or deleted, and
// the function given to Subscribe receives the keys every other Invalidator
// on the channel published (an Invalidator does not receive its own). It
// implements tiered.Invalidator.
//
// Pub/sub delivers at most once: a message published while a subscriber is
// disconnected is lost to it. Subscribe's reset function is called whenever
// that may have happened (the subscription broke or was re-established),
// and the tiered store then drops its whole near-cache. On a Cluster, PUBLISH
// reaches the subscribers of every node.
//
// A message is the publisher's 8-byte id followed by each key as a uvarint
// length and its bytes, so keys may hold any byte.
//
// Methods are safe for concurrent use. Subscribe may be called once.
type Invalidator struct {
	c       redis.UniversalClient
	channel string
	id      [8]byte

	mu     sync.Mutex
	ps     *redis.PubSub
	cancel context.CancelFunc
	done   chan struct{}
	closed bool
}

// NewInvalidator returns an Invalidator on channel over client. The client
// may be the one a Store uses; the Invalidator does not close it.
func NewInvalidator(client redis.UniversalClient, channel string) *Invalidator {
	inv := &Invalidator{c: client, channel: channel}
	rand.Read(inv.id[:])
	return inv
}

// Publish sends keys to the other subscribers of the channel with one
// PUBLISH. It returns an error naming the first key if the publish fails.
func (inv *Invalidator) Publish(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	n := len(inv.id)
	for _, k := range keys {
		n += binary.MaxVarintLen32 + len(k)
	}
	msg := make([]byte, 0, n)
	msg = append(msg, inv.id[:]...)
	for _, k := range keys {
		msg = binary.AppendUvarint(msg, uint64(len(k)))
		msg = append(msg, k...)
	}
	if err := inv.c.Publish(ctx, inv.channel, msg).Err(); err != nil {
		return store.Wrap(name, "publish", keys[0], err)
	}
	return nil
}

// Subscribe subscribes to the channel and, until Close, calls invalidate
// with the keys of each message another Invalidator publishes, and reset
// whenever messages may have been lost: when the connection breaks and when
// the subscription is established again. Both are called from one goroutine
// of the Invalidator's, one call at a time. Subscribe returns once the
// subscription is in place, or with the error that kept it from being.
func (inv *Invalidator) Subscribe(ctx context.Context, invalidate func(keys []string), reset func()) error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.closed {
		return store.Wrap(name, "subscribe", "", store.ErrClosed)
	}
	if inv.ps != nil {
		return store.Wrap(name, "subscribe", "", errors.New("already subscribed"))
	}
	ps := inv.c.Subscribe(ctx, inv.channel)
	// The first reply confirms the subscription.
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return store.Wrap(name, "subscribe", "", err)
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	inv.ps, inv.cancel, inv.done = ps, cancel, make(chan struct{})
	go inv.loop(loopCtx, ps, invalidate, reset)
	return nil
}

func (inv *Invalidator) loop(ctx context.Context, ps *redis.PubSub, invalidate func([]string), reset func()) {
	defer close(inv.done)
	var keys []string
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// go-redis reconnects and resubscribes on the next Receive;
			// what was published meanwhile is lost.
			reset()
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				reset() // a resubscription: the gap before it is unknown
			}
		case *redis.Message:
			keys = inv.decode(keys[:0], m.Payload)
			if len(keys) > 0 {
				invalidate(keys)
			}
		}
	}
}

// decode appends the keys of a message to keys, or none for one of inv's
// own or one that is malformed.
func (inv *Invalidator) decode(keys []string, payload string) []string {
	if len(payload) < len(inv.id) || payload[:len(inv.id)] == string(inv.id[:]) {
		return keys
	}
	b := []byte(payload[len(inv.id):])
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return keys // malformed: keep what parsed
		}
		keys = append(keys, string(b[w:w+int(n)]))
		b = b[w+int(n):]
	}
	return keys
}

// Close ends the subscription and waits for its goroutine to exit. It is
// idempotent and does not close the client.
func (inv *Invalidator) Close() error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.closed {
		return nil
	}
	inv.closed = true
	if inv.ps == nil {
		return nil
	}
	inv.cancel()
	err := inv.ps.Close()
	<-inv.done
	return store.Wrap(name, "close-invalidator", "", err)
}
