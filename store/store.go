package store

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// The sentinels every adapter's errors wrap. Match them with errors.Is.
var (
	// ErrNotFound is returned by Get, GetItem and TTL for a key that is
	// missing or expired.
	ErrNotFound = errors.New("store: not found")
	// ErrInvalidTTL is returned for a negative ttl; nothing is changed (in
	// SetMany: no item is stored).
	ErrInvalidTTL = errors.New("store: invalid ttl")
	// ErrTooLarge is returned for a value the backend cannot hold, such as
	// one beyond memcached's item size limit (its -I option).
	ErrTooLarge = errors.New("store: value too large")
	// ErrInvalidKey is returned for a key outside 1..MaxKeyLen bytes.
	ErrInvalidKey = errors.New("store: invalid key")
	// ErrClosed is returned by every call made after Close.
	ErrClosed = errors.New("store: closed")
)

// MaxKeyLen is the longest key every adapter accepts, in bytes.
const MaxKeyLen = 4096

// Item is one key's value and time to live, as SetMany stores it and
// ItemGetter returns it. TTL 0 means no expiry.
type Item struct {
	Key   string
	Value []byte
	TTL   time.Duration
}

// Store is a cache of byte values under string keys, held by some backend.
// Implementations are safe for concurrent use by any number of goroutines,
// and every method honours ctx (see the package documentation).
type Store interface {
	// Get returns the value of key, or an error wrapping ErrNotFound if it
	// is missing or expired. The caller owns the returned slice.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (0: no expiry), replacing any
	// previous value and its ttl. A negative ttl returns ErrInvalidTTL.
	// The store does not keep value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// GetMany returns the values of the keys that are present; missing and
	// expired keys are absent from the map, which is never nil on success.
	GetMany(ctx context.Context, keys []string) (map[string][]byte, error)
	// SetMany stores every item, as Set would, in as few round trips as the
	// backend allows. It is not atomic: after an error some items may be
	// stored. A negative TTL in any item stores none of them.
	SetMany(ctx context.Context, items []Item) error
	// TTL returns the time key has left to live (0: no expiry), to the
	// backend's resolution, or an error wrapping ErrNotFound.
	TTL(ctx context.Context, key string) (time.Duration, error)
	// Close releases the store's resources, including the client it was
	// built on. Later calls return ErrClosed; Close itself is idempotent.
	Close() error
}

// ItemGetter is implemented by stores that read a value together with its
// remaining time to live in one round trip. The tiered store uses it to give
// its near-cache copies no longer a life than the key has. Implementations
// have the concurrency contract of Store.
type ItemGetter interface {
	// GetItem returns key's value and time left (0: no expiry), or an error
	// wrapping ErrNotFound.
	GetItem(ctx context.Context, key string) (Item, error)
	// GetItems returns the items of the keys that are present, in no
	// particular order.
	GetItems(ctx context.Context, keys []string) ([]Item, error)
}

// Error is the error adapters return: the adapter, the operation and the
// key it failed on (empty for a failure of a whole batch), around the cause.
// Unwrap returns the cause, so errors.Is and errors.As see through it.
type Error struct {
	Store string // the adapter's package name, such as "redisstore"
	Op    string // the method, such as "get" or "set-many"
	Key   string // the key concerned, if one is
	Err   error
}

// maxKeyInMessage bounds how much of a key an error message quotes: keys
// may be 4 KiB of binary.
const maxKeyInMessage = 64

func (e *Error) Error() string {
	msg := e.Store + ": " + e.Op
	if e.Key != "" {
		k := e.Key
		if len(k) > maxKeyInMessage {
			k = k[:maxKeyInMessage]
			msg += " " + strconv.Quote(k) + "..."
		} else {
			msg += " " + strconv.Quote(k)
		}
	}
	return msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Wrap returns err wrapped in an *Error naming the adapter, operation and
// key, or nil if err is nil. Adapters outside this module may use it too.
func Wrap(storeName, op, key string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Store: storeName, Op: op, Key: key, Err: err}
}

// CheckKey returns ErrInvalidKey for a key outside 1..MaxKeyLen bytes.
func CheckKey(key string) error {
	if len(key) == 0 || len(key) > MaxKeyLen {
		return ErrInvalidKey
	}
	return nil
}

// CheckTTL returns ErrInvalidTTL for a negative ttl.
func CheckTTL(ttl time.Duration) error {
	if ttl < 0 {
		return ErrInvalidTTL
	}
	return nil
}

// CheckItems checks every item's key and TTL and returns the first problem,
// wrapped with op and the item's key, so that SetMany can refuse a batch
// before storing any of it.
func CheckItems(storeName, op string, items []Item) error {
	for _, it := range items {
		if err := CheckKey(it.Key); err != nil {
			return Wrap(storeName, op, it.Key, err)
		}
		if err := CheckTTL(it.TTL); err != nil {
			return Wrap(storeName, op, it.Key, err)
		}
	}
	return nil
}

// Clone returns a copy of b that shares no memory with it, never nil: an
// empty or nil b gives an empty, non-nil slice, since an empty value is a
// value.
func Clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}
