package shardcache

import (
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/shardcache/shardcache/internal/policy"
)

// Config configures a Cache. The zero value is valid: an unbounded cache with
// the default shard count, no expiry and no callbacks. Every field's zero
// value means "the default".
type Config[K comparable, V any] struct {
	// Shards is the number of lock stripes, rounded up to a power of two.
	// 0 picks DefaultShards(), or fewer for a small cache: with MaxEntries
	// set, a default-sharded cache gives every shard at least 128 entries
	// (a cache of 1000 entries gets 4 shards), because each shard's
	// eviction policy sees only its share of the keys and judges worse the
	// fewer it holds. More shards mean less contention and a slightly less
	// exact global eviction order (each shard evicts its own policy's
	// victim). A bounded cache never gets more shards than it has entries
	// (or cost units), so that every shard's policy has a share to adapt
	// within.
	Shards int

	// MaxEntries bounds the number of entries in the whole cache; 0 means
	// no bound. Len never exceeds it, and as many distinct keys as it
	// allows fit, whatever the shard count: a full shard evicts its own
	// policy's victim, or another shard's (see docs/design.md). New
	// allocates for what the cache holds, not for this bound.
	// SetMaxEntries changes it at run time.
	MaxEntries int
	// MaxCost bounds the sum of entry costs in the whole cache; 0 means no
	// bound. Any entry whose cost is at most MaxCost can be stored, at any
	// shard count, evicting others to make room; one that costs more is
	// not stored at all and Stats counts it as Rejected. Use Cost with
	// MaxCost for a byte budget. SetMaxCost changes it at run time.
	MaxCost int64
	// Cost returns an entry's cost, for example len(key)+len(value) for a
	// byte budget. nil: every entry costs 1. It is called once per value
	// about to be stored, on the goroutine of the call storing it:
	//   - with no lock held by Set, SetWithTTL (not with a negative ttl,
	//     which deletes), Update (even for an absent key), GetOrLoad after
	//     a load (not with a negative ttl) and LoadFrom/LoadFile for each
	//     entry they store;
	//   - under the key's shard write lock by Compute, for ComputeSet only,
	//     and by Tx.Set and Tx.SetKeepTTL inside Atomic: there it must not
	//     call the cache (that would deadlock).
	// An entry with a negative cost is not stored.
	Cost func(key K, value V) int64

	// DefaultTTL is the time to live Set gives an entry; 0 means no expiry.
	DefaultTTL time.Duration

	// OnRemove, if set, is called once for every entry that leaves the
	// cache, with the reason. It is never called under a shard lock, so it
	// may call the cache; it runs on the goroutine whose call removed the
	// entry (the background expiry goroutine for ReasonExpired, most of the
	// time), so it should be quick. Close does not call it.
	OnRemove func(key K, value V, reason RemoveReason)

	// Hasher maps a key to 64 bits; the low bits pick the shard and the
	// whole hash keys the shard's map. nil picks xxhash for string keys, a
	// fast bijective mixer for integer keys and hash/maphash otherwise. A
	// custom Hasher may collide: keys with equal hashes are still kept apart,
	// but many collisions make lookups slower.
	Hasher func(key K) uint64

	// Eviction.

	// Policy picks the entry each shard evicts when it is over budget: LRU
	// (the zero value) or ARC; or NoEviction, which keeps no order and
	// refuses new entries once the cache is full. Each shard runs its own
	// instance, sized from its share of MaxEntries.
	Policy Policy

	// Admission filters new entries before they may displace old ones:
	// AdmitAll (the zero value) or AdmitTinyLFU. With LRU, AdmitTinyLFU
	// makes each shard a W-TinyLFU cache; with ARC, it filters ARC's
	// insertions. See Admission.
	Admission Admission

	// Snapshots (the format is in docs/snapshot-format.md).

	// KeyCodec and ValueCodec encode keys and values in snapshots (SaveTo,
	// SaveFile, LoadFrom, LoadFile). nil picks the built-in codec: the
	// bytes themselves for string and []byte, a varint for the integer
	// types, fixed-width bits for bool, float32 and float64, and GobCodec
	// for anything else (slow; supply a Codec for a type saved often, such
	// as StringCodec for a named string type). They are picked once, in New.
	// A snapshot records the key and value types and the codecs' names, and
	// loads only into a cache whose types and codecs are the same
	// (ErrSnapshotType otherwise).
	KeyCodec   Codec[K]
	ValueCodec Codec[V]

	// SnapshotPath, if set, is the file Close saves a final snapshot to (as
	// SaveFile), and the file periodic snapshots replace. "" means none.
	// The file need not exist, but its directory must: New refuses a path
	// whose directory is missing or not a directory, or that is a
	// directory itself (an error wrapping ErrInvalidConfig naming the
	// path), so that a bad path is found before the cache holds anything.
	SnapshotPath string

	// RestoreSnapshot makes New load SnapshotPath (as LoadFile) before it
	// returns, so that a restarted process comes back warm with one
	// setting. A missing file is not an error: the cache starts empty, as
	// on a first start. A file that fails to load makes New return that
	// error (wrapping ErrCorruptSnapshot, ErrSnapshotType, ...) and no
	// cache, rather than start empty and overwrite the file at Close. It
	// must not be set without SnapshotPath.
	RestoreSnapshot bool

	// SnapshotEvery > 0 saves a snapshot to SnapshotPath periodically, from
	// a background goroutine, in addition to the one on Close: each save
	// starts SnapshotEvery after the previous one ended, and never sooner
	// than that save's own duration after it ended, so periodic saves take
	// at most half the time even with a tiny SnapshotEvery. 0 means only on
	// Close. It must not be negative, nor set without SnapshotPath.
	SnapshotEvery time.Duration

	// OnSnapshotError, if set, is called with the error of every periodic
	// snapshot that fails; the next period tries again. It runs on the
	// snapshot goroutine, never under a lock, and may call the cache,
	// Close included. nil: such errors are dropped. The final snapshot's
	// error is returned by Close instead.
	OnSnapshotError func(err error)
}

