package trace_test

import (
	"testing"

	"github.com/shardcache/shardcache/bench/internal/tracetest"
)

// TestRealTraces loads the small real traces and checks the request and
// unique-key counts stated in the traces README.
func TestRealTraces(t *testing.T) {
	for _, tc := range []struct {
		file             string
		requests, unique int
	}{
		{"gli.lirs.gz", 6015, 2529},
		{"loop.lirs.gz", 505500, 1011},
		{"multi2.lirs.gz", 26311, 5684},
		{"web12.cache2k.xz", 95607, 13756},
	} {
		t.Run(tc.file, func(t *testing.T) {
			keys := tracetest.Keys(t, tc.file)
			seen := make(map[uint64]bool)
			for _, k := range keys {
				seen[k] = true
			}
			if len(keys) != tc.requests || len(seen) != tc.unique {
				t.Errorf("%s: %d requests, %d unique; README says %d, %d",
					tc.file, len(keys), len(seen), tc.requests, tc.unique)
			}
		})
	}
}
