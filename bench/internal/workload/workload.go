// Package workload builds the key sequences the benchmarks and the hit-ratio
// simulator replay: Zipf-distributed keys, Zipf polluted by sequential scans,
// and simple loops. Sequences are built once, before any timing, so drawing a
// key never shows in a measurement.
package workload

import (
	"strconv"

	"github.com/shardcache/shardcache/bench/internal/zipf"
)

// Scramble maps a rank to a key by a bijection of uint64 (the splitmix64
// finaliser). Without it the hottest keys would be 0, 1, 2, …, which flatters
// weak hash functions and shard pickers; with it keys look like random IDs
// while distinct ranks still give distinct keys.
func Scramble(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Zipf returns length keys whose ranks follow a Zipf law of skew s over
// keyspace ranks, scrambled. The same arguments always give the same keys.
func Zipf(keyspace int, s float64, length int, seed uint64) ([]uint64, error) {
	g, err := zipf.New(keyspace, s, seed)
	if err != nil {
		return nil, err
	}
	keys := make([]uint64, length)
	for i := range keys {
		keys[i] = Scramble(g.Next())
	}
	return keys, nil
}

// ZipfWithScans is Zipf with a sequential scan of scanLen fresh keys inserted
// after every `every` Zipf requests: the one-hit wonders of a backup job or a
// table scan, which evict a plain LRU's hot set. Scan keys come from ranks
// above keyspace, so they never collide with Zipf keys nor repeat.
// The result has length Zipf requests plus the scans between them.
func ZipfWithScans(keyspace int, s float64, length, every, scanLen int, seed uint64) ([]uint64, error) {
	g, err := zipf.New(keyspace, s, seed)
	if err != nil {
		return nil, err
	}
	keys := make([]uint64, 0, length+length/max(every, 1)*scanLen)
	next := uint64(keyspace) // first rank no Zipf draw can produce
	for i := range length {
		if every > 0 && i > 0 && i%every == 0 {
			for range scanLen {
				keys = append(keys, Scramble(next))
				next++
			}
		}
		keys = append(keys, Scramble(g.Next()))
	}
	return keys, nil
}

// Loop returns length requests cycling through n distinct keys in order:
// the pattern on which LRU gets no hits at all once n exceeds its capacity.
func Loop(n, length int) []uint64 {
	keys := make([]uint64, length)
	for i := range keys {
		keys[i] = Scramble(uint64(i % n))
	}
	return keys
}

// Strings formats keys as strings (about 20 bytes each, like a typical ID
// key). Equal keys share one string, so a ring of 2^20 keys costs memory only
// for its distinct keys.
func Strings(keys []uint64) []string {
	interned := make(map[uint64]string)
	out := make([]string, len(keys))
	for i, k := range keys {
		s, ok := interned[k]
		if !ok {
			s = "key:" + strconv.FormatUint(k, 16)
			interned[k] = s
		}
		out[i] = s
	}
	return out
}

// Unique counts the distinct keys in keys.
func Unique(keys []uint64) int {
	seen := make(map[uint64]struct{}, len(keys)/4)
	for _, k := range keys {
		seen[k] = struct{}{}
	}
	return len(seen)
}