// maxShards bounds Config.Shards.
const maxShards = 1 << 16

// DefaultShards returns the shard count New uses when Config.Shards is 0
// and the cache is large enough (see Config.Shards): 16 per logical CPU
// (GOMAXPROCS), rounded up to a power of two, at least 64. docs/design.md
// shows the benchmark behind this choice.
func DefaultShards() int {
	return max(64, ceilPow2(16*runtime.GOMAXPROCS(0)))
}

// minShardEntries is the fewest entries a default-sharded cache gives a
// shard; with the shard count a power of two, each gets 128 to 255.
// TestShardSplitTable in bench/internal/sim splits small capacities of the
// real traces over 1 to 64 policy instances: in 64 shards, 10 of its 30 rows
// lose more than a point against one instance (gli at 2000 entries: 57.4% down
// to 50.4% with LRU; loop at 1000: 97.3% down to 82.6% with W-TinyLFU); at
// the shard counts this rule picks, 2 rows do (-1.75 and -1.86).
// docs/benchmarks/shards.md has the conclusion and the command.
const minShardEntries = 128

// floorPow2 returns the largest power of two not above n, and 1 for n < 1.
func floorPow2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << (bits.Len(uint(n)) - 1)
}

func ceilPow2(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(n-1))
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}

// validate checks cfg and returns the shard count to use.
func (cfg *Config[K, V]) validate() (int, error) {
	switch {
	case cfg.Shards < 0:
		return 0, invalid("Shards is negative (%d)", cfg.Shards)
	case cfg.Shards > maxShards:
		return 0, invalid("Shards is %d, more than the maximum %d", cfg.Shards, maxShards)
	case cfg.MaxEntries < 0:
		return 0, invalid("MaxEntries is negative (%d)", cfg.MaxEntries)
	case cfg.MaxCost < 0:
		return 0, invalid("MaxCost is negative (%d)", cfg.MaxCost)
	case cfg.DefaultTTL < 0:
		return 0, invalid("DefaultTTL is negative (%v)", cfg.DefaultTTL)
	case cfg.SnapshotEvery < 0:
		return 0, invalid("SnapshotEvery is negative (%v)", cfg.SnapshotEvery)
	case cfg.SnapshotEvery > 0 && cfg.SnapshotPath == "":
		return 0, invalid("SnapshotEvery is set (%v) without SnapshotPath", cfg.SnapshotEvery)
	case cfg.RestoreSnapshot && cfg.SnapshotPath == "":
		return 0, invalid("RestoreSnapshot is set without SnapshotPath")
	}
	if err := checkPolicy(cfg.Policy, cfg.Admission); err != nil {
		return 0, err
	}
	if err := checkSnapshotPath(cfg.SnapshotPath); err != nil {
		return 0, err
	}
	n := cfg.Shards
	if n == 0 {
		n = DefaultShards()
		if cfg.MaxEntries > 0 {
			n = min(n, floorPow2(cfg.MaxEntries/minShardEntries))
		}
	}
	n = ceilPow2(n)
	// Every shard must be able to hold something: with fewer entries (or
	// cost units) than shards some shards would get a budget of zero and
	// silently refuse every key that hashes to them.
	for n > 1 && ((cfg.MaxEntries > 0 && n > cfg.MaxEntries) || (cfg.MaxCost > 0 && int64(n) > cfg.MaxCost)) {
		n /= 2
	}
	return n, nil
}

// checkPolicy refuses a Policy or Admission that is not a named constant,
// and NoEviction with an admission filter (it has no victim to judge).
func checkPolicy(p Policy, a Admission) error {
	switch {
	case p > NoEviction:
		return invalid("unknown Policy %v", p)
	case a > AdmitTinyLFU:
		return invalid("unknown Admission %v", a)
	case p == NoEviction && a != AdmitAll:
		return invalid("Admission %v needs a Policy that evicts, not NoEviction", a)
	}
	return nil
}

