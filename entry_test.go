package shardcache

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestEntrySize pins the entry layout that Get relies on: the fields a
// hit reads (key, value, stamp, deadline) lie in the first 64 bytes, and
// int/int and string/int entries both fit the 80-byte size class.
func TestEntrySize(t *testing.T) {
	var e entry[int, int]
	require.LessOrEqual(t, unsafe.Sizeof(e), uintptr(80))
	var s entry[string, int]
	require.LessOrEqual(t, unsafe.Sizeof(s), uintptr(80))
	require.LessOrEqual(t, unsafe.Offsetof(s.deadline)+8, uintptr(64))
	require.LessOrEqual(t, unsafe.Offsetof(s.stamp)+4, uintptr(64))
}
