package mix

import "testing"

// TestUint64 checks known outputs of the MurmurHash3 finalizer (fmix64) and
// that nearby inputs land far apart in the low bits.
func TestUint64(t *testing.T) {
	for in, want := range map[uint64]uint64{
		0: 0,
		1: 0xb456bcfc34c2cb2c,
	} {
		if got := Uint64(in); got != want {
			t.Errorf("Uint64(%d) = %#x, want %#x", in, got, want)
		}
	}
	low := map[uint64]bool{}
	for k := range uint64(64) {
		low[Uint64(k)&63] = true
	}
	if len(low) < 32 {
		t.Errorf("keys 0..63 fill only %d of 64 low-bit buckets", len(low))
	}
}