// checkSnapshotPath refuses a SnapshotPath that Close could never save to,
// so that New fails rather than Close, after the entries are gone: its
// directory must exist and be a directory, and it must not be a directory
// itself. "" (no snapshots) passes. The directory's permissions are not
// checked: only a save can tell, and it reports them.
func checkSnapshotPath(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	switch fi, err := os.Stat(dir); {
	case err != nil:
		return invalid("SnapshotPath %s: its directory: %v", path, err)
	case !fi.IsDir():
		return invalid("SnapshotPath %s: %s is not a directory", path, dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return invalid("SnapshotPath %s is a directory", path)
	}
	return nil
}

// split divides total into n budgets that sum to total exactly; 0 stays 0
// (unbounded).
func split[T int | int64](total T, n, i int) T {
	if total == 0 {
		return 0
	}
	b := total / T(n)
	if T(i) < total%T(n) {
		b++
	}
	return b
}

// Policy names the eviction policy of a cache's shards (Config.Policy).
// Every policy that evicts sees the accesses the read buffer records, in
// the same way (see the package documentation): with one goroutine, every
// hit except those on entries promoted moments ago, and under contention a
// sample. NoEviction records none.
type Policy uint8

const (
	// LRU evicts the shard's least recently used entry. It is the default.
	LRU Policy = iota
	// ARC is the Adaptive Replacement Cache (Megiddo and Modha, FAST
	// 2003): recency and frequency lists whose balance adapts to the
	// workload through the history of recently evicted keys (hashes only,
	// at most the shard's capacity of them). It resists scans better than
	// LRU. Its history costs 33 to 49 bytes per entry of capacity once the
	// cache has evicted as many entries as it holds (about 34 at 1024
	// entries per shard; the index rounds up to a power of two), and is
	// allocated as it fills, not by New. With MaxCost but no
	// MaxEntries, it adapts on the number of entries the shard holds when
	// the cost budget first makes it evict.
	ARC
	// NoEviction keeps no order and never evicts, as Redis's noeviction
	// policy: once MaxEntries or MaxCost is reached, a Set of a new key is
	// refused (it returns false and counts in Stats.Rejected) until
	// entries are deleted or expire, and a replacement that no longer fits
	// is refused and removes the old value, as with every policy. Gets
	// record nothing and writes promote nothing, so it is the cheapest
	// policy, for a cache that must not lose what it holds or that has no
	// bound at all. Lowering the bounds with SetMaxEntries or SetMaxCost
	// keeps every entry and refuses new ones until the cache is back
	// within them, and a snapshot loaded into it keeps the entries that
	// fit and counts the rest in Rejected. It cannot be combined with
	// AdmitTinyLFU.
	NoEviction
)

// String returns the policy's name, such as "ARC".
func (p Policy) String() string {
	switch p {
	case LRU:
		return "LRU"
	case ARC:
		return "ARC"
	case NoEviction:
		return "NoEviction"
	}
	return "Policy(" + strconv.Itoa(int(p)) + ")"
}

// Admission names the admission filter of a cache's shards
// (Config.Admission): whether a new entry must prove itself before it may
// displace an old one.
type Admission uint8

const (
	// AdmitAll stores every new entry and evicts the policy's victim. It is
	// the default.
	AdmitAll Admission = iota
	// AdmitTinyLFU keeps a TinyLFU frequency sketch per shard (4-bit
	// counters, 8 bytes per entry held, allocated as the cache fills, halved every ten capacities'
	// worth of accesses) and lets a new entry displace the victim only if
	// it is estimated the more popular of the two, so a scan or a burst of
	// one-off keys cannot flush a frequently used set.
	//
	// With Policy LRU, each shard becomes a W-TinyLFU cache (Einziger et
	// al.): new entries go to a small LRU window, whose overflow competes
	// with the victim of a segmented-LRU main space, and the window's size
	// adapts by hill climbing between recency-biased and frequency-biased
	// workloads. With Policy ARC, the filter judges the keys ARC inserts
	// into its recency list T1; keys ARC remembers as recently evicted are
	// always admitted.
	AdmitTinyLFU
)

// String returns the admission filter's name, such as "TinyLFU".
func (a Admission) String() string {
	switch a {
	case AdmitAll:
		return "All"
	case AdmitTinyLFU:
		return "TinyLFU"
	}
	return "Admission(" + strconv.Itoa(int(a)) + ")"
}

// newPolicy returns the policy of one shard holding at most capacity
// entries (0: bounded by cost only, or unbounded).
func newPolicy[T any](p Policy, a Admission, capacity int) policy.Policy[T] {
	switch {
	case p == NoEviction:
		return policy.NewNone[T]()
	case p == ARC && a == AdmitTinyLFU:
		return policy.NewARCTinyLFU[T](capacity)
	case p == ARC:
		return policy.NewARC[T](capacity)
	case a == AdmitTinyLFU:
		return policy.NewWTinyLFU[T](capacity)
	}
	return policy.NewLRU[T]()
}
